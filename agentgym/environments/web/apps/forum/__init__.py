"""The forum app (sub-forums, threads, comments, votes, profiles) and its tasks."""

from agentgym.environments.web.apps.forum.checks import CHECKS, check
from agentgym.environments.web.apps.forum.data import build_db
from agentgym.environments.web.apps.forum.tasks import generate_tasks
from agentgym.environments.web.apps.forum.views import create_app

__all__ = ["CHECKS", "build_db", "check", "create_app", "generate_tasks"]
