"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol, for tests.

    with FakeOpenAIServer() as server:       # or the `openai_server` / `openai_env` fixtures
        server.push(text("hello"), error(429, retry_after=0.01), tool_call("get_order", {"id": 1}))
        policy = OpenAIPolicy("fake-model", base_url=server.base_url)

Replies are taken from the queue in order; when it is empty the `responder` is asked. It gets the
request JSON and returns a `Reply`, a string, an `Action`, or an OpenAI assistant-message dict, so
a whole episode can be scripted from what the agent has seen so far:

    def responder(request):
        if request["messages"][-1]["role"] == "tool":
            return "All done."
        return tool_call("get_order", {"order_id": "#W0001"})

With neither queue nor responder the server answers 418, so a test that forgot to script a reply
fails loudly. Every request is recorded (`requests` holds the chat-completion bodies, `calls`
every request with its headers). `GET /v1/models` lists `models`; with `strict_models=True` a
request for another model gets 404, as OpenAI answers.

Tokens, as a real server gives them: the prompt is rendered with a small chat template and, like
the completion, tokenized one token per UTF-8 byte (`fake_tokenize`). A request with
`logprobs: true` gets per-token logprobs; with `return_token_ids: true` (vLLM's field, sent via
`extra_body`) it gets `prompt_token_ids` and the choice's `token_ids`. Every completion sent is
kept in `completions`, so tests can compare records with what the server really returned.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agentgym.core.types import Action


@dataclass
class Reply:
    """One scripted answer: an assistant message, or an error status; optionally after a delay."""

    content: str | None = None
    #: OpenAI-format tool calls; `function.arguments` is a JSON string (or any text, to test junk)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    error_message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    usage: dict[str, int] | None = None  # default: a word count of prompt and reply

    def with_delay(self, seconds: float) -> Reply:
        self.delay = seconds
        return self


def text(content: str, **kwargs: Any) -> Reply:
    return Reply(content=content, **kwargs)


def tool_call(
    name: str, arguments: dict[str, Any] | str, content: str | None = None, **kwargs: Any
) -> Reply:
    """One tool call; pass `arguments` as a string to send it verbatim (e.g. invalid JSON)."""
    return tool_calls([(name, arguments)], content=content, **kwargs)


def tool_calls(
    calls: list[tuple[str, dict[str, Any] | str]], content: str | None = None, **kwargs: Any
) -> Reply:
    raw = [
        {
            "id": f"call_{i}_{name}",
            "type": "function",
            "function": {
                "name": name,
                "arguments": args if isinstance(args, str) else json.dumps(args),
            },
        }
        for i, (name, args) in enumerate(calls)
    ]
    return Reply(content=content, tool_calls=raw, **kwargs)


def error(status: int, message: str = "", retry_after: float | None = None, **kwargs: Any) -> Reply:
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return Reply(
        status=status, error_message=message or f"fake error {status}", headers=headers, **kwargs
    )


def as_reply(value: Reply | Action | str | dict[str, Any]) -> Reply:
    """What a responder may return, as a Reply."""
    if isinstance(value, Reply):
        return value
    if isinstance(value, str):
        return Reply(content=value)
    if isinstance(value, Action):
        return Reply(content=value.content, tool_calls=[c.to_openai() for c in value.tool_calls])
    if isinstance(value, dict):
        return Reply(content=value.get("content"), tool_calls=list(value.get("tool_calls") or []))
    raise TypeError(f"a responder returns a Reply, Action, str or dict, not {type(value).__name__}")


