"""Starting a command that a test will interrupt with SIGINT, whatever launched the suite."""

from __future__ import annotations

import signal
import subprocess
from typing import Any


def interruptible(cmd: list[str], **options: Any) -> subprocess.Popen:
    """Popen with SIGINT at its default in the child. A suite started in the background by a
    shell without job control inherits SIGINT ignored, and so would the command: ^C would
    never reach it, and the test would prove nothing about how it stops."""
    return subprocess.Popen(
        cmd, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **options
    )
