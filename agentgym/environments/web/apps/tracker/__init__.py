"""The issue tracker app (projects, issues, assignees, labels, statuses, comments) and its tasks."""

from agentgym.environments.web.apps.tracker.checks import CHECKS, check
from agentgym.environments.web.apps.tracker.data import build_db
from agentgym.environments.web.apps.tracker.tasks import generate_tasks
from agentgym.environments.web.apps.tracker.views import create_app

__all__ = ["CHECKS", "build_db", "check", "create_app", "generate_tasks"]
