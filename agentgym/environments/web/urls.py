"""Which page a URL shows, matched by its parsed parts (urllib.parse), never by substring.

A regex or substring over the whole URL gives a page's reward to any URL that merely contains
it: `/?x=/product/68` "visits" `/product/68`. `url_is` compares what the app routes on instead:
  - the path, percent-decoded as the app's router sees it ("/product/%36%38" is "/product/68",
    which the app serves as that page), compared whole and exactly: "//product/68",
    "/product/68/" and "/x/product/68" are other pages. Dot segments ("/x/../product/68") are
    resolved by the browser before the request, so the URL a page shows never holds them; one
    that does is not the page either;
  - each expected query parameter, parsed (`parse_qsl`), present exactly once with the expected
    value (with a repeated parameter, which one the app reads is its own business). Parameters
    not named are allowed: the apps ignore parameters they do not know;
  - the origin, when given (scheme and host, case-insensitive);
  - never the fragment, which the browser does not send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator


@dataclass(frozen=True)
class PageAddress:
    origin: str
    path: str
    query: tuple[tuple[str, str], ...]


def page_address(url: str) -> PageAddress:
    parts = urlsplit(url)
    return PageAddress(
        origin=f"{parts.scheme}://{parts.netloc}".lower(),
        path=unquote(parts.path),
        query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
    )


class UrlIs(BaseModel):
    """The arguments of the `url_is` check."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description='the page\'s path, such as "/product/68" (decoded, exact)')
    query: dict[str, str] = Field(default_factory=dict, description="parameters the URL must carry, each once")
    origin: str | None = Field(default=None, description='such as "http://shop.agentgym.test"')

    @field_validator("path")
    @classmethod
    def _a_path(cls, path: str) -> str:
        if not path.startswith("/") or "?" in path or "#" in path:
            raise ValueError(f"path must start with '/' and hold no query or fragment, not {path!r}")
        return path


def url_is(url: str, path: str, query: dict[str, str] | None = None, origin: str | None = None) -> bool:
    """Does `url` show the page at `path` with the `query` parameters (see the module docstring)?"""
    at = page_address(url)
    if origin is not None and at.origin != origin.lower().rstrip("/"):
        return False
    if at.path != path:
        return False
    for name, value in (query or {}).items():
        if [v for k, v in at.query if k == name] != [value]:
            return False
    return True


def check_url_is(conn: Any, page_url: str, args: dict[str, Any]) -> bool:
    """The generic `url_is` check: `args` as in `UrlIs`."""
    spec = UrlIs.model_validate(args)
    return url_is(page_url, spec.path, spec.query, spec.origin)


def visited(path: str, weight: float | None = None, **query: str) -> dict[str, Any]:
    """A `url_is` check spec (a sub-goal when `weight` is given), for the task generators."""
    spec: dict[str, Any] = {"check": "url_is", "args": {"path": path, **({"query": query} if query else {})}}
    return spec if weight is None else {**spec, "weight": weight}
