"""The forum app without a browser: pages, forms, and every task's checks and reference solution.

`HttpReplayer` walks a task's `solution` at the HTTP level: it resolves each semantic target
(role + accessible name, or `#id`) in the served HTML, insisting that exactly one element matches,
and follows links / submits forms the way a browser would. The browser oracle runs in
the `browser` tests; this one runs in milliseconds and pins down the apps and the task data.
"""

from __future__ import annotations

import shutil
import sqlite3
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from agentgym.environments.web.apps import forum
from agentgym.environments.web.tasks import dump_tasks, load_tasks
from agentgym.environments.web.verify import answer_matches, collateral_changes, run_check
from agentgym.verifiers.state_diff import explain
from tests.environments.web.helpers import assert_oracle_solves_all

ROOT = Path(__file__).resolve().parents[3]


class _Page(HTMLParser):
    """The interactive elements of one HTML page, with their roles and accessible names."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self.forms: list[dict] = []
        self.labels: dict[str, str] = {}
        self.title = ""
        self._open: list[dict] = []  # elements whose text is being collected
        self._label_for: str | None = None
        self._label_text = ""
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        form = self.forms[-1] if self.forms and self.forms[-1]["open"] else None
        el = None
        if tag == "title":
            self._in_title = True
        elif tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get").lower(), "open": True})
        elif tag == "label":
            self._label_for, self._label_text = a.get("for"), ""
        elif tag == "a" and "href" in a:
            el = {"role": "link", "href": a["href"]}
        elif tag == "button":
            el = {"role": "button", "name_attr": a.get("name"), "value": a.get("value", ""), "form": form}
        elif tag == "input" and a.get("type", "text") in ("text", "email", "number"):
            el = {"role": "textbox", "name_attr": a.get("name"), "value": a.get("value", ""), "form": form}
        elif tag == "input" and a.get("type") == "hidden":
            el = {"role": "hidden", "name_attr": a.get("name"), "value": a.get("value", ""), "form": form}
        elif tag == "textarea":
            el = {"role": "textbox", "name_attr": a.get("name"), "value": "", "form": form, "textarea": True}
        elif tag == "select":
            el = {"role": "combobox", "name_attr": a.get("name"), "value": None, "form": form, "options": []}
        elif tag == "option" and self._select is not None:
            self._select["options"].append({"value": a.get("value"), "label": "", "selected": "selected" in a})
            el = {"role": "option", "owner": self._select}
        if el is not None:
            el.update(id=a.get("id"), aria=a.get("aria-label"), text="")
            if el["role"] != "option":
                self.elements.append(el)
            if tag not in ("input",):
                self._open.append(el)

    @property
    def _select(self):
        return next((e for e in reversed(self._open) if e["role"] == "combobox"), None)

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "form" and self.forms:
            self.forms[-1]["open"] = False
        elif tag == "label" and self._label_for:
            self.labels[self._label_for] = " ".join(self._label_text.split())
            self._label_for = None
        elif tag in ("a", "button", "textarea", "select", "option") and self._open:
            el = self._open.pop()
            if el["role"] == "option":
                opt = el["owner"]["options"][-1]
                opt["label"] = " ".join(el["text"].split())
                opt["value"] = opt["value"] if opt["value"] is not None else opt["label"]
            elif el.get("textarea"):
                el["value"] = el["text"]
            elif el["role"] == "combobox":
                chosen = [o for o in el["options"] if o["selected"]] or el["options"][:1]
                el["value"] = chosen[0]["value"] if chosen else ""

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._label_for:
            self._label_text += data
        for el in self._open:
            el["text"] += data

    def name_of(self, el: dict) -> str:
        if el.get("aria"):
            return el["aria"]
        if el["role"] in ("textbox", "combobox"):
            return self.labels.get(el.get("id") or "", "")
        return " ".join(el["text"].split())

    def find(self, target: dict) -> dict:
        if "css" in target:
            assert target["css"].startswith("#"), f"the replayer only knows #id selectors: {target}"
            hits = [e for e in self.elements if e.get("id") == target["css"][1:]]
        else:
            hits = [e for e in self.elements
                    if e["role"] == target["role"] and self.name_of(e) == target["name"]]
        assert len(hits) == 1, f"{len(hits)} elements match {target} on '{self.title}'"
        return hits[0]


class HttpReplayer:
    """Replays a task's reference solution over HTTP against an app served in-process."""

    def __init__(self, app, origin: str):
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=origin,
                                        follow_redirects=True)
        self.url = ""
        self.page: _Page | None = None
        self.history: list[str] = []
        self.answer: str | None = None
        self.seen = ""

    async def _load(self, response: httpx.Response) -> None:
        assert response.status_code == 200, f"{response.request.method} {response.request.url}: {response.status_code}"
        self.url, self.page = str(response.url), _Page(response.text)
        self.seen += unescape(response.text)  # an answer may need facts read on several pages
        assert self.page.title.strip(), f"{self.url} has no <title>"

    async def goto(self, url: str) -> None:
        if self.url:
            self.history.append(self.url)
        await self._load(await self.client.get(urljoin(self.url or str(self.client.base_url), url)))

    async def _submit(self, form: dict, extra: dict) -> None:
        fields = {e["name_attr"]: e["value"] for e in self.page.elements
                  if e.get("form") is form and e["role"] in ("textbox", "combobox", "hidden") and e["name_attr"]}
        fields.update(extra)
        action = urljoin(self.url, form["action"] or self.url)
        self.history.append(self.url)
        if form["method"] == "post":
            await self._load(await self.client.post(action, data=fields))
        else:
            await self._load(await self.client.get(action, params=fields))

    async def step(self, step) -> None:
        tool, target, args = step.tool, step.target, step.args
        if tool == "answer":
            self.answer = args["text"]
            assert args["text"] in self.seen, f"the answer {args['text']!r} was on no page visited"
        elif tool == "goto":
            await self.goto(args["url"])
        elif tool == "go_back":
            await self._load(await self.client.get(self.history.pop()))
        elif tool == "click":
            el = self.page.find(target)
            if el["role"] == "link":
                await self.goto(el["href"])
            else:
                assert el["role"] == "button" and el["form"] is not None, f"cannot click {target}"
                await self._submit(el["form"], {el["name_attr"]: el["value"]} if el["name_attr"] else {})
        elif tool == "fill":
            el = self.page.find(target)
            assert el["role"] == "textbox", f"cannot fill {target}"
            el["value"], self._last = args["text"], el
        elif tool == "select_option":
            el = self.page.find(target)
            assert el["role"] == "combobox", f"cannot select in {target}"
            opts = [o for o in el["options"] if args["value"] in (o["value"], o["label"])]
            assert len(opts) == 1, f"option {args['value']!r} of {target}: {len(opts)} matches"
            el["value"] = opts[0]["value"]
        elif tool == "press":
            assert args["key"] == "Enter", "the replayer only presses Enter"
            await self._submit(self._last["form"], {})
        else:
            raise AssertionError(f"the replayer cannot {tool}")


