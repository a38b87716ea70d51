"""Regenerate tasks/web/shop.jsonl: `python -m agentgym.environments.web.apps.shop`."""

from agentgym.core.paths import tasks_dir
from agentgym.environments.web.apps.shop.tasks import generate_tasks
from agentgym.environments.web.tasks import write_tasks

if __name__ == "__main__":
    path = tasks_dir() / "web" / "shop.jsonl"
    write_tasks(path, generate_tasks(0))
    print(f"wrote {path}")
