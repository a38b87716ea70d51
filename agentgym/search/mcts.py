"""MCTS over actions (UCT), SWE-Search style: each tree node holds its state as a fork; expansion
samples the policy; a new node is valued by the scorer (`value="scorer"`) or by a rollout to the
end in a throw-away fork scored by the scorer's final value (`value="rollout"`).

A node's env stays open while it may still get children and is closed once it has `samples` of
them (or its episode ended), so the open envs are bounded by the frontier, not the tree. Every
ended episode (a leaf or a rollout) is a candidate; `selector` picks one (as in beam.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from agentgym.core.errors import UserInputError
from agentgym.search.beam import action_key
from agentgym.search.best_of_n import VOTING, Found, choose, keep
from agentgym.search.scoring import Scorer
from agentgym.search.tree import Branch, SearchContext
from agentgym.search.vote import answer_key

VALUES = ("scorer", "rollout")


@dataclass
class Node:
    branch: Branch
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    keys: dict[str, Node] = field(default_factory=dict)  # action key -> child
    draws: int = 0  # policy samples taken here (a repeated action adds no child)
    visits: int = 0
    total: float = 0.0
    spent: bool = False  # nothing at or below it can grow

    @property
    def mean(self) -> float:
        return self.total / self.visits if self.visits else 0.0

    def open_to_expansion(self, samples: int) -> bool:
        return not self.branch.done and not self.spent and self.draws < samples


def uct(child: Node, parent_visits: int, c: float) -> float:
    if child.visits == 0:
        return math.inf
    return child.mean + c * math.sqrt(math.log(max(parent_visits, 1)) / child.visits)


def select(root: Node, samples: int, c: float) -> Node | None:
    """Walk down by UCT to a node that can still grow; None when the whole tree is spent.
    A node found spent is marked and the walk starts again, so this always ends."""
    node = root
    while not node.open_to_expansion(samples):
        live = [ch for ch in node.children if not ch.spent]
        if not live:
            node.spent = True
            if node is root:
                return None
            node = root
            continue
        parent = node
        node = max(live, key=lambda ch: uct(ch, parent.visits, c))
    return node


async def mcts(
    ctx: SearchContext,
    scorer: Scorer,
    iterations: int | None = None,
    samples: int = 3,
    c: float = 1.0,
    value: str = "rollout",
    max_rollout_steps: int | None = None,
    selector: str = "verifier",
) -> Found:
    if value not in VALUES:
        raise UserInputError(f"mcts value must be one of {', '.join(VALUES)}, not {value!r}")
    if samples < 1 or c < 0:
        raise UserInputError("mcts needs samples >= 1 and c >= 0")
    found = Found()
    root = Node(await ctx.root())
    nodes = [root]
    done_iterations = 0
    try:
        while iterations is None or done_iterations < iterations:
            if not ctx.meter.allows(1, 1):
                found.stopped = "budget"
                break
            leaf = select(root, samples, c)
            if leaf is None:
                break  # every node is spent: the tree is searched out
            done_iterations += 1
            child = await _expand(ctx, leaf, samples, scorer, nodes)
            if leaf.draws >= samples or leaf.branch.done:
                await ctx.close(leaf.branch)  # it will get no more children
            if child is None:  # the policy repeated an action: count a visit of that child
                continue
            if child.branch.done:
                await keep(ctx, found, child.branch, selector)
                reward = child.branch.value
            elif value == "rollout":
                reward = await _rollout(ctx, child, scorer, found, max_rollout_steps, selector)
            else:
                reward = child.branch.value
            _backpropagate(child, reward)
        if not found.branches:  # nothing ended in budget: the most promising open node as it stands
            frontier = [n for n in nodes if n.branch.env is not None]
            if frontier:
                best = max(frontier, key=lambda n: (n.mean, len(n.branch.steps)))
                await ctx.settle(best.branch)
                await keep(ctx, found, best.branch, selector)
    finally:
        for node in nodes:
            await ctx.close(node.branch)
    if found.branches:
        choose(found, selector)
    return found


async def _expand(
    ctx: SearchContext, leaf: Node, samples: int, scorer: Scorer, nodes: list[Node]
) -> Node | None:
    leaf.draws += 1
    action = await ctx.act(leaf.branch)
    key = action_key(action)
    if key in leaf.keys:
        _backpropagate(leaf.keys[key], leaf.keys[key].mean)
        return None
    branch = await ctx.fork(leaf.branch)
    child = Node(branch, parent=leaf)
    nodes.append(child)
    leaf.children.append(child)
    leaf.keys[key] = child
    await ctx.step(branch, action)
    await scorer.update(ctx, branch)
    return child


async def _rollout(
    ctx: SearchContext,
    node: Node,
    scorer: Scorer,
    found: Found,
    max_steps: int | None,
    selector: str,
) -> float:
    """Play the policy from `node` to the end in a fork; its final score is the node's value."""
    branch = await ctx.fork(node.branch)
    try:
        taken = 0
        while (
            not branch.done and ctx.meter.allows(1, 1) and (max_steps is None or taken < max_steps)
        ):
            await ctx.advance(branch)
            taken += 1
        if not branch.done:  # cut by the budget or the rollout limit: valued as it stands
            return await scorer.after_step(ctx, branch) if branch.steps else 0.0
        reward = await scorer.update(ctx, branch)
        if selector in VOTING:
            branch.answer = await answer_key(ctx, branch)
        found.branches.append(branch)
        return reward
    finally:
        await ctx.close(branch)


def _backpropagate(node: Node | None, reward: float) -> None:
    while node is not None:
        node.visits += 1
        node.total += reward
        node = node.parent
