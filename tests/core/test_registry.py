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


def test_register_takes_spec_fields_explicitly_as_gymnasium_does():
    spec = agentgym.register(
        "test/CounterShort-v0", "tests.core.counter_env:CounterEnv", kwargs={"crash_on_step": None},
        max_episode_steps=1, nondeterministic=True, override=True,
        count_tasks=lambda count=5: count,
    )
    env = agentgym.make_async("test/CounterShort-v0")
    assert env.max_steps == 1 and env.env_id == "test/CounterShort-v0"
    assert agentgym.make_async("test/CounterShort-v0", max_steps=4).max_steps == 4
    assert spec.family == "test" and spec.nondeterministic and spec.task_count() == 5
    assert "test/CounterShort-v0" in agentgym.registry()
    with pytest.raises(TypeError, match="max_steps"):  # unknown keywords no longer slip through
        agentgym.register("test/CounterBad-v0", "tests.core.counter_env:CounterEnv", max_steps=1)


def test_every_env_id_works_with_gymnasium_make():
    import gymnasium

    env = gymnasium.make("tooluse/Retail-v0")
    obs, _ = env.reset(seed=0)
    assert obs["messages"][0]["role"] == "system" and env.unwrapped.env.env_id == "tooluse/Retail-v0"
    env.close()
    agentgym.register("test/CounterGym-v0", "tests.core.counter_env:CounterEnv", override=True)
    gym_env = gymnasium.make("test/CounterGym-v0")  # registered after import: also known
    assert gym_env.reset(seed=1)[0]["messages"]
    gym_env.close()


def test_envs_made_from_one_spec_share_its_context_and_others_do_not():
    first, second = (agentgym.make_async("test/Counter-v0") for _ in range(2))
    first.shared["gold"] = 42
    assert second.shared["gold"] == 42
    agentgym.register("test/CounterCtx-v0", "tests.core.counter_env:CounterEnv", override=True)
    assert "gold" not in agentgym.make_async("test/CounterCtx-v0").shared


def test_built_in_families_come_through_entry_points_like_plugins(monkeypatch):
    monkeypatch.setattr(reg, "_loaded", False)
    monkeypatch.setattr(reg, "_registry", {})
    monkeypatch.setattr(reg, "entry_points", lambda group: [])  # a package that declares none
    assert agentgym.registry() == {}
    monkeypatch.undo()
    assert "tooluse/Retail-v0" in agentgym.registry()


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
    with pytest.warns(UserWarning, match="environments 'bad' failed to load: plugin exploded"):
        envs = agentgym.registry()
    assert envs["plugin/Counter-v3"].description == "from a plugin"
    env = agentgym.make("plugin/Counter-v3")
    assert env.reset(seed=0)[0]["messages"]
    sys.modules.pop("thirdparty_envs", None)
