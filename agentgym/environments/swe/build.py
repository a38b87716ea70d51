"""Building a task's environment (source + installed deps) once, cached by the hash of its spec.

Layout of a built environment, which becomes the lowest read-only layer of every workspace:

    <cache>/swe/envs/<key>/root/repo     the project source (no .git, no bytecode)
    <cache>/swe/envs/<key>/root/.deps    requirements from `deps` (never the project itself)
    <cache>/swe/envs/<key>/manifest.json sha256 of every repo file, for diffs and restores

Builds run on the host with network access (like `docker build`); agents never run here.
The sdist is kept in `<cache>/swe/sdists`, outside every sandbox.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from agentgym.core.errors import InfraError, UserInputError
from agentgym.core.paths import cache_dir
from agentgym.environments.swe.schema import EnvironmentSpec

REPO, DEPS = "repo", ".deps"


class TaskSetupError(UserInputError):
    """A task that cannot be set up; the message names the task (or source) and the step."""

    def __init__(self, who: str, step: str, detail: str):
        super().__init__(f"{who}: step {step!r} failed: {detail.strip()}")
        self.who, self.step = who, step


class TaskFetchError(InfraError):
    """Downloading a task's source or deps failed (network, PyPI): retryable, not the task's fault."""

    def __init__(self, who: str, step: str, detail: str):
        super().__init__(f"{who}: step {step!r} failed: {detail.strip()}")
        self.who, self.step = who, step


@dataclass(frozen=True)
class BuiltEnv:
    spec: EnvironmentSpec
    path: Path  # holds root/ and manifest.json

    @property
    def root(self) -> Path:
        return self.path / "root"

    @property
    def repo(self) -> Path:
        return self.root / REPO

    @property
    def deps(self) -> Path:
        return self.root / DEPS

    @property
    def pythonpath(self) -> list[str]:
        """Source dirs on sys.path: the spec's, with `src` added for a src-layout project when the
        spec kept the default (so its package imports without saying so)."""
        if self.spec.pythonpath == ["."] and _src_layout(self.repo):
            return ["src", "."]
        return list(self.spec.pythonpath)

    def manifest(self) -> dict[str, str]:
        return json.loads((self.path / "manifest.json").read_text())

    def read(self, rel: str) -> str | None:
        """A repo file as the environment has it (None if it has no such file)."""
        try:
            return (self.repo / rel).read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None


def _src_layout(repo: Path) -> bool:
    src = repo / "src"
    return src.is_dir() and any((p / "__init__.py").is_file() or p.suffix == ".py" for p in src.iterdir())


def envs_dir() -> Path:
    return cache_dir() / "swe" / "envs"


def sdist_dir() -> Path:
    return cache_dir() / "swe" / "sdists"


def fetch_sdist(requirement: str, who: str) -> Path:
    """The sdist of `name==version`, downloaded from PyPI once into the cache."""
    name, _, version = requirement.partition("==")
    target = sdist_dir()
    target.mkdir(parents=True, exist_ok=True)
    normal = name.lower().replace("-", "_").replace(".", "_")

    def find() -> Path | None:
        for f in target.iterdir():
            stem = f.name.lower().replace("-", "_").replace(".", "_")
            if stem.startswith(f"{normal}_{version.replace('.', '_')}_") or stem.startswith(
                    f"{normal}_{version.replace('.', '_')}tar"):
                return f
        return None

    found = find()
    if found is None:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "--dest", str(target), requirement],
            capture_output=True, text=True,
        )
        found = find()
        if proc.returncode != 0 or found is None:
            raise TaskFetchError(who, "fetch source", f"pip download {requirement}: {proc.stderr[-800:]}")
    return found


def _extract(archive: Path, dest: Path) -> None:
    """Unpack an sdist's single top-level directory as `dest`."""
    with tempfile.TemporaryDirectory() as tmp:
        if archive.name.endswith(".zip"):
            zipfile.ZipFile(archive).extractall(tmp)
        else:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
        tops = os.listdir(tmp)
        src = Path(tmp, tops[0]) if len(tops) == 1 else Path(tmp)
        shutil.copytree(src, dest, symlinks=True)


