"""What only the docker backend has: an engine that can go away, and a container init to guard."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

import pytest

from agentgym.core.errors import SandboxError
from agentgym.sandbox import create

from .conftest import limits, need_backend, sleep_marker

pytestmark = pytest.mark.docker

ENGINE_SOCKET = "/var/run/docker.sock"

S4351 = sleep_marker(4351)


class EngineProxy:
    """A unix socket that forwards to the real engine until `stop()`: the engine going away."""

    def __init__(self, path: str):
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(path)
        self.listener.listen()
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            engine = socket.socket(socket.AF_UNIX)
            engine.connect(ENGINE_SOCKET)
            with self.lock:
                self.open += [client, engine]
                if self.stopped:
                    self._close_all()
                    return
            for a, b in ((client, engine), (engine, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def _close_all(self) -> None:
        for s in self.open:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close would not)
            self.listener.close()
            self._close_all()


@pytest.fixture
def docker_ready():
    need_backend("docker")


async def test_the_engine_going_away_mid_command_is_a_sandbox_error(docker_ready, workspace, tmp_path,
                                                                    monkeypatch):
    import docker

    proxy = EngineProxy(str(tmp_path / "engine.sock"))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{proxy.path}")
    sb = await create("docker", workspace=workspace, limits=limits())
    try:
        task = asyncio.create_task(sb.exec(f"sleep {S4351}", timeout=30))
        await asyncio.sleep(1.0)
        proxy.stop()
        with pytest.raises(SandboxError):
            await task
        with pytest.raises(SandboxError):
            await sb.exec("true")
    finally:
        await sb.close()  # cannot reach the engine; the files and mounts still go
        real = docker.DockerClient(base_url=f"unix://{ENGINE_SOCKET}")
        for c in real.containers.list(all=True, filters={"label": f"agentgym.sandbox={sb.id}"}):
            c.remove(force=True)


async def test_the_agent_cannot_signal_or_trace_the_containers_init(docker_ready, workspace):
    async with create("docker", workspace=workspace, limits=limits()) as sb:
        trace = "import ctypes; l = ctypes.CDLL(None, use_errno=True); print(l.ptrace(16, 1, 0, 0), ctypes.get_errno())"
        assert (await sb.exec(["python3", "-c", trace])).stdout == "-1 1\n"  # EPERM
        res = await sb.exec("kill -9 1; kill -9 -1; cat /proc/1/environ")
        assert res.exit_code != 0 and "Operation not permitted" in res.stderr
        await asyncio.sleep(0.3)
        state = (await asyncio.to_thread(sb.api.inspect_container, sb.container.id))["State"]
        assert state["Running"]
        assert (await sb.exec("echo alive")).stdout == "alive\n"
