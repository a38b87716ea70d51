"""The difficulty knob of generated tool-use tasks: levels 1..5 compose more requests into one
conversation. Shared by every tool-use domain (retail, airline).

A domain offers a `Workbench` for one user: how the agent authenticates them, `Request` makers by
category, and a working copy of the database on which each request the reference makes is
applied, so that a later request is made against the state the earlier ones left.

    level 1   one request (a read, a write or a forbidden one)
    level 2   two requests: one that tells an amount, then a write
    level 3   three: the second is done only if the first one's amount is above a threshold
    level 4   four: as level 3, with a forbidden request mixed in
    level 5   five: two conditions and a forbidden request

A condition ("If the refund is more than $300, also add a bag to ...; otherwise leave it.") is
decided by the generator on the working copy; its threshold is drawn on either side of the real
value, so doing the branch always, or never, fails half the time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from agentgym.core.types import Action, ToolCall
from agentgym.environments.tooluse.drafting import NoCandidate, money
from agentgym.environments.tooluse.tasks import OutputSpec
from agentgym.verifiers import output_present

LEVELS = (1, 2, 3, 4, 5)
#: what each level composes: categories of requests; "if" is a write done on a condition
PLANS: dict[int, tuple[str, ...]] = {
    2: ("value", "write"),
    3: ("value", "if", "write"),
    4: ("value", "if", "forbidden", "write"),
    5: ("value", "if", "forbidden", "value", "if"),
}
CONFIRM = "Shall I go ahead?"


@dataclass
class Request:
    """One thing the user asks for, with the reference's part of the conversation."""

    kind: str
    ask: str  # what the user says (one or more sentences)
    steps: list[Action] = field(default_factory=list)  # look-ups, confirmations, writes
    tell: str = ""  # what the agent finally tells the user about it (no question)
    amounts: list[str] = field(default_factory=list)  # dollar amounts the agent must say
    outputs: list[str | OutputSpec] = field(default_factory=list)  # phrases it must say
    must_not_say: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)  # what the user knows and tells when asked
    #: an amount it tells that a later condition can test: (how the user calls it, cents)
    value: tuple[str, int] | None = None
    writes: bool = False
    ends: bool = False  # it ends the conversation (a transfer): only alone, at level 1
    decoys: list[Action] = field(default_factory=list)  # see Composed.decoys
    write_steps: list[Action] = field(default_factory=list)  # the steps of `steps` that write
    #: how a simulated user behaves beyond `ask` (a change of mind); a task with notes is for a
    #: simulated user only: the scripted one says everything at once
    notes: str = ""

    def call(self, name: str, **arguments: Any) -> None:
        self.steps.append(Action(tool_calls=[ToolCall(name=name, arguments=arguments)]))

    def write(self, plan: str, name: str, **arguments: Any) -> None:
        """A write, after telling the user what it does and asking them to confirm."""
        self.steps.append(Action(content=f"{plan} {CONFIRM}"))
        self.call(name, **arguments)
        self.write_steps.append(self.steps[-1])
        self.writes = True


Maker = Callable[[], Request]


class Workbench(Protocol):
    """One user of one domain's database, and the requests that can be made for them."""

    def opening(self) -> tuple[str, list[Action], dict[str, str]]:
        """The user's self-introduction, the reference's authentication steps, the user's facts."""
        ...

    def makers(self, category: str) -> dict[str, Maker]:
        """Request makers by kind; categories: read, value, write, forbidden, ends."""
        ...

    def apply(self, request: Request) -> None:
        """Run the request's tool calls on the working copy (raises if one fails)."""
        ...


@dataclass
class Composed:
    """A whole task: the user's instruction, the reference, what must (not) be said."""

    kinds: list[str]
    instruction: str
    reference: list[Action]
    facts: dict[str, str]
    amounts: list[str]
    outputs: list[str | OutputSpec]
    must_not_say: list[str]
    writes: bool
    #: the writes of branches whose condition does not hold: doing them costs the score
    decoys: list[Action] = field(default_factory=list)
    notes: str = ""


def _draw(bench: Workbench, category: str, rng: random.Random, used: set[str]) -> Request:
    """A request of `category`, of a kind not used yet in this conversation."""
    makers = sorted((k, m) for k, m in bench.makers(category).items() if k not in used)
    rng.shuffle(makers)
    for kind, make in makers:
        try:
            request = make()
        except NoCandidate:
            continue
        used.add(kind)
        return request
    raise NoCandidate


