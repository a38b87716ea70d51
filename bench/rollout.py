"""Rollout throughput: episodes/s of `evaluate()` against bare HTTP clients doing the same calls.

    .venv/bin/python bench/rollout.py [--delay 0.2] [--levels 1,16,64,256] [--rounds 5]

A fake OpenAI-compatible server (aiohttp, in its own process so it never competes with the
client for the GIL) answers every chat completion after `--delay` seconds. An episode is two
calls: the model calls a tool, sees its result, then answers in text, which ends the episode.
Ideal episodes/s at concurrency c is c / (2 * delay); each row prints the measured rate as a
ratio to that. The three clients run the same episodes in the same run:

  evaluate()   `agentgym eval`'s own path: registry env, openai policy, runner, store (fsync)
  AsyncOpenAI  one bare `openai.AsyncOpenAI` client (the SDK's default transport)
  aiohttp      one bare `aiohttp.ClientSession` posting the same JSON

Goal: evaluate() at least 0.9 of the ideal at 64, never below the bare clients, no error at 256.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MODEL = "bench-model"
SYSTEM = "You are a note taker. Call `note` once, then say you are done."


# ---- the fake server (child process) -----------------------------------------------------------

def _reply(body: dict) -> dict:
    """First turn: a tool call; after the tool's result: text (which ends the episode)."""
    last = body["messages"][-1]
    if last["role"] == "tool":
        message = {"role": "assistant", "content": "Done."}
        finish = "stop"
    else:
        call = {"id": "call_0", "type": "function",
                "function": {"name": "note", "arguments": json.dumps({"text": last["content"]})}}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        finish = "tool_calls"
    return {"id": "chatcmpl-bench", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", MODEL),
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


def serve(delay: float, ready: multiprocessing.Queue) -> None:
    from aiohttp import web

    async def completions(request: web.Request) -> web.Response:
        body = await request.json()
        await asyncio.sleep(delay)
        return web.json_response(_reply(body))

    async def cpu(request: web.Request) -> web.Response:  # the server's own CPU time so far
        return web.json_response({"cpu_s": time.process_time()})

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [
            {"id": MODEL, "object": "model", "created": 0, "owned_by": "bench"}]})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", completions)
        app.router.add_get("/v1/models", models)
        app.router.add_get("/v1/cpu", cpu)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        ready.put(site._server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


# ---- the env: two calls an episode --------------------------------------------------------------

def note(text: str, *, notes: list) -> str:
    """Write down a note.

    Args:
        text: What to write down.
    """
    notes.append(text)
    return f"noted ({len(notes)})"


def two_call_env(n_tasks: int = 64, max_steps: int = 5):
    """Built per episode by the registry, like any env; tools and tasks are made once (as the
    tool-use family keeps its toolbox at module level)."""
    from agentgym.core.env import Env
    from agentgym.core.types import Message, Reward, Task
    from agentgym.tools import Toolbox, parse_tool_calls, tool

    global _TwoCallEnv, _tasks
    if "_TwoCallEnv" not in globals():
        toolbox = Toolbox([tool(note)])
        specs = toolbox.specs

        class TwoCallEnv(Env):
            @property
            def tools(self):
                return specs

            async def _reset(self, task, seed):
                self.notes: list[str] = []
                return [Message(role="system", content=SYSTEM),
                        Message(role="user", content=task.prompt)]

            async def _step(self, action):
                parsed = parse_tool_calls(action)
                out = [Message(role="assistant", content=parsed.text, tool_calls=parsed.calls)]
                for call in parsed.calls:
                    message, _ = await toolbox.call(call, notes=self.notes)
                    out.append(message)
                return out, Reward(value=0.0), not parsed.calls

            async def score(self):
                return Reward(value=float(len(self.notes) == 1), source="bench")

        _TwoCallEnv, _tasks = TwoCallEnv, {}
    if n_tasks not in _tasks:
        _tasks[n_tasks] = [Task(id=f"t{i:05d}", family="bench", prompt=f"Note the number {i}.")
                           for i in range(n_tasks)]
    return _TwoCallEnv(_tasks[n_tasks], max_steps=max_steps)


# ---- the three clients ----------------------------------------------------------------------------

async def run_evaluate(base_url: str, episodes: int, concurrency: int) -> tuple[float, int]:
    from agentgym.core.registry import register, registry
    from agentgym.evaluation.run import evaluate

    if "bench/TwoCall-v0" not in registry():
        register("bench/TwoCall-v0", two_call_env)
    started: list[float] = []
    with tempfile.TemporaryDirectory() as out:
        results = await evaluate(
            "bench/TwoCall-v0", f"openai:{MODEL}", out, concurrency=concurrency,
            env_kwargs={"n_tasks": episodes},
            policy_args={"base_url": base_url, "api_key": "bench"},
            on_start=lambda total: started.append(time.perf_counter()),
        )
        wall = time.perf_counter() - started[0]
    bad = results["n_errors"] + results["n_infra_errors"] + (results["n_episodes"] - round(
        results["success_rate"] * results["n_episodes"]))
    return wall, bad


def _opening(i: int) -> list[dict]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"Note the number {i}."}]


def _tool_turn(reply: dict) -> list[dict]:
    call = reply["tool_calls"][0]
    return [reply, {"role": "tool", "tool_call_id": call["id"], "content": "noted (1)"}]


