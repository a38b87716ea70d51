"""Koda Shop: catalogue with search and filters, product pages, cart, checkout, orders, account."""

from agentgym.environments.web.apps.shop.app import create_app
from agentgym.environments.web.apps.shop.checks import CHECKS as check
from agentgym.environments.web.apps.shop.data import build_db
from agentgym.environments.web.apps.shop.tasks import generate_tasks

__all__ = ["build_db", "create_app", "generate_tasks", "check"]