def _fetch_source(spec: EnvironmentSpec, dest: Path, who: str) -> None:
    if spec.pypi_sdist:
        archive = fetch_sdist(spec.pypi_sdist, who)
        if spec.sha256 and file_hash(archive) != spec.sha256:
            raise TaskSetupError(who, "fetch source", f"{archive.name} has sha256 {file_hash(archive)}, "
                                                      f"but the task pins {spec.sha256}")
        _extract(archive, dest)
    elif spec.local_dir:
        if not Path(spec.local_dir).is_dir():
            raise TaskSetupError(who, "fetch source", f"local_dir {spec.local_dir} is not a directory")
        shutil.copytree(spec.local_dir, dest, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    else:  # git: export the one commit, so no history enters the workspace
        with tempfile.TemporaryDirectory() as tmp:
            for cmd in (["git", "clone", "--quiet", "--no-checkout", spec.git, tmp],
                        ["git", "-C", tmp, "archive", "--format=tar", "-o", f"{tmp}.tar", spec.commit]):
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:  # cloning talks to the network; a missing commit is the task's
                    error = TaskFetchError if cmd[1] == "clone" else TaskSetupError
                    raise error(who, "fetch source", f"{' '.join(cmd)}: {proc.stderr}")
            dest.mkdir(parents=True)
            with tarfile.open(f"{tmp}.tar") as tar:
                tar.extractall(dest, filter="data")
            os.remove(f"{tmp}.tar")


def _python_for(version: str, who: str) -> str:
    """A Python of `version` with pip, to install the deps (pure-Python wheels install anywhere)."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if not found:
        raise TaskSetupError(who, "find python", f"Python {version} is not installed on this machine")
    return found


def wheels_dir() -> Path:
    return cache_dir() / "swe" / "wheels"


def _install_deps(python: str, requirements: list[str], target: Path, who: str) -> None:
    """pip install into `target` from the local wheelhouse, downloading into it only what is missing
    (so builds after the first work offline, and no pip cache ends up near a workspace)."""

    def pip(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([python, "-m", "pip", "--disable-pip-version-check", *args],
                              capture_output=True, text=True)

    install = ("install", "--quiet", "--no-cache-dir", "--no-compile", "--no-index",
               "--find-links", str(wheels_dir()), "--target", str(target), *requirements)
    wheels_dir().mkdir(parents=True, exist_ok=True)
    if pip(*install).returncode == 0:
        return
    fetched = pip("download", "--quiet", "--no-cache-dir", "--dest", str(wheels_dir()), *requirements)
    if fetched.returncode != 0:
        raise TaskFetchError(who, "install deps", f"pip download {' '.join(requirements)}: {fetched.stderr[-800:]}")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    proc = pip(*install)
    if proc.returncode != 0:
        raise TaskSetupError(who, "install deps", proc.stderr[-800:])


def _install(spec: EnvironmentSpec, root: Path, who: str) -> None:
    deps = root / DEPS
    deps.mkdir()
    python = _python_for(spec.python, who)
    if spec.deps:
        _install_deps(python, spec.deps, deps, who)
    (deps / "bin").mkdir(exist_ok=True)
    image_python = f"/usr/bin/python{spec.python}"  # the interpreter the sandbox image has
    if not os.path.exists(image_python):
        raise TaskSetupError(who, "find python", f"{image_python} is not installed")
    for name in ("python", "python3"):
        link = deps / "bin" / name
        if link.exists() or link.is_symlink():
            link.unlink()
        link.symlink_to(image_python)
    env = {**os.environ, "AGENTGYM_DEPS": str(deps), "PYTHONDONTWRITEBYTECODE": "1",
           "PIP_NO_CACHE_DIR": "1"}
    for command in spec.install:
        proc = subprocess.run(["bash", "-c", command], cwd=root / REPO, env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise TaskSetupError(who, "install command", f"{command}: {(proc.stdout + proc.stderr)[-800:]}")


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def repo_manifest(repo: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            p = Path(dirpath, name)
            if p.is_file() and not p.is_symlink():
                out[str(p.relative_to(repo))] = file_hash(p)
    return dict(sorted(out.items()))


def build_environment(spec: EnvironmentSpec, who: str = "") -> BuiltEnv:
    """The built environment for `spec`, building it on first use (safe across processes)."""
    who = who or spec.source_label
    path = envs_dir() / spec.key()
    built = BuiltEnv(spec, path)
    if (path / "ready").exists():
        return built
    envs_dir().mkdir(parents=True, exist_ok=True)
    with open(envs_dir() / f"{spec.key()}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (path / "ready").exists():
            return built
        shutil.rmtree(path, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{spec.key()}.", dir=envs_dir()))
        try:
            (tmp / "root").mkdir()
            _fetch_source(spec, tmp / "root" / REPO, who)
            _install(spec, tmp / "root", who)
            for cache in (tmp / "root" / REPO).rglob("__pycache__"):
                shutil.rmtree(cache, ignore_errors=True)
            (tmp / "manifest.json").write_text(json.dumps(repo_manifest(tmp / "root" / REPO)))
            (tmp / "spec.json").write_text(spec.model_dump_json(indent=1))
            os.chmod(tmp, 0o755)
            tmp.rename(path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        (path / "ready").touch()
    return built