async def replay_task(task, app_module, template_db: Path, tmp_path: Path) -> None:
    """No-op fails every final check; the reference solution reaches every sub-goal and passes."""
    db = tmp_path / f"{task.id}.sqlite"
    shutil.copy(template_db, db)
    conn = sqlite3.connect(db)
    origin = task.allowed_origins[0]
    try:
        assert task.final_checks or task.answer is not None, f"{task.id} checks nothing"
        for spec in [*task.final_checks, *task.subgoals]:  # nothing is earned by doing nothing
            assert not run_check(app_module.CHECKS, spec, conn, origin + task.start_url), (task.id, spec)
        replayer = HttpReplayer(app_module.create_app(str(db)), origin)
        reached = [False] * len(task.subgoals)
        await replayer.goto(task.start_url)
        for step in task.solution:
            await replayer.step(step)
            for i, goal in enumerate(task.subgoals):
                reached[i] = reached[i] or run_check(app_module.CHECKS, goal, conn, replayer.url)
        await replayer.client.aclose()
        assert all(reached), f"{task.id}: sub-goals never reached: {[g for g, r in zip(task.subgoals, reached, strict=True) if not r]}"
        for spec in task.final_checks:
            assert run_check(app_module.CHECKS, spec, conn, replayer.url), (task.id, spec)
        assert task.allowed_changes is not None, f"{task.id} does not say which rows it may change"
        extra = collateral_changes(template_db, db, task.allowed_changes)
        assert not extra, f"{task.id}: the reference changes rows it does not allow:\n{explain(extra)}"
        if task.answer is not None:
            assert answer_matches(replayer.answer, task.answer, task.answer_match), (task.id, replayer.answer)
            assert not answer_matches(None, task.answer, task.answer_match)
    finally:
        conn.close()


ORIGIN = "http://forum.agentgym.test"
TASKS = forum.generate_tasks(0)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("forum") / "template.sqlite"
    forum.build_db(str(path), 0)
    return path


@pytest.fixture
async def site(template_db, tmp_path):
    db = tmp_path / "forum.sqlite"
    shutil.copy(template_db, db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=forum.create_app(str(db))),
                                 base_url=ORIGIN) as client:
        yield client, sqlite3.connect(db)


