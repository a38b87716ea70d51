"""Bug injection by AST mutation (SWE-smith / R2E-Gym style).

Sites are found with `ast`, but edits are made on the source text at the node's exact position,
so the rest of the file keeps its formatting and the diff shows only the bug. Only nodes that
sit on one line inside a function body are mutated.
"""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass

_COMPARE_SWAPS: dict[type, str] = {
    ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">", ast.Eq: "!=", ast.NotEq: "==",
    ast.In: "not in", ast.NotIn: "in", ast.Is: "is not", ast.IsNot: "is",
}
_BINOP_SWAPS: dict[type, str] = {ast.Add: "-", ast.Sub: "+", ast.FloorDiv: "%", ast.Mod: "//"}
_GAP = re.compile(r"^([\s)]*)(.*?)([\s(]*)$", re.DOTALL)
KINDS = ("compare", "boolop", "off_by_one", "remove_statement", "return_value", "swap_args", "arith")


@dataclass(frozen=True)
class Mutation:
    """One edit: replace `[col, end_col)` of line `line` (1-based) in `path` with `replacement`."""

    path: str
    line: int
    col: int
    end_col: int
    replacement: str
    kind: str
    function: str
    description: str


def _one_line(node: ast.AST) -> bool:
    return getattr(node, "lineno", None) is not None and node.lineno == node.end_lineno


def _segment(lines: list[str], node: ast.AST) -> str:
    return lines[node.lineno - 1][node.col_offset:node.end_col_offset]


class _SiteFinder(ast.NodeVisitor):
    def __init__(self, path: str, source: str):
        self.path = path
        self.lines = source.split("\n")  # the line breaks ast counts (col offsets are bytes: ASCII lines only)
        self.function = ""
        self.sites: list[Mutation] = []

    def _add(self, node: ast.AST, replacement: str, kind: str, what: str) -> None:
        original = _segment(self.lines, node)
        if replacement != original and self.function and self.lines[node.lineno - 1].isascii():
            self.sites.append(Mutation(
                self.path, node.lineno, node.col_offset, node.end_col_offset, replacement, kind,
                self.function, f"{kind} in {self.function}() at {self.path}:{node.lineno}: "
                               f"{original.strip()!r} -> {replacement.strip()!r} ({what})",
            ))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer, self.function = self.function, node.name
        for stmt in node.body:  # decorators and defaults are left alone
            self.visit(stmt)
        if len(node.body) > 1:
            self._removals(node.body)
        self.function = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def _removals(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr)) and _one_line(stmt):
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                    continue  # a docstring
                self._add(stmt, "pass", "remove_statement", "statement removed")

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.stmt):  # blocks of if/for/while/with/try
            for attr in ("body", "orelse", "finalbody"):
                block = getattr(node, attr, None)
                if isinstance(block, list) and len(block) > 1:
                    self._removals(block)
        super().generic_visit(node)

    def _swap_operators(self, node: ast.AST, operands: list[ast.AST], new_op: str) -> str:
        """The node's text with the operator between each pair of operands replaced (the
        operands' own text, quotes and spacing are kept as they are)."""
        line = self.lines[node.lineno - 1]
        out, pos = [], node.col_offset
        for left, right in zip(operands, operands[1:], strict=False):
            out.append(line[pos:left.end_col_offset])
            pre, _, post = _GAP.match(line[left.end_col_offset:right.col_offset]).groups()
            out.append(f"{pre}{new_op}{post}")
            pos = right.col_offset
        out.append(line[pos:node.end_col_offset])
        return "".join(out)

    def visit_Compare(self, node: ast.Compare) -> None:
        if _one_line(node) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE_SWAPS:
            new = self._swap_operators(node, [node.left, *node.comparators], _COMPARE_SWAPS[type(node.ops[0])])
            self._add(node, new, "compare", "comparison operator swapped")
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        if _one_line(node) and all(_one_line(v) for v in node.values):
            new = self._swap_operators(node, node.values, "or" if isinstance(node.op, ast.And) else "and")
            self._add(node, new, "boolop", "boolean operator swapped")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if _one_line(node) and type(node.op) in _BINOP_SWAPS:
            new = self._swap_operators(node, [node.left, node.right], _BINOP_SWAPS[type(node.op)])
            self._add(node, new, "arith", "arithmetic operator swapped")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if _one_line(node) and isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 64:
            self._add(node, str(value + 1), "off_by_one", "constant off by one")
            if value > 0:
                self._add(node, str(value - 1), "off_by_one", "constant off by one")

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None and _one_line(node):
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                self._add(node, f"return {not value.value}", "return_value", "return value flipped")
            elif not (isinstance(value, ast.Constant) and value.value is None):
                self._add(node, "return None", "return_value", "return value replaced by None")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        args = node.args
        if _one_line(node) and len(args) >= 2 and not any(isinstance(a, ast.Starred) for a in args[:2]):
            first, second = _segment(self.lines, args[0]), _segment(self.lines, args[1])
            if first != second and _one_line(args[0]) and _one_line(args[1]):
                line = self.lines[node.lineno - 1]
                start, end = args[0].col_offset, args[1].end_col_offset
                between = line[args[0].end_col_offset:args[1].col_offset]
                site = Mutation(
                    self.path, node.lineno, start, end, second + between + first, "swap_args",
                    self.function, f"swap_args in {self.function}() at {self.path}:{node.lineno}: "
                                   f"{first!r} <-> {second!r} (first two arguments swapped)",
                )
                if self.function and line.isascii():
                    self.sites.append(site)
        self.generic_visit(node)


def find_sites(path: str, source: str) -> list[Mutation]:
    """Every single mutation of `source` (a module at repo-relative `path`)."""
    finder = _SiteFinder(path, source)
    finder.visit(ast.parse(source))
    return finder.sites


def apply_mutations(source: str, mutations: list[Mutation]) -> str:
    """`source` with the mutations applied; they must not overlap. The result must parse."""
    lines = source.split("\n")
    for m in sorted(mutations, key=lambda m: (m.line, m.col), reverse=True):
        text = lines[m.line - 1]
        lines[m.line - 1] = text[:m.col] + m.replacement + text[m.end_col:]
    out = "\n".join(lines)
    ast.parse(out)
    return out


def _overlaps(a: Mutation, b: Mutation) -> bool:
    return a.path == b.path and a.line == b.line


def balanced_choice(sites: list[Mutation], rng: random.Random) -> Mutation:
    """A site of a kind drawn uniformly, so that common kinds (constants) do not crowd out the rest."""
    kinds = sorted({s.kind for s in sites})
    kind = rng.choice(kinds)
    return rng.choice([s for s in sites if s.kind == kind])


def pick_combination(sites: list[Mutation], difficulty: int, rng: random.Random) -> list[Mutation]:
    """Difficulty 1: one mutation; 2: two in one function; 3+: `difficulty - 1` in different functions,
    across files when there are several."""
    first = balanced_choice(sites, rng)
    if difficulty <= 1:
        return [first]
    if difficulty == 2:
        same = [s for s in sites if s.function == first.function and s.path == first.path
                and not _overlaps(s, first)]
        return [first, rng.choice(same)] if same else []
    chosen = [first]
    pool = list(sites)
    rng.shuffle(pool)
    pool.sort(key=lambda s: s.path == first.path)  # other files first
    for site in pool:
        if len(chosen) == difficulty - 1:
            break
        if all(site.function != c.function and not _overlaps(site, c) for c in chosen):
            chosen.append(site)
    return chosen if len(chosen) == difficulty - 1 else []
