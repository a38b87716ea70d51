"""Sweeps over every shipped task, sampled in the default run.

`make test` must stay under 30 minutes on two cores, and a sweep of every shipped task (SWE
builds and test runs, every web task in a real browser) alone takes minutes. By default a sweep
takes an even spread of its items (the first, the last, and evenly between, so every part of
the file is reached); `AGENTGYM_FULL_SWEEP=1` (`make test-full`) takes them all.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")
FULL_SWEEP = os.environ.get("AGENTGYM_FULL_SWEEP") == "1"


def sweep(items: Sequence[T], sample: int) -> list[T]:
    """Every item under a full sweep, else `sample` of them spread evenly (order kept)."""
    items = list(items)
    if FULL_SWEEP or len(items) <= sample:
        return items
    if sample == 1:
        return items[:1]
    picks = sorted({round(i * (len(items) - 1) / (sample - 1)) for i in range(sample)})
    return [items[i] for i in picks]
