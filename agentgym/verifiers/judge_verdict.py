"""A judge's verdict (score 0-10 and reasons) and how it is read from the judge's reply.

Only the judge's own reply is parsed, never the content it judged. The reply may wrap the JSON
in prose or a code fence, or quote other JSON before it: the verdict is the last top-level JSON
object in the reply that is a valid Verdict (objects nested inside another are not considered,
so a quoted `{"score": 10}` inside the verdict's reasons cannot become the verdict).
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SCORE_MAX = 10.0
#: a longer reply is cut before parsing (scanning is quadratic in the worst case)
MAX_REPLY_CHARS = 20_000


class Verdict(BaseModel):
    """What a judge says: a score from 0 (fails) to 10 (fully satisfies), and why."""

    model_config = ConfigDict(extra="ignore")

    score: float = Field(ge=0, le=SCORE_MAX)
    reasons: list[str] = Field(default_factory=list)

    @field_validator("reasons", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        if isinstance(value, str):
            return [value]
        return value

    @property
    def value(self) -> float:
        """The score on 0..1."""
        return self.score / SCORE_MAX


class MalformedVerdict(ValueError):
    """The judge's reply holds no valid verdict."""


def parse_verdict(reply: str | None) -> Verdict:
    """The verdict in a judge's reply; MalformedVerdict if there is none."""
    if not reply or not reply.strip():
        raise MalformedVerdict("the judge's reply is empty")
    text = reply[-MAX_REPLY_CHARS:]
    found: Verdict | None = None
    problem = "no JSON object in the reply"
    decoder = json.JSONDecoder()
    i = text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            i = text.find("{", i + 1)
            continue
        if isinstance(obj, dict):
            try:
                found = Verdict.model_validate(obj)
            except ValidationError as e:
                problem = f"a JSON object that is not a verdict: {_first_error(e)}"
        i = text.find("{", end)  # skip what is nested inside this object
    if found is None:
        raise MalformedVerdict(problem)
    return found


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "verdict"
    return f"{where}: {first.get('msg', 'invalid')}"


def verdict_schema() -> dict:
    """JSON schema of a verdict (for servers that take `response_format` with a schema)."""
    return {
        "type": "object",
        "properties": {
            "score": {"type": "number", "minimum": 0, "maximum": SCORE_MAX},
            "reasons": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["score", "reasons"],
        "additionalProperties": False,
    }
