"""Sandbox benchmark: each figure is a ratio against a peer measured in the same run.

    .venv/bin/python bench/sandbox.py [--quick]

Needs root, bubblewrap, a Docker engine and the base image (scripts/setup_sandbox.sh).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentgym.sandbox import WarmPool, create  # noqa: E402

IMAGE = "agentgym-base:bookworm"


def make_workspace(root: Path, files: int) -> Path:
    ws = root / f"ws{files}"
    for i in range(files):
        d = ws / f"pkg{i // 500}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"mod{i}.py").write_text(f"VALUE = {i}\n" * 4)
    return ws


def timed(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


async def atimed(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def row(name: str, ours: float, peer: float, peer_name: str, goal: float) -> None:
    ratio = peer / ours
    mark = "ok" if ratio >= goal else "below goal"
    print(f"{name:<34} {ours * 1000:9.2f} ms  vs {peer_name:<22} {peer * 1000:9.2f} ms  "
          f"= {ratio:7.1f}x  (goal {goal:g}x, {mark})")


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout.strip()


async def main(quick: bool) -> None:
    n = 3 if quick else 10
    tmp = Path(tempfile.mkdtemp(prefix="agentgym-bench-"))
    try:
        ws5k = make_workspace(tmp, 5000)

        # 1. acquire from a warm pool vs docker run of the same image
        async with WarmPool(size=2, image="bookworm", workspace=ws5k) as pool:
            async def acquire_release():
                sb = await pool.acquire()
                await pool.release(sb)
            await acquire_release()
            pool_t = await atimed(acquire_release, n * 3)
        run_t = timed(lambda: docker("run", "--rm", "--network", "none", IMAGE, "true"), n)
        row("acquire (warm pool, bwrap)", pool_t, run_t, "docker run", 20)

        # 2. exec round trip of `true`
        container = docker("run", "-d", "--network", "none", IMAGE, "sleep", "infinity")
        try:
            async with create(image="bookworm", workspace=ws5k) as sb:
                await sb.exec("true")
                exec_t = await atimed(lambda: sb.exec("true"), n * 5)
            dexec_t = timed(lambda: docker("exec", container, "true"), n)
        finally:
            docker("rm", "-f", container)
        row("exec `true` (bwrap)", exec_t, dexec_t, "docker exec", 2)

        # 3. fork of a 5,000-file workspace vs cp -a; and at 50,000 files
        async with create(workspace=ws5k) as sb:
            await sb.exec("echo change > pkg0/mod0.py")
            forks = []

            async def fork():
                forks.append(await sb.fork())
            fork5k = await atimed(fork, n)
            for f in forks:
                await f.close()
        cp_t = timed(lambda: (subprocess.run(["cp", "-a", str(ws5k), str(tmp / "copy")], check=True),
                              shutil.rmtree(tmp / "copy")), n)
        row("fork, 5,000 files", fork5k, cp_t, "cp -a", 20)
        ws50k = make_workspace(tmp, 50000 if not quick else 20000)
        async with create(workspace=ws50k) as sb:
            await sb.exec("echo change > pkg0/mod0.py")
            forks = []

            async def fork50():
                forks.append(await sb.fork())
            fork50k = await atimed(fork50, n)
            for f in forks:
                await f.close()
        print(f"{'fork, 50,000 files':<34} {fork50k * 1000:9.2f} ms  (5,000 files: {fork5k * 1000:.2f} ms; "
              f"ratio {fork50k / fork5k:.2f}, flat = ~1)")

        # 4. restore to a snapshot vs destroy and recreate
        async with create(workspace=ws5k) as sb:
            ref = await sb.snapshot()

            async def restore():
                await sb.exec("for i in 1 2 3 4 5 6 7 8 9; do echo x > pkg$i/mod$((i*500)).py; done")
                t = time.perf_counter()
                await sb.restore(ref)
                return time.perf_counter() - t
            restore_t = statistics.median([await restore() for _ in range(n)])

        async def recreate_docker():
            s = await create("docker", workspace=ws5k)
            await s.close()
        recreate_t = await atimed(recreate_docker, max(2, n // 3))
        async def recreate_bwrap():
            s = await create(workspace=ws5k)
            await s.close()
        recreate_b = await atimed(recreate_bwrap, n)
        row("restore to snapshot", restore_t, recreate_t, "destroy+create docker", 20)
        row("restore to snapshot", restore_t, recreate_b, "destroy+create bwrap", 1)

        # 5. 64 idle sandboxes
        before = _mem_available()
        t = time.perf_counter()
        sandboxes = [await create(workspace=ws5k) for _ in range(64)]
        made = time.perf_counter() - t
        results = await asyncio.gather(*(s.exec("echo ok") for s in sandboxes))
        used = before - _mem_available()
        answered = all(r.stdout == "ok\n" for r in results)
        print(f"{'64 idle sandboxes':<34} created in {made:.2f} s, all answer: "
              f"{answered}, memory {used / 1024:.1f} MiB "
              f"({used / 64:.0f} KiB each, no process while idle)")
        for s in sandboxes:
            await s.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _mem_available() -> int:
    for line in open("/proc/meminfo"):
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    asyncio.run(main(parser.parse_args().quick))
