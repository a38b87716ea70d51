import os

import pytest

from agentgym.core.errors import TaskFileError
from agentgym.core.types import Episode, Reward
from agentgym.rollout.store import EpisodeStore


def ep(task, sample=0, status="ok"):
    return Episode(env_id="test/Counter-v0", task_id=task, sample=sample, policy="p",
                   status=status, outcome=Reward(value=1.0))


def test_append_is_durable_and_loads_back(tmp_path):
    store = EpisodeStore(tmp_path / "e.jsonl")
    store.append(ep("a"))
    store.append(ep("b", 1))
    assert [(e.task_id, e.sample) for e in store.load()] == [("a", 0), ("b", 1)]
    assert (tmp_path / "e.jsonl").read_text().count("\n") == 2


def test_torn_last_line_keeps_everything_before_it(tmp_path):
    path = tmp_path / "e.jsonl"
    store = EpisodeStore(path)
    store.append(ep("a"))
    with open(path, "a") as f:  # a crash mid-write
        f.write(ep("b").model_dump_json()[:40])
    with pytest.warns(UserWarning, match=r"e.jsonl:2: not a valid episode record"):
        assert [e.task_id for e in store.load()] == ["a"]
    store.append(ep("c"))  # the next write starts on a fresh line
    with pytest.warns(UserWarning):
        assert [e.task_id for e in store.load()] == ["a", "c"]
    with pytest.raises(TaskFileError, match=r"e.jsonl:2"):
        store.load(strict=True)


def test_finished_excludes_infra_errors(tmp_path):
    store = EpisodeStore(tmp_path / "e.jsonl")
    store.append(ep("a"))
    store.append(ep("b", status="infra_error"))
    store.append(ep("c", status="truncated"))
    assert store.finished() == {("a", 0), ("c", 0)}


def test_missing_file_is_empty(tmp_path):
    assert EpisodeStore(tmp_path / "none.jsonl").load() == []
    assert not os.path.exists(tmp_path / "none.jsonl")
