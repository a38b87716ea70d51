"""A tool's description and its parameters' descriptions, read from a docstring.

Google, NumPy and reST (Sphinx) styles are all read by `docstring_parser`, which detects the
style itself. Sections other than the description and the parameters (Returns, Raises, Examples)
are not shown to the agent.
"""

from __future__ import annotations

import docstring_parser


def _one_paragraph(text: str) -> str:
    """An argument description wrapped over several lines reads as one line in a JSON schema."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """(description, {parameter name: description}) of a docstring in any common style."""
    if not doc or not doc.strip():
        return "", {}
    try:
        parsed = docstring_parser.parse(doc)
    except docstring_parser.ParseError as e:
        raise TypeError(f"cannot read the docstring: {e}") from None
    description = parsed.short_description or ""
    if parsed.long_description:
        gap = "\n\n" if parsed.blank_after_short_description else "\n"
        description = (
            f"{description}{gap}{parsed.long_description}"
            if description
            else parsed.long_description
        )
    params = {
        p.arg_name.lstrip("*"): _one_paragraph(p.description or "")
        for p in parsed.params
        if not p.args or p.args[0] != "attribute"  # a class's attributes are not parameters
    }
    return description.strip(), params
