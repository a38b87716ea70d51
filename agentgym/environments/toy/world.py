"""The toy world behind `toy/*`: a dozen items with a colour, size and owner, and the owners'
homes, ages and jobs — small enough for a model built in code to learn on a CPU.

A task is a question ("what color is the apple ?"); the facts are drawn afresh from the episode's
seed, so an answer can only come from looking it up, never from memory. `split` assigns each
task to "train" or "heldout", so a run can learn on some questions and be measured on others.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

from agentgym.core.types import Action, Observation, Task, ToolCall

ITEMS = (
    "apple",
    "river",
    "stone",
    "cloud",
    "lamp",
    "rope",
    "coin",
    "leaf",
    "bell",
    "drum",
    "kite",
    "shell",
)
PEOPLE = ("ann", "bob", "cara", "dan", "eve", "finn")
ITEM_FACTS = {
    "color": ("red", "blue", "green", "gold", "white", "black"),
    "size": ("tiny", "small", "big", "huge"),
    "owner": PEOPLE,
}
PERSON_FACTS = {
    "home": ("paris", "oslo", "lima", "cairo", "tokyo"),
    "age": ("ten", "twenty", "thirty", "forty", "fifty"),
    "job": ("baker", "pilot", "nurse", "farmer", "judge"),
}
# several phrasings per question, so the right call depends on reading the request
ITEM_QUESTIONS = {
    "color": ("what color is the {x} ?", "tell me the color of the {x} ."),
    "size": ("how big is the {x} ?", "tell me the size of the {x} ."),
    "owner": ("who owns the {x} ?", "tell me the owner of the {x} ."),
}
CHAIN_QUESTIONS = {
    "home": ("where does the owner of the {x} live ?", "tell me the home of the {x} owner ."),
    "age": ("how old is the owner of the {x} ?", "tell me the age of the {x} owner ."),
    "job": ("what job does the owner of the {x} do ?", "tell me the job of the {x} owner ."),
}
HELDOUT_PERCENT = 30


@dataclass(frozen=True)
class World:
    items: dict[str, dict[str, str]]
    people: dict[str, dict[str, str]]


def build_world(seed: int = 0) -> World:
    rng = random.Random(seed)
    items = {x: {k: rng.choice(v) for k, v in ITEM_FACTS.items()} for x in ITEMS}
    people = {p: {k: rng.choice(v) for k, v in PERSON_FACTS.items()} for p in PEOPLE}
    return World(items, people)


WORLD = build_world()


def answer_for(task: Task, world: World) -> str:
    """The fact a task asks for in `world`."""
    item, attr = task.data["item"], task.data["attr"]
    if task.data["chain"]:
        return world.people[world.items[item]["owner"]][attr]
    return world.items[item][attr]


def split(task_id: str) -> str:
    """'heldout' for a fixed ~30% of task ids (by a hash, so adding tasks moves none), else 'train'."""
    return "heldout" if zlib.crc32(task_id.encode()) % 100 < HELDOUT_PERCENT else "train"


class ReferenceSolver:
    """Acts the reference: look up (the owner first, for a chain), then answer what came back."""

    def __init__(self, task: Task):
        self.task = task

    def act(self, observation: Observation, tools: list) -> Action:
        data = self.task.data
        results = [m.content or "" for m in observation.messages if m.role == "tool"]
        if not results:
            first = "owner" if data["chain"] else data["attr"]
            return _call(first, item=data["item"])
        if data["chain"] and len(results) == 1:
            return _call(data["attr"], person=results[0])
        return _call("answer", value=results[-1])


def _call(name: str, **arguments: str) -> Action:
    return Action(tool_calls=[ToolCall(name=name, arguments=arguments)])


def _tasks(questions: dict[str, tuple[str, ...]], chain: bool, name: str) -> list[Task]:
    tasks = []
    for attr, phrasings in questions.items():
        for i, item in enumerate(ITEMS):
            task_id = name.format(attr=attr, item=item)
            data = {"item": item, "attr": attr, "chain": chain, "split": split(task_id)}
            prompt = phrasings[i % len(phrasings)].format(x=item)
            tasks.append(
                Task(id=task_id, family="toy", prompt=prompt, data=data, difficulty=1 + chain)
            )
    return tasks


def lookup_tasks() -> list[Task]:
    """One lookup, then the answer: 'what color is the apple ?' -> color(item=apple) -> answer."""
    return _tasks(ITEM_QUESTIONS, False, "{attr}-{item}")


def chain_tasks() -> list[Task]:
    """Two lookups, then the answer: owner(item) -> home(person) -> answer."""
    return _tasks(CHAIN_QUESTIONS, True, "{attr}-of-owner-{item}")


def vocabulary(world: World = WORLD) -> list[str]:
    """Every word the toy envs say or expect, for a tokenizer built in code."""
    words = (
        set(ITEMS)
        | set(PEOPLE)
        | set(ITEM_FACTS)
        | set(PERSON_FACTS)
        | {"answer", "item", "person", "value"}
    )
    for values in (*ITEM_FACTS.values(), *PERSON_FACTS.values()):
        words |= set(values)
    for phrasings in (*ITEM_QUESTIONS.values(), *CHAIN_QUESTIONS.values()):
        for p in phrasings:
            words |= set(p.replace("{x}", "").split())
    return sorted(words)