_TOOLS = [{"type": "function", "function": {
    "name": "note", "description": "Write down a note.",
    "parameters": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}}}]


async def _many(episodes: int, concurrency: int, one) -> tuple[float, int]:
    semaphore = asyncio.Semaphore(concurrency)
    failures = 0

    async def guarded(i: int) -> None:
        nonlocal failures
        async with semaphore:
            try:
                await one(i)
            except Exception as e:
                failures += 1
                if failures == 1:
                    print(f"    first failure: {type(e).__name__}: {e}", file=sys.stderr)

    start = time.perf_counter()
    await asyncio.gather(*(guarded(i) for i in range(episodes)))
    return time.perf_counter() - start, failures


async def run_bare_openai(base_url: str, episodes: int, concurrency: int,
                          aiohttp: bool = False) -> tuple[float, int]:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0,
                                http_client=openai.DefaultAioHttpClient() if aiohttp else None)

    async def one(i: int) -> None:
        messages = _opening(i)
        first = await client.chat.completions.create(model=MODEL, messages=messages, tools=_TOOLS)
        messages += _tool_turn(first.choices[0].message.model_dump(exclude_none=True))
        second = await client.chat.completions.create(model=MODEL, messages=messages, tools=_TOOLS)
        assert second.choices[0].message.content == "Done."

    try:
        return await _many(episodes, concurrency, one)
    finally:
        await client.close()


async def run_bare_aiohttp(base_url: str, episodes: int, concurrency: int) -> tuple[float, int]:
    import aiohttp

    url = f"{base_url}/chat/completions"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def post(messages: list[dict]) -> dict:
            async with session.post(url, json={"model": MODEL, "messages": messages,
                                               "tools": _TOOLS}) as response:
                response.raise_for_status()
                return (await response.json())["choices"][0]["message"]

        async def one(i: int) -> None:
            messages = _opening(i)
            messages += _tool_turn(await post(messages))
            assert (await post(messages))["content"] == "Done."

        return await _many(episodes, concurrency, one)


async def run_bare_openai_aiohttp(base_url: str, episodes: int, concurrency: int) -> tuple[float, int]:
    return await run_bare_openai(base_url, episodes, concurrency, aiohttp=True)


CLIENTS = {"evaluate()": run_evaluate, "AsyncOpenAI": run_bare_openai,
           "AsyncOpenAI+aiohttp": run_bare_openai_aiohttp, "aiohttp": run_bare_aiohttp}


def server_cpu(base_url: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"{base_url}/cpu", timeout=10) as reply:
        return json.loads(reply.read())["cpu_s"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per call (default 0.2)")
    parser.add_argument("--levels", default="1,16,64,256", help="concurrency levels")
    parser.add_argument("--rounds", type=int, default=5,
                        help="episodes per level = rounds x concurrency (at least 8)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each cell; the fastest counts (the machine is shared)")
    parser.add_argument("--only", default="", help="comma-separated subset of: " + ", ".join(CLIENTS))
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    chosen = [c for c in CLIENTS if not args.only or c in args.only.split(",")]

    import aiohttp  # noqa: F401  imported before timing: no client pays for imports
    import openai  # noqa: F401

    import agentgym.evaluation.run  # noqa: F401
    from agentgym.core.registry import registry

    registry()  # loads every family once, before timing

    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Queue()
    server = ctx.Process(target=serve, args=(args.delay, ready), daemon=True)
    server.start()
    try:
        base_url = f"http://127.0.0.1:{ready.get(timeout=60)}/v1"
        print(f"fake server: {args.delay * 1000:.0f} ms a call, 2 calls an episode, own process")
        print(f"{'concurrency':>11}  {'client':<20} {'episodes':>8} {'ep/s':>7} {'ideal':>6} "
              f"{'ratio':>5}  {'client CPU/ep':>13} {'server CPU/ep':>13}  errors")
        ratios: dict[int, dict[str, float]] = {}
        failed = False
        for level in levels:
            episodes = max(8, args.rounds * level)
            ideal = level / (2 * args.delay)
            for name in chosen:
                runs = []
                for _ in range(max(1, args.repeat)):
                    cpu, served = time.process_time(), server_cpu(base_url)
                    wall, bad = asyncio.run(CLIENTS[name](base_url, episodes, level))
                    runs.append((episodes / wall, (time.process_time() - cpu) / episodes * 1000,
                                 (server_cpu(base_url) - served) / episodes * 1000, bad))
                rate, cpu_ms, server_ms, bad = max(runs)
                bad = max(r[3] for r in runs)
                ratios.setdefault(level, {})[name] = rate / ideal
                failed |= bool(bad) and name == "evaluate()"
                print(f"{level:>11}  {name:<20} {episodes:>8} {rate:>7.1f} {ideal:>6.0f} "
                      f"{rate / ideal:>5.2f}  {cpu_ms:>10.1f} ms {server_ms:>10.1f} ms  {bad}",
                      flush=True)
        print("\nratio to the ideal (concurrency / (2 x delay)):")
        print(f"{'concurrency':>11}  " + "  ".join(f"{c:>12}" for c in chosen))
        for level, row in ratios.items():
            print(f"{level:>11}  " + "  ".join(f"{row[c]:>12.2f}" for c in chosen))
        return 1 if failed else 0
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    sys.exit(main())
