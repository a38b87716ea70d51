import importlib
import sys
import textwrap

import pytest

import agentgym
from agentgym.core.errors import RegistrationError, UnknownEnvError

reg = importlib.import_module("agentgym.core.registry")


def test_unknown_id_suggests_nearest():
    with pytest.raises(UnknownEnvError, match=r"Did you mean: test/Counter-v0"):
        agentgym.make("test/Countr-v0")
    with pytest.raises(UnknownEnvError, match=r"Did you mean: test/Counter-v0"):
        agentgym.make("test/Counter-v7")


def test_unknown_id_without_neighbours_points_to_list():
    with pytest.raises(UnknownEnvError, match="agentgym list"):
        agentgym.make("zzz/Qqqqqq-v0")


@pytest.mark.parametrize("bad", ["Counter", "test/Counter", "test/Counter-vx", "/x-v0", "a b/C-v0"])
def test_ids_must_be_versioned(bad):
    with pytest.raises(RegistrationError, match="family/Name-v0"):
        agentgym.register(bad, "x:y")


def test_duplicate_registration_is_refused_unless_overridden():
    with pytest.raises(RegistrationError, match="already registered"):
        agentgym.register("test/Counter-v0", "x:y")


def test_register_with_defaults_and_string_entry_point():
    spec = agentgym.register(
        "test/CounterShort-v0", "tests.core.counter_env:CounterEnv", max_steps=1, override=True
    )
    env = agentgym.make_async("test/CounterShort-v0")
    assert env.max_steps == 1 and env.env_id == "test/CounterShort-v0"
    assert spec.family == "test"
    assert "test/CounterShort-v0" in agentgym.registry()


def test_third_party_envs_are_discovered_by_entry_point(tmp_path, monkeypatch):
    pkg = tmp_path / "thirdparty_envs.py"
    pkg.write_text(textwrap.dedent("""
        from agentgym.core.registry import EnvSpec
        def specs():
            return [EnvSpec("plugin/Counter-v3", "tests.core.counter_env:CounterEnv",
                            description="from a plugin")]
        def broken():
            raise RuntimeError("plugin exploded")
    """))
    dist = tmp_path / "thirdparty_envs-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-envs\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[agentgym.environments]\ngood = thirdparty_envs:specs\nbad = thirdparty_envs:broken\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(reg, "_loaded", False)
    monkeypatch.setattr(reg, "_registry", dict(reg._registry))
    with pytest.warns(UserWarning, match="plugin 'bad' failed to load: plugin exploded"):
        envs = agentgym.registry()
    assert envs["plugin/Counter-v3"].description == "from a plugin"
    env = agentgym.make("plugin/Counter-v3")
    assert env.reset(seed=0)[0]["messages"]
    sys.modules.pop("thirdparty_envs", None)
