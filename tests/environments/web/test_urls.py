"""URL checks compare the parsed URL, so a URL that merely contains a page's path earns nothing.

Each app's shipped sub-goals are tried against crafted URLs (in the query, in the fragment,
after other segments, with double slashes, percent-encoded); the browser tests in test_url_attacks.py
run the same attacks through real navigation.
"""

from __future__ import annotations

import json

import pytest

from agentgym.core.errors import TaskFileError
from agentgym.core.paths import tasks_dir
from agentgym.environments.web.tasks import CheckSpec, load_tasks
from agentgym.environments.web.urls import page_address, url_is, visited


def crafted(base: str, path: str, query: dict[str, str]) -> dict[str, str]:
    """URLs that hold the page's path or parameters as text without being that page, by attack."""
    q = "&".join(f"{k}={v}" for k, v in query.items())
    target = path + (f"?{q}" if q else "")
    urls = {"in the query": f"{base}/?x={target}", "in a search": f"{base}/search?q={target}",
            "in the fragment": f"{base}/#{target}", "after a segment": f"{base}/x{target}",
            "double slash": f"{base}/{target}", "longer segment": f"{base}{path}x",
            "dot segments, unresolved": f"{base}/x/..{target}",
            "encoded separators": f"{base}/x%2F..%2F{target.lstrip('/')}", "encoded ?": f"{base}{path}%3F{q}"}
    if query:
        name, value = next(iter(query.items()))
        urls.update({
            "parameter inside another": f"{base}{path}?x={name}={value}", "parameters in the fragment": f"{base}{path}#{q}",
            "parameters on another page": f"{base}/?{q}", "repeated, other last": f"{base}{path}?{q}&{name}=other",
            "repeated, other first": f"{base}{path}?{name}=other&{q}", "longer value": f"{base}{path}?{name}={value}x",
        })
    return urls


def equivalent(base: str, path: str, query: dict[str, str]) -> list[str]:
    """Other spellings of the same page, which the app serves as that page."""
    q = "&".join(f"{k}={v}" for k, v in query.items())
    encoded = "".join(f"%{ord(c):02X}" if c.isalnum() else c for c in path)
    return [f"{base}{path}" + (f"?{q}" if q else ""), f"{base}{encoded}" + (f"?{q}" if q else ""),
            f"{base}{path}?utm=1" + (f"&{q}" if q else "") + "#top"]


@pytest.mark.parametrize("app", ["shop", "forum", "tracker"])
def test_shipped_url_subgoals_hold_only_on_their_page(app):
    base = f"http://{app}.agentgym.test"
    goals = [g for t in load_tasks(tasks_dir() / "web" / f"{app}.jsonl") for g in [*t.subgoals, *t.final_checks]
             if g.check == "url_is"]
    assert len(goals) >= 20
    for goal in goals:
        path, query = goal.args["path"], goal.args.get("query", {})
        for attack, url in crafted(base, path, query).items():
            assert not url_is(url, path, query), (goal.args, attack, url)
        for url in equivalent(base, path, query):
            assert url_is(url, path, query), (goal.args, url)


def test_parsing():
    at = page_address("HTTP://Shop.agentgym.test/product/%36%38?a=1&b=x+y&a=2#frag")
    assert at.origin == "http://shop.agentgym.test" and at.path == "/product/68"
    assert at.query == (("a", "1"), ("b", "x y"), ("a", "2"))
    assert url_is("http://s.test/p?a=1", "/p", origin="http://S.test") and not url_is("http://t.test/p", "/p", origin="http://s.test")
    assert not url_is("http://s.test/p?a=1&a=1", "/p", {"a": "1"})  # repeated: ambiguous
    assert url_is("http://s.test/p?a=", "/p", {"a": ""}) and not url_is("http://s.test/p", "/p", {"a": ""})
    assert not url_is("about:blank", "/")
    # a trailing slash is another path (the apps redirect it, and the page then shows the real path)
    assert not url_is("http://s.test/product/68/", "/product/68")


def test_task_files_name_url_checks_by_parts(tmp_path):
    good = {"id": "t", "prompt": "p", "app": "shop", "answer": "x", "subgoals": [visited("/cart", weight=1)]}
    path = tmp_path / "t.jsonl"
    for check, message in [({"check": "url_matches", "args": {"pattern": "/cart$"}}, "use url_is"),
                           ({"check": "url_contains", "args": {"text": "/cart"}}, "use url_is"),
                           ({"check": "url_is", "args": {"path": "/cart?x=1"}}, "no query or fragment"),
                           ({"check": "url_is", "args": {"path": "cart"}}, "must start with '/'"),
                           ({"check": "url_is", "args": {"pattern": "/cart"}}, "pattern")]:
        path.write_text(json.dumps({**good, "subgoals": [{**check, "weight": 1}]}) + "\n")
        with pytest.raises(TaskFileError, match=r"t.jsonl:1: field subgoals.0") as info:
            load_tasks(path)
        assert message in str(info.value)
    path.write_text(json.dumps(good) + "\n")
    assert load_tasks(path)[0].subgoals[0].args == {"path": "/cart"}
    assert CheckSpec(**visited("/s", brand="Orion")).args == {"path": "/s", "query": {"brand": "Orion"}}
