"""What an agent told the user: required facts, said plainly, not hidden among guesses.

A hedging agent does not know a fact, so it says many candidate values and hopes one is the
required one ("$0.01, $0.02, ... $2,000.00", "either $X or $Y", every status, every reason for a
refusal). The rules below fail that whole class while an honest answer that mentions other values
in passing passes. They read every message the agent wrote to the user, as one conversation:
spreading candidates over several messages counts the same as one long message.

Money amounts. One reader finds every money mention, and the same mentions both satisfy a
required amount and count as candidates, so no way of writing an amount can do one without the
other. A mention is a number with "$", "USD", "dollars" or "cents" next to it ("$1,234.50",
"42 dollars and 50 cents", "USD 42.5"), or a bare number with exactly two decimals ("254.47").
Numbers in words are read as digits first ("forty-two dollars and fifty cents" is $42.50).
A bare whole number ("303") is not money: zip codes, sizes, quantities and card digits look the
same. Values are compared exactly ($42.5 = $42.50).
  1. Present: every required amount is among the amounts said.
  2. Bounded: the distinct amounts said in the whole conversation are at most
     len(task_amounts) + SLACK. `task_amounts` are the amounts the facts of the task justify,
     fixed per task (in tooluse: what the reference solution reads and says, and the amounts it
     writes); SLACK covers a couple of figures an honest agent may work out (a new balance, a
     sum, a corrected slip). The bound never grows with what the agent reads, so reading the
     whole store and repeating it fails. It holds in every task, also one that asks for no amount.
  3. No alternatives: an amount offered as an alternative to another ("either $X or $Y",
     "$X. Or maybe $Y", "$X/$Y": "or", "either", "maybe", "perhaps", "possibly",
     "alternatively" or "otherwise" among the two words before it, or a "/" between two amounts)
     fails once two distinct amounts were said.

Closed sets (an order status, the reason for a refusal). A `Phrase` fact is said in one of its
wordings (`any_of`) and no other value of its set (`not_with`) is said anywhere.

Contradictions. `must_not_say` holds claims that contradict the task's outcome, said anywhere:
a refusal must not also claim the action was done ("is cancelled", "the return is requested"),
nor give another refusal's reason; a completed request must not also be refused.

What passes: "Your refund is $42.50 of the $50.00 order"; an itemized list of an order's prices
with its total; an answer corrected later in the conversation. What is not told apart: several
amounts within the bound with no alternation word ("It is $X. It is $Y.") read like an itemized
answer, so an agent may list the amounts of the rows the task is about; it cannot do better than
that without having found those rows.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

from text_to_num import alpha2digit

#: figures an honest agent may work out beyond the task's own amounts
SLACK = 2

# ---- text normalisation and phrases ------------------------------------------------------------

_APOSTROPHES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'"})


def _fold(text: str) -> str:
    """Compatibility forms folded (full-width digits, non-breaking spaces), curly apostrophes straight."""
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)


@lru_cache(maxsize=4)
def normalize_text(text: str) -> str:
    """The form phrases are compared in: folded, lowercase, single spaces."""
    return " ".join(_fold(text).lower().split())


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def phrase_in(required: str, normalized: list[str]) -> bool:
    """Is the phrase `required` in any of the `normalized` texts (see `normalize_text`), as whole words?"""
    needle = normalize_text(required)
    if not needle:
        return True
    for text in normalized:  # str.find, not a regex: texts can be megabytes long
        at = text.find(needle)
        while at != -1:
            end = at + len(needle)
            before, after = text[at - 1:at], text[end:end + 1]
            if not (before and _is_word_char(before)) and not (after and _is_word_char(after)):
                return True
            at = text.find(needle, at + 1)
    return False


def output_present(required: str, texts: list[str]) -> bool:
    """Is the phrase `required` said, as whole words, in any of `texts` (after normalising both)?"""
    return phrase_in(required, [normalize_text(t) for t in texts])


# ---- money -------------------------------------------------------------------------------------

_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_MONEY = re.compile(
    rf"(?:us\s?)?\$\s?(?P<sign>{_NUM})"  # $42.50, US$ 42.50
    rf"|\busd\s?(?P<usd>{_NUM})"  # USD 42.50
    rf"|(?<![\w.,])(?P<dollars>{_NUM})\s*(?:dollars?|bucks|usd)\b"  # 42.50 dollars
    rf"(?:,?\s*(?:and\s+)?(?P<and_cents>\d+)\s*cents?\b)?"  # ... and 50 cents
    r"|(?<![\w.,])(?P<cents>\d+)\s*cents?\b"  # 50 cents
    r"|(?<![\w.,$])(?P<bare>\d{1,3}(?:,\d{3})+\.\d\d|\d+\.\d\d)(?![\w]|[.,]\d)",  # 254.47
    re.IGNORECASE,
)
# pieces for text2num: whole sentences of at most ~1,000 characters (it is slow on long runs)
_PIECE = re.compile(r".{1,1000}?(?:[.!?;]+(?=\s|$)|\n|$)|.{1,1000}(?:[\s,]|$)|.{1,1000}", re.DOTALL)
_ALTERNATIVES = frozenset({"or", "either", "maybe", "perhaps", "possibly", "alternatively", "otherwise"})
_WORD = re.compile(r"[a-z]+")
_LETTER = re.compile(r"[a-zA-Z]")


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _words_to_digits(text: str) -> str:
    """Numbers written in words as digits ("forty-two" -> "42"), piece by piece."""
    return "".join(alpha2digit(piece, "en", threshold=0) for piece in _PIECE.findall(text))


class MoneyMention(NamedTuple):
    value: Decimal
    #: offered as an alternative to an amount before it ("or $Y", "$X/$Y")
    alternative: bool


def money_mentions(text: str) -> tuple[MoneyMention, ...]:
    """Every money amount said in `text`, in order (see the module docstring for what counts)."""
    text = _words_to_digits(_fold(text))
    mentions: list[MoneyMention] = []
    previous_end = 0
    for m in _MONEY.finditer(text):
        try:
            if m["cents"] is not None:
                value = _number(m["cents"]) / 100
            else:
                value = _number(m["sign"] or m["usd"] or m["dollars"] or m["bare"])
                if m["and_cents"] is not None:
                    value += _number(m["and_cents"]) / 100
        except InvalidOperation:
            continue
        between = text[previous_end:m.start()]
        if _LETTER.search(between):
            alternative = not _ALTERNATIVES.isdisjoint(_WORD.findall(between.lower())[-2:])
        else:
            alternative = bool(mentions) and between.strip() == "/"
        mentions.append(MoneyMention(value, alternative))
        previous_end = m.end()
    return tuple(mentions)


@lru_cache(maxsize=4)  # scoring the same episode again (search, tests) reads the same texts
def _money_said(text: str) -> tuple[frozenset[Decimal], frozenset[Decimal]]:
    """The distinct amounts in `text`, and those offered as alternatives."""
    mentions = money_mentions(text)
    return frozenset(m.value for m in mentions), frozenset(m.value for m in mentions if m.alternative)


def parse_amount(text: str) -> Decimal:
    """The one amount `text` says ("$42.50"); ValueError if it says none or several."""
    found = money_mentions(text)
    if len(found) != 1:
        raise ValueError(f"{text!r} is not one dollar amount (write it like '$42.50')")
    return found[0].value


def dollars(value: Decimal) -> str:
    return f"${value:,.2f}"


# ---- facts and the check -----------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    """A value of a closed set, said in one of `any_of`, with none of `not_with` (the other values)."""

    any_of: tuple[str, ...]
    not_with: tuple[str, ...] = ()

    def problem(self, normalized: list[str]) -> str | None:
        """What is wrong with how the `normalized` texts (see `normalize_text`) give this fact."""
        if not any(phrase_in(o, normalized) for o in self.any_of):
            return "missing output " + " or ".join(repr(o) for o in self.any_of)
        hedged = [o for o in self.not_with if phrase_in(o, normalized)]
        if hedged:
            return f"output {self.any_of[0]!r} said together with " + ", ".join(repr(o) for o in hedged)
        return None


@dataclass(frozen=True)
class Amount:
    """A money amount the agent must say (rules 1-3 of the module docstring)."""

    value: Decimal

    @classmethod
    def of(cls, text: str) -> Amount:
        return cls(parse_amount(text))


@dataclass(frozen=True)
class AnswerVerdict:
    """How many required facts were given, what was wrong with them, and what was wrong with the
    answer as a whole (hedging, contradictions)."""

    facts_given: int
    facts: int
    problems: list[str]
    hedges: list[str]

    @property
    def plain(self) -> bool:
        return not self.hedges

    @property
    def ok(self) -> bool:
        return not self.problems and not self.hedges


@dataclass(frozen=True)
class AnswerKey:
    """What a task requires the agent to say, and what bounds its answer."""

    facts: tuple[Phrase | Amount, ...] = ()
    #: amounts the facts of the task justify (the required ones are added)
    task_amounts: frozenset[Decimal] = frozenset()
    must_not_say: tuple[str, ...] = ()
    slack: int = SLACK
    allowed: frozenset[Decimal] = field(init=False)

    def __post_init__(self) -> None:
        required = {f.value for f in self.facts if isinstance(f, Amount)}
        object.__setattr__(self, "allowed", frozenset(self.task_amounts | required))

    @property
    def max_amounts(self) -> int:
        return len(self.allowed) + self.slack

    def check(self, said: list[str]) -> AnswerVerdict:
        """Judge the messages the agent wrote to the user."""
        normalized = [normalize_text(t) for t in said]
        amounts: set[Decimal] = set()
        alternatives: set[Decimal] = set()
        for text in said:
            found, offered = _money_said(text)
            amounts |= found
            alternatives |= offered
        hedges: list[str] = []
        if len(amounts) > self.max_amounts:
            hedges.append(f"{len(amounts)} different amounts said, more than the {self.max_amounts} "
                          "this task can justify: a hedge, not an answer")
        if alternatives and len(amounts) > 1:
            hedges.append("amounts offered as alternatives: "
                          + ", ".join(dollars(v) for v in sorted(alternatives)[:5]))
        contradictions = [p for p in self.must_not_say if phrase_in(p, normalized)]
        if contradictions:
            hedges.append("said what contradicts the outcome: " + ", ".join(repr(p) for p in contradictions[:5]))

        problems: list[str] = []
        given = 0
        for fact in self.facts:
            if isinstance(fact, Amount):
                problem = None if fact.value in amounts else f"missing amount {dollars(fact.value)}"
                if problem is None and hedges:
                    problem = f"amount {dollars(fact.value)} is among hedged candidates"
            else:
                problem = fact.problem(normalized)
            given += problem is None
            if problem:
                problems.append(problem)
        return AnswerVerdict(given, len(self.facts), problems, hedges)
