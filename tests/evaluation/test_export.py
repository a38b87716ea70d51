"""`agentgym export`: each format read back by what consumes it, on real eval folders."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from agentgym.core.types import Episode
from agentgym.evaluation.export import openai_rules, sharegpt
from tests.evaluation.runs import (
    invoke,
    make_run,
    mixed,
    read_jsonl,
    solver,
    text_caller,
    wobbler,
)
from tests.fakes.openai_server import fake_tokenize, render_prompt


def episodes(run) -> list[Episode]:
    return [
        Episode.model_validate_json(x) for x in (run / "episodes.jsonl").read_text().splitlines()
    ]


def load_parquet(path):
    import datasets

    return datasets.load_dataset("parquet", data_files=str(path), split="train")


def test_hf_dataset_rebuilds_the_exact_tokens_of_every_policy_turn(openai_env, tmp_path):
    run = make_run(openai_env, tmp_path / "run", wobbler, "-n", 3, "-k", 2)
    result = invoke("export", run, "--format", "hf", "--out", tmp_path / "ds.parquet")
    assert result.exit_code == 0, result.output
    assert "wrote 6 hf record(s)" in result.output
    ds = load_parquet(tmp_path / "ds.parquet")
    # what the server really sent, one entry per completion
    sent = Counter()
    logprobs_sent = {}
    for completion in openai_env.completions:
        choice = completion["choices"][0]
        key = (tuple(completion["prompt_token_ids"]), tuple(choice["token_ids"]))
        sent[key] += 1
        logprobs_sent[key] = [t["logprob"] for t in choice["logprobs"]["content"]]
    exported = Counter()
    for row in ds:
        assert row["status"] == "ok" and row["success"] and row["reward"] == 1.0
        assert len(row["turns"]) == len(row["step_rewards"]) == 4
        assert sum(row["step_rewards"]) == pytest.approx(row["reward"])
        tools = json.loads(row["tools"])
        assert tools[0]["function"]["name"] == "add"
        for turn in row["turns"]:
            prompt, completion = turn["prompt_token_ids"], turn["completion_token_ids"]
            key = (tuple(prompt), tuple(completion))
            exported[key] += 1
            assert turn["logprobs"] == logprobs_sent[key]
            assert turn["loss_mask"] == [0] * len(prompt) + [1] * len(completion)
            # the prompt messages of the turn are exactly what the policy was shown
            shown = row["messages"][: turn["message_index"]]
            assert fake_tokenize(render_prompt(shown)) == prompt
            assert row["messages"][turn["message_index"]]["role"] == "assistant"
            assert turn["finish_reason"] in ("stop", "tool_calls") and turn["model"] == "fake-model"
        # the turns chain here, so the episode is also one sequence with the policy's tokens masked
        mask = row["loss_mask"]
        ids = row["token_ids"]
        last = row["turns"][-1]
        assert ids == last["prompt_token_ids"] + last["completion_token_ids"]
        sampled = [t for t, m in zip(ids, mask, strict=True) if m == 1]
        assert sampled == [t for turn in row["turns"] for t in turn["completion_token_ids"]]
        masked_logprobs = [lp for lp, m in zip(row["token_logprobs"], mask, strict=True) if m]
        assert masked_logprobs == [lp for turn in row["turns"] for lp in turn["logprobs"]]
    assert exported == sent  # every completion the server sent, each exactly once


def test_turns_that_do_not_chain_keep_exact_per_turn_tokens(openai_env, tmp_path):
    run = make_run(openai_env, tmp_path / "run", text_caller, "-n", 2)
    result = invoke("export", run, "--format", "hf", "--out", tmp_path / "ds.parquet")
    assert result.exit_code == 0 and "do not chain token-exactly" in result.output, result.output
    sent = {
        (tuple(c["prompt_token_ids"]), tuple(c["choices"][0]["token_ids"]))
        for c in openai_env.completions
    }
    for row in load_parquet(tmp_path / "ds.parquet"):
        assert row["token_ids"] is None and row["loss_mask"] is None and row["success"]
        first, second = row["turns"]
        assert bytes(first["completion_token_ids"]).decode().startswith("<tool_call>")
        # the env parsed the call out of the text: the next prompt shows it as a structured call
        assert row["messages"][first["message_index"]]["tool_calls"][0]["function"]["name"] == "add"
        for turn in row["turns"]:
            assert (tuple(turn["prompt_token_ids"]), tuple(turn["completion_token_ids"])) in sent


def test_filters_and_what_is_never_exported(openai_env, tmp_path):
    run = make_run(openai_env, tmp_path / "run", mixed, "-n", 5)
    statuses = Counter(e.status for e in episodes(run))
    assert statuses == {"ok": 4, "infra_error": 1}
    ds_all = tmp_path / "all.parquet"
    assert invoke("export", run, "-f", "hf", "-o", ds_all).exit_code == 0
    rows = load_parquet(ds_all)
    assert sorted(rows["task_id"]) == ["reach-1", "reach-2", "reach-3", "reach-4"]  # no infra error
    result = invoke("export", run, "-f", "hf", "-o", tmp_path / "ok.parquet", "--success-only")
    assert result.exit_code == 0 and "1 not successful" in result.output, result.output
    assert "1 infra_error" in result.output
    assert sorted(load_parquet(tmp_path / "ok.parquet")["task_id"]) == [
        "reach-1",
        "reach-2",
        "reach-3",
    ]
    result = invoke("export", run, "-f", "hf", "-o", tmp_path / "hi.parquet", "--min-reward", 0.5)
    assert result.exit_code == 0 and "reward below 0.5" in result.output
    assert all(r >= 0.5 for r in load_parquet(tmp_path / "hi.parquet")["reward"])
    # the broken-JSON arguments of reach-2 stay in the record (hf) but no chat format can hold them
    broken = next(r for r in rows if r["task_id"] == "reach-2")
    assert broken["messages"][2]["tool_calls"][0]["function"]["arguments"] == '{"n": 2'
    for fmt in ("openai-sft", "trl", "sharegpt"):
        result = invoke("export", run, "-f", fmt, "-o", tmp_path / f"{fmt}.jsonl")
        assert result.exit_code == 0, result.output
        assert "1 with tool-call arguments that are not JSON" in result.output
        assert (
            len(read_jsonl(tmp_path / f"{fmt}.jsonl")) == 3
        )  # reach-1, reach-3 and the failed reach-4


def test_openai_sft_lines_follow_the_fine_tuning_rules(openai_env, tmp_path):
    run = make_run(openai_env, tmp_path / "run", wobbler, "-n", 5, "-k", 2)
    out = tmp_path / "sft.jsonl"
    result = invoke("export", run, "--format", "openai-sft", "--out", out)
    assert result.exit_code == 0, result.output
    assert openai_rules.file_problems(out) == []
    lines = read_jsonl(out)
    assert len(lines) == 10
    for line, episode in zip(
        lines, sorted(episodes(run), key=lambda e: (e.task_id, e.sample)), strict=True
    ):
        assistants = [m for m in line["messages"] if m["role"] == "assistant"]
        # weight 0 exactly where the turn made things worse (the step away from the target)
        assert [m["weight"] for m in assistants] == [
            0 if s.reward < 0 else 1 for s in episode.steps
        ]
        assert [m["weight"] for m in assistants] == [1, 0, 1, 1]
        calls = [c for m in assistants for c in m.get("tool_calls", [])]
        assert len({c["id"] for c in calls}) == len(calls) == 3  # the policy reused ids; now unique
        assert all(json.loads(c["function"]["arguments"]) for c in calls)
        assert line["tools"][0]["function"]["name"] == "add"


def test_the_openai_rules_catch_each_kind_of_broken_line(openai_env, tmp_path):
    run = make_run(openai_env, tmp_path / "run", solver, "-n", 1)
    assert invoke("export", run, "-f", "openai-sft", "-o", tmp_path / "sft.jsonl").exit_code == 0
    good = read_jsonl(tmp_path / "sft.jsonl")[0]
    assert openai_rules.example_problems(good) == []

    def broken(change) -> list[str]:
        example = json.loads(json.dumps(good))
        change(example)
        return openai_rules.example_problems(example)

    call = lambda e: e["messages"][2]["tool_calls"][0]  # noqa: E731
    assert "answers no open call" in " ".join(
        broken(lambda e: e["messages"][3].update(tool_call_id="x"))
    )
    assert "JSON string" in " ".join(
        broken(lambda e: call(e)["function"].update(arguments={"n": 1}))
    )
    assert "not valid JSON" in " ".join(broken(lambda e: call(e)["function"].update(arguments="{")))
    assert "not one of the example's tools" in " ".join(
        broken(lambda e: call(e)["function"].update(name="sub"))
    )
    assert "role must be" in " ".join(broken(lambda e: e["messages"][1].update(role="human")))
    assert "weight must be 0 or 1" in " ".join(
        broken(lambda e: e["messages"][-1].update(weight=0.5))
    )
    assert "never answered" in " ".join(broken(lambda e: e["messages"].pop(3)))
    assert "last message" in " ".join(broken(lambda e: e["messages"].pop()))
    assert "unknown key" in " ".join(broken(lambda e: e.update(metadata={})))
    no_training = broken(
        lambda e: [m.update(weight=0) for m in e["messages"] if m["role"] == "assistant"]
    )
    assert "no assistant message to train on" in " ".join(no_training)
    assert "at least 10" in " ".join(openai_rules.file_problems(tmp_path / "sft.jsonl"))


def test_sharegpt_follows_llama_factory_rules_and_reads_back_with_datasets(openai_env, tmp_path):
    import datasets

    run = make_run(openai_env, tmp_path / "run", wobbler, "-n", 3)
    out = tmp_path / "sharegpt.jsonl"
    result = invoke("export", run, "--format", "sharegpt", "--out", out)
    assert result.exit_code == 0, result.output
    ds = datasets.load_dataset("json", data_files=str(out), split="train")
    assert len(ds) == 3
    for example in ds:
        assert sharegpt.example_problems(example) == []
        turns = example["conversations"]
        assert [t["from"] for t in turns] == [
            "system",
            "human",
            "function_call",
            "observation",
            "function_call",
            "observation",
            "function_call",
            "observation",
            "gpt",
        ]
        first_call = json.loads(turns[2]["value"])
        assert first_call["name"] == "add" and isinstance(first_call["arguments"], dict)
        assert turns[3]["value"].startswith("counter is now")
        assert json.loads(example["tools"])[0]["name"] == "add"
    # the checker refuses what LLaMA-Factory would skip
    assert sharegpt.example_problems({"conversations": [{"from": "gpt", "value": "hi"}]})
    assert sharegpt.example_problems({"conversations": [{"from": "human", "value": "hi"}]})


@pytest.mark.slow  # importing TRL (it loads transformers and torch) takes 10-60 s
def test_trl_records_are_conversational_and_render_with_a_chat_template(openai_env, tmp_path):
    from pathlib import Path

    import datasets

    trl = pytest.importorskip("trl", reason="TRL comes with the `train` extra")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import bytes_to_unicode
    from trl.data_utils import is_conversational, maybe_apply_chat_template

    run = make_run(openai_env, tmp_path / "run", solver, "-n", 3)
    out = tmp_path / "trl.jsonl"
    assert invoke("export", run, "--format", "trl", "--out", out).exit_code == 0
    # a byte-level tokenizer made here (nothing can be downloaded), with the Qwen2.5 chat
    # template that TRL ships
    vocab = {ch: i for i, ch in enumerate(bytes_to_unicode().values())}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend)
    tokenizer.chat_template = (
        Path(trl.__file__).parent / "chat_templates" / "qwen2_5.jinja"
    ).read_text()
    ds = datasets.load_dataset("json", data_files=str(out), split="train")
    assert len(ds) == 3
    for example in ds:
        assert is_conversational(example)
        tools = json.loads(example["tools"])
        text = maybe_apply_chat_template({"messages": example["messages"]}, tokenizer, tools=tools)[
            "text"
        ]
        n = example["messages"][2]["tool_calls"][0]["function"]["arguments"]["n"]
        assert f'<tool_call>\n{{"name": "add", "arguments": {{"n": {n}}}}}\n</tool_call>' in text
        assert f"<tool_response>\ncounter is now {n}\n</tool_response>" in text
        assert json.dumps(tools[0]) in text  # the tool schema is in the prompt
        assert text.rstrip().endswith("Done.<|im_end|>")
        assert tokenizer.decode(tokenizer(text)["input_ids"]) == text


def test_bad_input_gets_one_line_and_exit_2(openai_env, tmp_path):
    run = make_run(openai_env, tmp_path / "run", solver, "-n", 1)
    (tmp_path / "empty").mkdir()
    (tmp_path / "blank").mkdir()
    (tmp_path / "blank" / "episodes.jsonl").write_text("")
    (tmp_path / "file").write_text("x")
    cases = [
        ([tmp_path / "missing", "-f", "hf"], "no such run folder"),
        ([tmp_path / "file", "-f", "hf"], "not a folder"),
        ([tmp_path / "empty", "-f", "hf"], "has no episodes.jsonl"),
        ([tmp_path / "blank", "-f", "trl"], "holds no episodes"),
        ([run, "-f", "alpaca"], "unknown; choose one of hf, openai-sft, trl, sharegpt"),
        ([run, "-f", "trl", "-o", tmp_path / "nowhere" / "x.jsonl"], "does not exist"),
        ([run, "-f", "trl", "-o", tmp_path], "is a folder"),
        ([run, "-f", "trl", "--min-reward", 2], "nothing to export"),
    ]
    for args, message in cases:
        result = invoke("export", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert sorted(p.name for p in run.iterdir()) == ["episodes.jsonl", "results.json", "run.json"]
