"""A tiny model and tokenizer built in code (nothing downloaded), shared by the training tests."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A 2-layer model with a tokenizer trained on the toy envs' text, never trained itself."""
    from agentgym.environments.toy.world import vocabulary
    from agentgym.training.tiny import build_tiny

    return build_tiny(tmp_path_factory.mktemp("tiny") / "model", ["toy/Lookup-v0", "toy/LookupChain-v0"],
                      hidden=64, words=vocabulary())


@pytest.fixture(scope="session")
def warm_model(tiny_model, tmp_path_factory):
    """The tiny model after a short SFT warm-up on toy/Lookup-v0's train split."""
    from agentgym.training.sft import sft_warmup

    out = tmp_path_factory.mktemp("warm") / "model"
    shutil.copytree(tiny_model, out)
    sft_warmup(out, "toy/Lookup-v0", steps=150, save_to=out)
    return out