@dataclass
class RecordedRequest:
    """One request received; header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


Responder = Callable[[dict[str, Any]], Any]


class FakeOpenAIServer:
    """A scripted OpenAI-compatible server in a background thread. Use as a context manager."""

    def __init__(
        self, models: tuple[str, ...] = ("fake-model",), responder: Responder | None = None,
        strict_models: bool = False,
    ):
        self.models = models
        self.strict_models = strict_models
        self.models_route = True  # False: GET /models answers 404, as some gateways do
        self.completions: list[dict[str, Any]] = []
        self.responder = responder
        self.queue: deque[Reply] = deque()
        self.calls: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- scripting and inspection --------------------------------------------------------------

    def push(self, *replies: Reply | Action | str | dict[str, Any]) -> FakeOpenAIServer:
        with self._lock:
            self.queue.extend(as_reply(r) for r in replies)
        return self

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Bodies of the chat-completion requests received, in order."""
        return [c.body for c in self.calls if c.path.endswith("/chat/completions")]

    def reset(self) -> None:
        with self._lock:
            self.queue.clear()
            self.calls.clear()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the fake server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        self._stopping.clear()
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-openai",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping on a delay
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- what the handler calls ----------------------------------------------------------------

    def _next_reply(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            if self.queue:
                return self.queue.popleft()
        if self.responder is not None:
            return as_reply(self.responder(request))
        return error(418, "fake openai server: no scripted reply and no responder")

    def _completion(self, request: dict[str, Any], reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.tool_calls:
            message["tool_calls"] = reply.tool_calls
        usage = reply.usage or {
            "prompt_tokens": sum(_words(m.get("content")) for m in request.get("messages", [])),
            "completion_tokens": _words(reply.content) + 8 * len(reply.tool_calls),
        }
        usage.setdefault("total_tokens", usage["prompt_tokens"] + usage["completion_tokens"])
        choice: dict[str, Any] = {
            "index": 0,
            "message": message,
            "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            "logprobs": None,
        }
        out: dict[str, Any] = {
            "id": f"chatcmpl-fake-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", self.models[0]),
            "choices": [choice],
            "usage": usage,
        }
        completion_ids = fake_tokenize(completion_text(reply))
        if request.get("logprobs"):
            choice["logprobs"] = {"content": [
                {"token": bytes([t]).decode("latin-1"), "logprob": fake_logprob(t), "bytes": [t],
                 "top_logprobs": []} for t in completion_ids]}
        if request.get("return_token_ids"):
            out["prompt_token_ids"] = fake_tokenize(render_prompt(request.get("messages", [])))
            choice["token_ids"] = completion_ids
        with self._lock:
            self.completions.append(out)
        return out


def render_prompt(messages: list[dict[str, Any]]) -> str:
    """The fake model's chat template."""
    parts = []
    for m in messages:
        calls = json.dumps(m["tool_calls"]) if m.get("tool_calls") else ""
        parts.append(f"<|{m.get('role')}|>{m.get('content') or ''}{calls}\n")
    return "".join(parts) + "<|assistant|>"


def completion_text(reply: Reply) -> str:
    return (reply.content or "") + (json.dumps(reply.tool_calls) if reply.tool_calls else "")


def fake_tokenize(text: str) -> list[int]:
    return list(text.encode())


def fake_logprob(token_id: int) -> float:
    return -0.05 - (token_id % 7) / 10


def _words(content: Any) -> int:
    if isinstance(content, str):
        return len(content.split())
    if isinstance(content, list):  # content parts
        return sum(_words(part.get("text")) for part in content if isinstance(part, dict))
    return 0


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many concurrent episodes connect at once; 5 would drop SYNs


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the OpenAI client expects
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    timeout = 5  # idle keep-alive connections end on their own after the server stops
    fake: FakeOpenAIServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet in test output
        pass

    def _record(self, body: Any) -> None:
        with self.fake._lock:
            self.fake.calls.append(
                RecordedRequest(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
            )

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def _send_error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        kind = (
            "rate_limit_error"
            if status == 429
            else "invalid_request_error"
            if status < 500
            else "server_error"
        )
        self._send_json(
            status,
            {"error": {"message": message, "type": kind, "param": None, "code": None}},
            headers,
        )

    def do_GET(self) -> None:
        self._record(None)
        if self.path.rstrip("/").endswith("/models") and self.fake.models_route:
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "agentgym-tests"}
                for m in self.fake.models
            ]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_error(404, f"no route GET {self.path}")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._record(raw.decode(errors="replace"))
            return self._send_error(400, "request body is not JSON")
        self._record(body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self._send_error(404, f"no route POST {self.path}")
        if body.get("stream"):
            return self._send_error(400, "the fake server does not stream")
        if not isinstance(body.get("messages"), list) or "model" not in body:
            return self._send_error(400, "a chat completion needs 'model' and 'messages'")
        if self.fake.strict_models and body["model"] not in self.fake.models:
            return self._send_error(404, f"The model `{body['model']}` does not exist")
        try:
            reply = self.fake._next_reply(body)
        except Exception as e:  # a broken responder should fail the test, not hang it
            return self._send_error(500, f"fake server responder raised {type(e).__name__}: {e}")
        if reply.delay and self.fake._stopping.wait(reply.delay):
            return
        if reply.status != 200:
            return self._send_error(reply.status, reply.error_message, reply.headers)
        self._send_json(200, self.fake._completion(body, reply), reply.headers)
