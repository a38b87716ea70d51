"""A small stateful MCP server: a notes app, spoken over stdio with nothing but the standard library.

    python examples/mcp_notes/server.py      # reads JSON-RPC lines on stdin, answers on stdout

It is what any MCP server looks like from outside (the handshake era: `initialize`, then
`tools/list` and `tools/call`), so `agentgym.mcp.MCPEnv` can be shown driving a server it did not
write. Its notes live in this process only: every episode spawns a fresh server, so nothing leaks
from one episode to the next. `export_notes` returns the whole state; the example env hides it from
the agent and its verifier reads it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MAX_NOTES = 100
MAX_TEXT = 2_000  # characters in a title, body or tag: the state stays small whatever the agent does

NOTES: dict[int, dict[str, Any]] = {}
NEXT_ID = [1]


class ToolError(Exception):
    """A call the caller got wrong: answered as a tool result with isError set."""


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ToolError(f"{field} must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise ToolError(f"{field} is longer than {MAX_TEXT} characters")
    return value


def _note(note_id: Any) -> dict[str, Any]:
    if not isinstance(note_id, int) or isinstance(note_id, bool) or note_id not in NOTES:
        raise ToolError(f"no note with id {note_id!r}")
    return NOTES[note_id]


def add_note(title: str, body: str, tags: list | None = None) -> dict:
    if len(NOTES) >= MAX_NOTES:
        raise ToolError(f"at most {MAX_NOTES} notes")
    tags = tags or []
    if not isinstance(tags, list):
        raise ToolError("tags must be a list of strings")
    note = {"id": NEXT_ID[0], "title": _text(title, "title"), "body": _text(body, "body"),
            "tags": sorted({_text(t, "tag") for t in tags})}
    NOTES[note["id"]] = note
    NEXT_ID[0] += 1
    return note


def list_notes(tag: str | None = None) -> dict:
    shown = [n for n in NOTES.values() if tag is None or tag in n["tags"]]
    return {"notes": [{"id": n["id"], "title": n["title"], "tags": n["tags"]} for n in shown]}


def read_note(id: int) -> dict:
    return _note(id)


def edit_note(id: int, body: str) -> dict:
    note = _note(id)
    note["body"] = _text(body, "body")
    return note


def tag_note(id: int, tag: str) -> dict:
    note = _note(id)
    note["tags"] = sorted({*note["tags"], _text(tag, "tag")})
    return note


def delete_note(id: int) -> str:
    del NOTES[_note(id)["id"]]
    return f"deleted note {id}"


def search_notes(query: str) -> dict:
    query = _text(query, "query").lower()
    found = [n for n in NOTES.values() if query in n["title"].lower() or query in n["body"].lower()]
    return {"notes": [{"id": n["id"], "title": n["title"]} for n in found]}


def export_notes() -> dict:
    return {"notes": [NOTES[i] for i in sorted(NOTES)]}


_ID = {"type": "integer", "description": "The note's id."}
TOOLS = {
    "add_note": (add_note, "Create a note.", {
        "title": {"type": "string"}, "body": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}}}, ["title", "body"]),
    "list_notes": (list_notes, "List notes (id, title, tags), optionally only those with a tag.",
                   {"tag": {"type": "string"}}, []),
    "read_note": (read_note, "Read a note in full.", {"id": _ID}, ["id"]),
    "edit_note": (edit_note, "Replace a note's body.", {"id": _ID, "body": {"type": "string"}},
                  ["id", "body"]),
    "tag_note": (tag_note, "Add a tag to a note.", {"id": _ID, "tag": {"type": "string"}}, ["id", "tag"]),
    "delete_note": (delete_note, "Delete a note.", {"id": _ID}, ["id"]),
    "search_notes": (search_notes, "Find notes whose title or body contains the query (any case).",
                     {"query": {"type": "string"}}, ["query"]),
    "export_notes": (export_notes, "Every note with all its fields.", {}, []),
}


def call_tool(params: dict) -> dict:
    name, arguments = params.get("name"), params.get("arguments") or {}
    if name not in TOOLS:
        raise RpcError(-32602, f"unknown tool {name!r}")
    fn, _, props, required = TOOLS[name]
    try:
        missing = [r for r in required if r not in arguments]
        unknown = [a for a in arguments if a not in props]
        if missing or unknown:
            raise ToolError(f"missing {missing}" if missing else f"unknown arguments {unknown}")
        result = fn(**arguments)
    except ToolError as e:
        return {"content": [{"type": "text", "text": str(e)}], "isError": True}
    except Exception as e:  # a bug here must not take the server (and the episode) down
        return {"content": [{"type": "text", "text": f"internal error: {e!r}"}], "isError": True}
    text = result if isinstance(result, str) else json.dumps(result, sort_keys=True)
    out: dict[str, Any] = {"content": [{"type": "text", "text": text}], "isError": False}
    if isinstance(result, dict):
        out["structuredContent"] = result
    return out


class RpcError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def answer(method: str, params: dict) -> dict:
    if method == "initialize":
        asked = params.get("protocolVersion")
        return {"protocolVersion": asked if asked in VERSIONS else VERSIONS[-1],
                "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": {"name": "notes", "version": "1.0"}}
    if method == "ping":
        return {}
    if method == "tools/list":
        return {"tools": [{"name": name, "description": desc,
                           "inputSchema": {"type": "object", "properties": props, "required": required}}
                          for name, (_, desc, props, required) in TOOLS.items()]}
    if method == "tools/call":
        return call_tool(params)
    raise RpcError(-32601, f"method not found: {method}")


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            reply = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}
        else:
            if "id" not in message or "method" not in message:
                continue  # a notification, or a response to a request we never send
            try:
                reply = {"jsonrpc": "2.0", "id": message["id"],
                         "result": answer(message["method"], message.get("params") or {})}
            except RpcError as e:
                reply = {"jsonrpc": "2.0", "id": message["id"], "error": {"code": e.code, "message": str(e)}}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
