"""Generate the airline tasks: requests composed into conversations at difficulty levels 1..5.

    python -m agentgym.environments.tooluse.airline.taskgen               # rewrites tasks/tooluse/airline.jsonl
    python -m agentgym.environments.tooluse.airline.taskgen --level 4 --count 30 out.jsonl

The shipped file has, per database seed, every request kind once at level 1 and one task at each
of levels 2..5 (levels.py says what a level composes). `--level` writes `--count` tasks of one
level instead: the difficulty knob. Generation is deterministic; the shipped file is exactly what
this module generates.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from agentgym.environments.tooluse.airline.bench import AirlineBench
from agentgym.environments.tooluse.airline.data import copy_database, fresh_database
from agentgym.environments.tooluse.airline.requests import KINDS
from agentgym.environments.tooluse.airline.tasks import (
    AirlineData,
    AirlineTask,
    default_tasks_path,
    dump_tasks,
)
from agentgym.environments.tooluse.drafting import NoCandidate
from agentgym.environments.tooluse.levels import LEVELS, PLANS, Composed, compose, single
from agentgym.environments.tooluse.tools import fetch_all

DB_SEEDS = (0, 1, 2)


class Generator:
    """Tasks over one seed's database; reservations used by one task are not used by the next."""

    def __init__(self, seed: int):
        self.seed = seed
        self.template = fresh_database(seed)
        self.rng = random.Random(f"airline-tasks-{seed}")
        self.taken: set[str] = set()
        self.users = [r["user_id"] for r in fetch_all(self.template, "SELECT user_id FROM users ORDER BY user_id")]

    def make(self, level: int, kind: str | None = None) -> Composed | None:
        """A task of `level` (of request `kind` at level 1) for the first user who can have one."""
        for user_id in self.rng.sample(self.users, len(self.users)):
            taken = set(self.taken)
            bench = AirlineBench(copy_database(self.template), self.rng, user_id, taken)
            try:
                if level == 1:
                    assert kind is not None
                    composed = single(bench, kind, KINDS[kind][1][0])
                else:
                    composed = compose(bench, PLANS[level], self.rng)
            except NoCandidate:
                continue
            finally:
                bench.db.close()
            self.taken = taken
            return composed
        return None

    def task(self, composed: Composed, level: int, index: int) -> AirlineTask:
        return AirlineTask(
            id=f"airline-s{self.seed}-{level}-{index:02d}",  # no request kinds: the id is shown to harnesses
            prompt=composed.instruction,
            data=AirlineData(db_seed=self.seed, kinds=composed.kinds, user_facts=composed.facts,
                             required_amounts=composed.amounts, required_outputs=composed.outputs,
                             must_not_say=composed.must_not_say, decoys=composed.decoys,
                             users=["simulated"] if composed.notes else ["scripted", "simulated"],
                             simulator_notes=composed.notes),
            reference=composed.reference,
            difficulty=level,
        )


def generate_tasks(seeds: tuple[int, ...] = DB_SEEDS) -> list[AirlineTask]:
    """The shipped suite: every kind at level 1 and one task per level 2..5, for each seed."""
    tasks = []
    for seed in seeds:
        gen = Generator(seed)
        plan = [(1, kind) for kind in KINDS] + [(level, None) for level in LEVELS if level > 1]
        for index, (level, kind) in enumerate(plan):
            composed = gen.make(level, kind)
            if composed is not None:
                tasks.append(gen.task(composed, level, index))
    return tasks


def generate_level(level: int, count: int, first_seed: int = 0) -> list[AirlineTask]:
    """`count` tasks of one level, over seeds `first_seed`, `first_seed + 1`, ... in turn."""
    if level not in LEVELS:
        raise ValueError(f"levels are {LEVELS[0]}..{LEVELS[-1]}, not {level}")
    kinds = [k for k, (_, categories) in KINDS.items() if "simulated" not in categories]
    tasks: list[AirlineTask] = []
    generators: dict[int, Generator] = {}
    attempts = 0
    while len(tasks) < count and attempts < 20 * count:
        seed = first_seed + attempts % max(1, min(count, 10))
        gen = generators.setdefault(seed, Generator(seed))
        composed = gen.make(level, kinds[attempts % len(kinds)] if level == 1 else None)
        attempts += 1
        if composed is not None:
            tasks.append(gen.task(composed, level, len(tasks)))
    return tasks


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, help="output file (default: the shipped airline.jsonl)")
    parser.add_argument("--level", type=int, choices=LEVELS, help="write tasks of this level only")
    parser.add_argument("--count", type=int, default=30, help="how many tasks with --level")
    args = parser.parse_args(argv)
    tasks = generate_level(args.level, args.count) if args.level else generate_tasks()
    path = args.path or default_tasks_path()
    path.write_text(dump_tasks(tasks), encoding="utf-8")
    print(f"wrote {len(tasks)} tasks to {path}")


if __name__ == "__main__":
    main()
