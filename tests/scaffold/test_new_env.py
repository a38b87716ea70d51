"""`agentgym new env NAME`: the package installs, is found by entry point and passes `agentgym check`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgym.cli import app

BIN = Path(sys.executable).parent


@pytest.mark.slow
def test_a_scaffolded_env_installs_and_passes_check_and_its_own_tests(tmp_path):
    result = CliRunner().invoke(app, ["new", "env", "todo", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    package = tmp_path / "todo"
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(package)], check=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    check = subprocess.run([BIN / "agentgym", "check", "todo/Todo-v0", "--tasks", "2"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "every check passed" in check.stdout and "FAIL" not in check.stdout
    listed = subprocess.run([BIN / "agentgym", "list", "--json", "--family", "todo"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert '"n_tasks": 2' in listed.stdout
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
                           capture_output=True, text=True, env=env, timeout=300, cwd=package)
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_bad_names_and_existing_folders_get_one_line_and_exit_2(tmp_path):
    for name in ("Todo", "1todo", "to-do", "to do"):
        result = CliRunner().invoke(app, ["new", "env", name, "--dir", str(tmp_path)])
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert CliRunner().invoke(app, ["new", "env", "notes", "--dir", str(tmp_path)]).exit_code == 0
    result = CliRunner().invoke(app, ["new", "env", "notes", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "already exists" in result.output
