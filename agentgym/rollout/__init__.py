"""Running episodes: one at a time or many concurrently, and storing them."""

from agentgym.rollout.runner import Job, run_episode, run_many, run_with_retries
from agentgym.rollout.store import EpisodeStore

__all__ = ["Job", "run_episode", "run_many", "run_with_retries", "EpisodeStore"]
