"""`agentgym new env NAME`: an installable env package that passes `agentgym check` unchanged.

The files come from templates/ (plain text with `{{name}}`-style fields), so what a new author
reads is exactly what they get.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from agentgym.core.errors import UserInputError

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# template file -> where it goes in the package ({pkg}: the import name)
FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "init.py.tmpl": "src/{pkg}/__init__.py",
    "env.py.tmpl": "src/{pkg}/env.py",
    "tools.py.tmpl": "src/{pkg}/tools.py",
    "verifier.py.tmpl": "src/{pkg}/verifier.py",
    "tasks.jsonl.tmpl": "src/{pkg}/tasks.jsonl",
    "test_env.py.tmpl": "tests/test_env.py",
}


def new_env(name: str, directory: str | Path = ".") -> Path:
    """Write the package for env family `name` into DIRECTORY/NAME; returns its path."""
    if not _NAME.match(name):
        raise UserInputError(f"env name {name!r}: use lowercase letters, digits and _ (start with a letter)")
    root = Path(directory) / name
    if root.exists():
        raise UserInputError(f"{root} already exists; choose another name or --dir")
    fields = {"name": name, "pkg": f"{name}_env", "Title": "".join(p.title() for p in name.split("_"))}
    templates = resources.files("agentgym.scaffold") / "templates"
    for template, target in FILES.items():
        text = (templates / template).read_text(encoding="utf-8")
        for key, value in fields.items():
            text = text.replace("{{" + key + "}}", value)
        path = root / target.format(pkg=fields["pkg"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