def _db_dump(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def test_build_db_is_seeded(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        forum.build_db(str(tmp_path / name), seed)
    assert _db_dump(tmp_path / "a") == _db_dump(tmp_path / "b")
    assert _db_dump(tmp_path / "a") != _db_dump(tmp_path / "c")


async def test_pages_render_with_titles_and_pagination(site):
    client, conn = site
    for path in ("/", "/f/cooking", "/f/cooking?sort=top&page=2", "/p/1", "/u/" + conn.execute(
            "SELECT username FROM users WHERE id=2").fetchone()[0], "/members?page=2", "/search?q=tips",
            "/settings", "/f/cooking/new"):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert _Page(r.text).title.endswith("Hobbyhub"), path
    first = _Page((await client.get("/f/cooking")).text)
    second = _Page((await client.get("/f/cooking?sort=new&page=2")).text)
    assert first.title.startswith("Home Cooking")
    assert first.find({"role": "link", "name": "Next page"})["href"] == "/f/cooking?sort=new&page=2"
    assert second.find({"role": "link", "name": "Previous page"})
    titles = lambda page: [e["text"] for e in page.elements if e["role"] == "link" and e["href"].startswith("/p/")]  # noqa: E731
    assert len(titles(first)) == 10 and not set(titles(first)) & set(titles(second))


async def test_forms_change_the_database(site):
    client, conn = site
    agent = conn.execute("SELECT username FROM users WHERE id=1").fetchone()[0]
    other_post = conn.execute("SELECT id FROM posts WHERE author_id<>1 LIMIT 1").fetchone()[0]
    own_post = conn.execute("SELECT id FROM posts WHERE author_id=1 LIMIT 1").fetchone()[0]
    assert (await client.post(f"/p/{other_post}/vote", data={"value": "-1"})).status_code == 303
    assert conn.execute("SELECT value FROM votes WHERE user_id=1 AND post_id=?", (other_post,)).fetchone() == (-1,)
    await client.post(f"/p/{other_post}/vote", data={"value": "0"})
    assert conn.execute("SELECT COUNT(*) FROM votes WHERE user_id=1 AND post_id=?", (other_post,)).fetchone() == (0,)
    await client.post(f"/p/{other_post}/comment", data={"body": "Nice one"})
    assert "Nice one" in (await client.get(f"/p/{other_post}")).text
    r = await client.post("/f/retro/new", data={"title": "Hello", "body": "First!"})
    new_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert conn.execute("SELECT author_id, title FROM posts WHERE id=?", (new_id,)).fetchone() == (1, "Hello")
    await client.post(f"/p/{own_post}/edit", data={"title": "Renamed", "body": "New body"})
    assert conn.execute("SELECT title, edited IS NOT NULL FROM posts WHERE id=?", (own_post,)).fetchone() == ("Renamed", 1)
    await client.post("/settings", data={"display_name": "Me", "bio": "Hi"})
    assert "Hi" in (await client.get(f"/u/{agent}")).text


async def test_bad_input_is_refused_without_changes(site):
    client, conn = site
    other_post = conn.execute("SELECT id FROM posts WHERE author_id<>1 LIMIT 1").fetchone()[0]
    counts = lambda: conn.execute("SELECT (SELECT COUNT(*) FROM comments), (SELECT COUNT(*) FROM posts), "  # noqa: E731
                                  "(SELECT COUNT(*) FROM votes)").fetchone()
    before = counts()
    assert (await client.post(f"/p/{other_post}/comment", data={"body": "   "})).status_code == 400
    assert (await client.post(f"/p/{other_post}/vote", data={"value": "5"})).status_code == 400
    assert (await client.post("/f/retro/new", data={"title": "", "body": "x"})).status_code == 400
    assert (await client.post(f"/p/{other_post}/edit", data={"title": "x", "body": "y"})).status_code == 403
    assert (await client.post("/settings", data={"display_name": "", "bio": ""})).status_code == 400
    assert counts() == before
    for path in ("/p/99999", "/f/nope", "/u/nobody", "/no/such/page"):
        r = await client.get(path)
        assert r.status_code == 404 and "<title>Not found" in r.text
    with pytest.raises(KeyError):
        forum.check("no_such_check", conn, ORIGIN, {})


def test_task_suite_shape_and_file_is_regenerated_identically():
    assert len(TASKS) >= 30
    assert {t.difficulty for t in TASKS} == {1, 2, 3}
    assert sum(t.answer is not None for t in TASKS) >= 10 and sum(bool(t.final_checks) for t in TASKS) >= 10
    assert len({t.prompt for t in TASKS}) == len(TASKS)
    shipped = ROOT / "tasks" / "web" / "forum.jsonl"
    assert shipped.read_text() == dump_tasks(TASKS)
    assert dump_tasks(load_tasks(shipped)) == dump_tasks(TASKS)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
async def test_reference_solution_over_http(task, template_db, tmp_path):
    await replay_task(task, forum, template_db, tmp_path)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_oracle_solves_every_forum_task(browser):
    await assert_oracle_solves_all("forum")
