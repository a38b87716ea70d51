"""Sandbox benchmark: each figure is a ratio against a peer measured in the same run.

    .venv/bin/python bench/sandbox.py [--quick] [--fork]

Needs root, bubblewrap, a Docker engine and the base image (scripts/setup_sandbox.sh).
`--fork` prints only the fork rows: a fork alone against `cp -a` alone (warm cache, source-sized
files, clean-up outside both timings), then both with their clean-up inside.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentgym.sandbox import WarmPool, create, mounts  # noqa: E402

IMAGE = "agentgym-base:bookworm"


def make_workspace(root: Path, files: int) -> Path:
    """A source tree: 20 files a directory, 20 directories a package, sizes like source files
    (seeded; 0.3-64 KiB, mean ~4 KiB)."""
    rng = random.Random(files)
    ws = root / f"ws{files}"
    for i in range(files):
        d = ws / f"pkg{i // 400}" / f"sub{i // 20 % 20}"
        d.mkdir(parents=True, exist_ok=True)
        size = min(300 + int(rng.expovariate(1 / 3800)), 64 << 10)
        line = f"value_{i} = compute({i}, key='{i:08x}')  # a line of ordinary source\n"
        (d / f"mod{i}.py").write_text((line * (size // len(line) + 1))[:size])
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


async def fork_rows(tmp: Path, ws: Path, n: int, docker_too: bool) -> None:
    """Fork of a sandbox over `ws` vs `cp -a` of `ws`: each side timed alone with a warm page
    cache; closing the forks and deleting the copies happen outside both timings. Each fork
    follows a change (untimed), so each one freezes a layer, as in use."""
    files = sum(1 for _ in ws.rglob("*.py"))
    size_mb = sum(p.stat().st_size for p in ws.rglob("*.py")) / 1e6
    label = f"{files:,} files, {size_mb:.0f} MB"
    copies = tmp / "copies"  # a tmpfs, like a sandbox volume: the copy is not slowed by a disk
    copies.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4g", "bench", str(copies)], check=True)
    try:
        await _fork_rows(ws, copies, n, docker_too, label)
    finally:
        subprocess.run(["umount", "-l", str(copies)], check=True)
        shutil.rmtree(copies, ignore_errors=True)


def _cp_alone(ws: Path, copies: Path) -> float:
    dest = copies / "c"
    t = time.perf_counter()
    subprocess.run(["cp", "-a", str(ws), str(dest)], check=True)
    took = time.perf_counter() - t
    shutil.rmtree(dest)
    return took


async def _fork_rows(ws: Path, copies: Path, n: int, docker_too: bool, label: str) -> None:
    _cp_alone(ws, copies)  # warms the page cache for both sides
    for backend in ("bwrap", "docker") if docker_too else ("bwrap",):
        # copies before and after the forks, so a change in the machine's load hits both sides
        cps = [_cp_alone(ws, copies) for _ in range(n // 2)]
        fork_t, fork_close_t = await _fork_times(backend, ws, max(2 * n, 20) if backend == "bwrap" else n)
        cp_t = statistics.median(cps + [_cp_alone(ws, copies) for _ in range(n - n // 2)])
        if backend == "bwrap":
            row(f"fork (bwrap), {label}", fork_t, cp_t, "cp -a", 20)
            row("  same, clean-up inside both", fork_close_t, cp_t + _rm_time(ws, copies, n), "cp -a; rm -rf", 20)
            os.environ["AGENTGYM_MOUNT_SYSCALLS"] = "0"  # the fallback: a mount(8) process a mount
            try:
                fallback_t, _ = await _fork_times(backend, ws, max(2 * n, 20))
            finally:
                del os.environ["AGENTGYM_MOUNT_SYSCALLS"]
            row("  same, mounting by mount(8)", fallback_t, cp_t, "cp -a", 20)
        else:  # a docker fork starts a container: its peer copies and starts one too
            peer = _cp_and_run_time(ws, copies, max(2, n // 3))
            row(f"fork (docker), {label}", fork_t, peer, "cp -a; docker run -d", 1)


async def _fork_times(backend: str, ws: Path, n: int) -> tuple[float, float]:
    """Median time of a fork alone, and of a fork plus closing the child (forks are cheap:
    `n` is at least 20, so the median holds on a busy machine)."""
    async with create(backend, workspace=ws) as sb:
        warm = await sb.fork()
        await warm.close()
        alone, with_close = [], []
        for i in range(n):
            await sb.write_file("pkg0/sub0/mod0.py", f"changed = {i}\n")
            t = time.perf_counter()
            child = await sb.fork()
            alone.append(time.perf_counter() - t)
            await child.close()
            with_close.append(time.perf_counter() - t)
    return statistics.median(alone), statistics.median(with_close)


def _rm_time(ws: Path, copies: Path, n: int) -> float:
    times = []
    for _ in range(n):
        dest = copies / "c"
        subprocess.run(["cp", "-a", str(ws), str(dest)], check=True)
        t = time.perf_counter()
        shutil.rmtree(dest)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _cp_and_run_time(ws: Path, copies: Path, n: int) -> float:
    times = []
    for i in range(n):
        dest = copies / f"d{i}"
        t = time.perf_counter()
        subprocess.run(["cp", "-a", str(ws), str(dest)], check=True)
        cid = docker("run", "-d", "--network", "none", "-v", f"{dest}:/workspace", IMAGE, "sleep", "infinity")
        times.append(time.perf_counter() - t)
        docker("rm", "-f", cid)
        shutil.rmtree(dest)
    return statistics.median(times)


def _load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout.strip()


async def main(quick: bool, only_fork: bool) -> None:
    n = 3 if quick else 10
    print(f"load average at start: {_load()}; mounts by {mounts.method()}")
    tmp = Path(tempfile.mkdtemp(prefix="agentgym-bench-"))
    try:
        ws5k = make_workspace(tmp, 5000)
        # 3. fork vs cp -a, each timed alone (clean-up outside both timings), warm cache
        await fork_rows(tmp, ws5k, n, docker_too=not quick)
        ws50k = make_workspace(tmp, 20000 if quick else 50000)
        await fork_rows(tmp, ws50k, max(3, n // 3), docker_too=False)
        if only_fork:
            return

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
        print(f"load average at end: {_load()}")
        shutil.rmtree(tmp, ignore_errors=True)


def _mem_available() -> int:
    for line in open("/proc/meminfo"):
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, 20,000 files not 50,000")
    parser.add_argument("--fork", action="store_true", help="only the fork figures")
    args = parser.parse_args()
    asyncio.run(main(args.quick, args.fork))