def _condition(source: Request, branch: Request, rng: random.Random) -> tuple[Request, bool]:
    """`branch`, asked on a condition on `source`'s amount; whether the condition holds."""
    assert source.value is not None
    name, cents = source.value
    delta = max(1, round(cents * rng.uniform(0.1, 0.4) / 100)) * 100
    holds = rng.random() < 0.5 and cents - delta > 0
    threshold = cents - delta if holds else cents + delta
    ask = f"If {name} is more than {money(threshold)}, then also this: {branch.ask} If not, leave that as it is."
    if holds:
        return replace(branch, ask=ask), True
    tell = f"As {name} is {money(cents)}, not more than {money(threshold)}, I made no other change."
    return Request(f"{branch.kind}_skipped", ask, tell=tell, facts=branch.facts, decoys=branch.write_steps), False


def compose(bench: Workbench, plan: Iterable[str], rng: random.Random) -> Composed:
    """Make one request per category of `plan` for the bench's user, in order, applying each one
    the reference makes; a kind appears at most once. Raises NoCandidate when the user lacks what
    a request needs."""
    hello, auth, facts = bench.opening()
    used: set[str] = set()
    requests: list[Request] = []
    for category in plan:
        if category == "if":
            sources = [r for r in requests if r.value is not None]
            if not sources:
                raise NoCandidate
            request, holds = _condition(sources[-1], _draw(bench, "write", rng, used), rng)
            if holds:
                bench.apply(request)
        else:
            request = _draw(bench, category, rng, used)
            bench.apply(request)
        requests.append(request)
    return _assemble(hello, auth, facts, requests)


def _assemble(hello: str, auth: list[Action], facts: dict[str, str], requests: list[Request]) -> Composed:
    tells = " ".join(r.tell for r in requests if r.tell)
    assert "?" not in tells, "a final message with a question would not end the conversation"
    steps = [a for r in requests for a in r.steps]
    if any(r.ends for r in requests):  # the tells come first, then the call that ends it all
        *steps, last = steps
        closing = [Action(content=f"{tells} {CONFIRM}"), last]
    else:
        closing = [Action(content=tells)]
    reference = _numbered([*auth, *steps, *closing])
    said = [a.content for a in reference if a.content]
    for r in requests:  # requests that contradict each other (one says what another forbids)
        for o in r.outputs:
            spec = OutputSpec(any_of=[o]) if isinstance(o, str) else o
            if not any(output_present(p, said) for p in spec.any_of) or any(output_present(p, said) for p in spec.not_with):
                raise NoCandidate
        assert all(output_present(a, said) for a in r.amounts), f"the reference does not say {r.amounts}"
    # a claim one request forbids may be what another one honestly says ("was cancelled")
    must_not = list(dict.fromkeys(p for r in requests for p in r.must_not_say if not output_present(p, said)))
    return Composed(
        kinds=[r.kind for r in requests],
        instruction=" ".join([hello, *(r.ask for r in requests)]),
        reference=reference,
        facts={**facts, **{k: v for r in requests for k, v in r.facts.items()}},
        amounts=list(dict.fromkeys(a for r in requests for a in r.amounts)),
        outputs=[o for r in requests for o in r.outputs],
        must_not_say=must_not,
        writes=any(r.writes for r in requests),
        decoys=_numbered([a for r in requests for a in r.decoys]),
        notes=" ".join(r.notes for r in requests if r.notes),
    )


def _numbered(actions: list[Action]) -> list[Action]:
    """Call ids unique in the whole reference: call_<step>."""
    out = []
    for i, action in enumerate(actions):
        calls = [c.model_copy(update={"id": f"call_{i}_{j}"}) for j, c in enumerate(action.tool_calls)]
        out.append(action.model_copy(update={"tool_calls": calls}))
    return out


def single(bench: Workbench, kind: str, category: str) -> Composed:
    """A level-1 task of one given kind."""
    hello, auth, facts = bench.opening()
    request = bench.makers(category)[kind]()
    bench.apply(request)
    return _assemble(hello, auth, facts, [request])
