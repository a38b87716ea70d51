"""The toy world behind `toy/*`: a dozen items (drawn from a pool of 48) with a colour, size,
owner and material, and the owners' homes, ages and jobs — small enough for a model built in
code to learn on a CPU.

A task is a question ("what color is the apple ?"), in each of its phrasings; the world is drawn
afresh from the episode's seed, so an answer can only come from looking it up, never from memory.
No two items of a world share a value, so looking up the wrong item never gives the right answer by
luck. `split` assigns each question (all its phrasings together) to "train" or "heldout", so a run
can learn on some questions and be measured on others.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

from agentgym.core.types import Action, Observation, Task, ToolCall

# The pool of item names; one episode's world holds WORLD_SIZE of them (always the one asked about).
# A pool larger than any one world means the item must be read from the question: a policy that
# memorised "the item" of each question cannot do well on questions it has not trained on.
ITEMS = tuple(
    "apple river stone cloud lamp rope coin leaf bell drum kite shell cup door fish frog hat key "
    "lake moon nest pen ring sock star tent tree wolf boat bird book cake coat desk egg fork gate "
    "horn jar knot mask nail oven pipe rose ship sand vase".split()
)
WORLD_SIZE = 12
PEOPLE = ("ann", "bob", "cara", "dan", "eve", "finn", "gus", "hana", "ivan", "jo", "kai", "lea")
# As many values per fact as a world has items (or people), dealt out without repeats: within a
# world no two items share a colour, so answering with the wrong item's fact never scores by luck.
ITEM_FACTS = {
    "color": tuple("red blue green gold white black pink gray brown purple orange silver".split()),
    "size": tuple("tiny small short tall wide narrow big huge long thin flat round".split()),
    "owner": PEOPLE,
    "material": tuple(
        "wood iron glass clay wool silk tin brass paper cotton leather plastic".split()
    ),
}
PERSON_FACTS = {
    "home": tuple("paris oslo lima cairo tokyo rome delhi quito dakar seoul lagos perth".split()),
    "age": tuple(
        "ten twenty thirty forty fifty sixty seventy eighty ninety eleven twelve nineteen".split()
    ),
    "job": tuple("baker pilot nurse farmer judge cook miner tailor actor poet guard clerk".split()),
}
# several phrasings per question, so the right call depends on reading the request
ITEM_QUESTIONS = {
    "color": ("what color is the {x} ?", "tell me the color of the {x} ."),
    "size": ("what size is the {x} ?", "tell me the size of the {x} ."),
    "owner": ("who is the owner of the {x} ?", "tell me the owner of the {x} ."),
    "material": ("what material is the {x} ?", "tell me the material of the {x} ."),
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


def deal(rng: random.Random, keys: tuple[str, ...], facts: dict[str, tuple[str, ...]]):
    """Each fact's values dealt to `keys` in a random order, one value each, none repeated."""
    dealt = {attr: rng.sample(values, len(keys)) for attr, values in facts.items()}
    return {key: {attr: dealt[attr][i] for attr in facts} for i, key in enumerate(keys)}


def build_world(seed: int = 0, include: tuple[str, ...] = ()) -> World:
    """The world of an episode: the items in `include` and others drawn from the pool, up to
    WORLD_SIZE. Looking up an item outside it is an error, so a wrong item never scores by luck."""
    rng = random.Random(seed)
    others = rng.sample([x for x in ITEMS if x not in include], WORLD_SIZE - len(include))
    return World(deal(rng, (*include, *others), ITEM_FACTS), deal(rng, PEOPLE, PERSON_FACTS))


def world_for(task: Task, seed: int) -> World:
    return build_world(seed, include=(task.data["item"],))


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


class WeakTeacher(ReferenceSolver):
    """Demonstrations as a weaker model gives them: the fact is looked up with the right tool only
    `accuracy` of the time, else with the teacher's `favourite` tool (the owner step of a chain is
    always right), then the answer is whatever came back. A policy warmed up on these overuses the
    favourite, but samples the right tool often enough for RL to find it."""

    def __init__(
        self, task: Task, seed: int | None, accuracy: float = 0.3, favourite: str = "color"
    ):
        super().__init__(task)
        attr = task.data["attr"]
        if task.data["chain"] and favourite in ITEM_FACTS:
            favourite = next(iter(PERSON_FACTS))
        rng = random.Random(f"{task.id}|{seed}")  # the same demonstration for the same episode
        self.fact_tool = attr if rng.random() < accuracy else favourite

    def act(self, observation: Observation, tools: list) -> Action:
        action = super().act(observation, tools)
        call = action.tool_calls[0]
        if call.name == self.task.data["attr"]:
            return _call(self.fact_tool, **call.arguments)
        return action


def _tasks(questions: dict[str, tuple[str, ...]], chain: bool, name: str) -> list[Task]:
    """Every question in each of its phrasings (ids: NAME, NAME-2, ...). Seeing every item in every
    phrasing is what teaches a small model to copy the item from wherever it stands in the request
    (with one phrasing per question it learned where items usually are instead)."""
    tasks = []
    for attr, phrasings in questions.items():
        for item in ITEMS:
            question = name.format(attr=attr, item=item)
            data = {"item": item, "attr": attr, "chain": chain, "split": split(question)}
            for j, phrasing in enumerate(phrasings):
                tasks.append(
                    Task(
                        id=question if j == 0 else f"{question}-{j + 1}",
                        family="toy",
                        prompt=phrasing.format(x=item),
                        data=data,
                        difficulty=1 + chain,
                    )
                )
    return tasks


def lookup_tasks() -> list[Task]:
    """One lookup, then the answer: 'what color is the apple ?' -> color(item=apple) -> answer."""
    return _tasks(ITEM_QUESTIONS, False, "{attr}-{item}")


def chain_tasks() -> list[Task]:
    """Two lookups, then the answer: owner(item) -> home(person) -> answer."""
    return _tasks(CHAIN_QUESTIONS, True, "{attr}-of-owner-{item}")


def vocabulary() -> list[str]:
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
