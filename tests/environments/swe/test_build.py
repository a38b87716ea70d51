"""Building environments: sources, the cache key, and what never enters a build."""

import subprocess

import pytest

from agentgym.core.errors import InfraError, UserInputError
from agentgym.environments.swe.build import TaskFetchError, TaskSetupError, build_environment
from agentgym.environments.swe.schema import EnvironmentSpec


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(repo)})


def test_git_source_exports_one_commit_without_history(tmp_path):
    repo = tmp_path / "proj"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "mod.py").write_text("VERSION = 1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "one")
    first = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    (repo / "mod.py").write_text("VERSION = 2\n")
    _git(repo, "commit", "-qam", "two")
    built = build_environment(EnvironmentSpec(git=str(repo), commit=first, deps=[]))
    assert built.read("mod.py") == "VERSION = 1\n"
    assert not (built.repo / ".git").exists()
    assert built.manifest() == {"mod.py": built.manifest()["mod.py"]}
    assert (built.deps / "bin" / "python").is_symlink()
    with pytest.raises(TaskSetupError, match="'fetch source'"):
        build_environment(EnvironmentSpec(git=str(repo), commit="0" * 40, deps=[]), "bad-commit")


def test_local_dir_key_follows_its_content(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    spec = EnvironmentSpec(local_dir=str(tmp_path), deps=[])
    key = spec.key()
    assert spec.key() == key
    (tmp_path / "a.py").write_text("x = 2\n")
    assert spec.key() != key
    assert EnvironmentSpec(local_dir=str(tmp_path), deps=[], python="3.11").key() == spec.key()


def test_failing_install_command_names_the_step(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    spec = EnvironmentSpec(local_dir=str(tmp_path), deps=[], install=["exit 3"])
    with pytest.raises(TaskSetupError, match=r"^my-task: step 'install command' failed: exit 3"):
        build_environment(spec, "my-task")
    with pytest.raises(TaskSetupError, match="'find python'"):
        build_environment(EnvironmentSpec(local_dir=str(tmp_path), deps=[], python="2.1"), "old")


def test_download_failures_are_retryable_infra_errors(tmp_path, monkeypatch):
    # a package index that refuses connections: the network failing, not the task
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    (tmp_path / "a.py").write_text("x = 1\n")
    with pytest.raises(TaskFetchError, match=r"^offline: step 'install deps' failed: pip download") as err:
        build_environment(EnvironmentSpec(local_dir=str(tmp_path), deps=["agentgym-no-such-dep==1.0"]), "offline")
    assert isinstance(err.value, InfraError) and err.value.retryable
    assert not isinstance(err.value, UserInputError)
    with pytest.raises(TaskFetchError, match=r"^offline: step 'fetch source' failed: pip download"):
        build_environment(EnvironmentSpec(pypi_sdist="agentgym-no-such-sdist==1.0", deps=[]), "offline")


def test_an_sdist_whose_bytes_differ_from_the_pin_is_refused(tmp_path, monkeypatch):
    from agentgym.environments.swe import build as build_module
    from agentgym.environments.swe.build import TaskSetupError, file_hash, sdist_dir

    archives = sorted(p for p in sdist_dir().iterdir() if p.name.startswith("toolz")) if sdist_dir().is_dir() else []
    if not archives:
        pytest.skip("the toolz sdist is not in the cache (scripts/setup_swe.sh fetches it)")
    monkeypatch.setattr(build_module, "envs_dir", lambda: tmp_path / "envs")
    good = file_hash(archives[0])
    bad = EnvironmentSpec(pypi_sdist="toolz==0.12.1", sha256="0" * 64, deps=[])
    with pytest.raises(TaskSetupError, match=f"has sha256 {good}, but the task pins 0000"):
        build_environment(bad, "pinned")
    built = build_environment(EnvironmentSpec(pypi_sdist="toolz==0.12.1", sha256=good, deps=[]), "pinned")
    assert (built.repo / "toolz").is_dir()


def test_a_src_layout_project_is_found_without_saying_so(tmp_path):
    (tmp_path / "src" / "srcpkg").mkdir(parents=True)
    (tmp_path / "src" / "srcpkg" / "__init__.py").write_text("VALUE = 7\n")
    built = build_environment(EnvironmentSpec(local_dir=str(tmp_path), deps=[]), "src-layout")
    assert built.pythonpath == ["src", "."]
    flat = tmp_path / "flat"
    (flat / "flatpkg").mkdir(parents=True)
    (flat / "flatpkg" / "__init__.py").write_text("")
    assert build_environment(EnvironmentSpec(local_dir=str(flat), deps=[]), "flat").pythonpath == ["."]
