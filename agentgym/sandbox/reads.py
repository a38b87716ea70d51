"""Host-side reads of sandbox content: bounded in bytes and time, regular files only.

Everything in a sandbox is the agent's to shape: a file the host wants to read may have been
replaced by a symlink to /dev/zero, a FIFO, a device, a huge sparse file or a symlink loop.
The host never trusts the reader that runs inside the sandbox: the stream it sends back is cut
(and the reader killed) one byte past the limit, and a read that hangs is stopped by its
timeout. The in-sandbox script only turns each refusal into a clear error.

Every refusal raises an `OSError` subclass: the agent made the file unreadable, so callers can
treat it as the agent's doing. `SandboxError` (infrastructure) is never raised for content.
"""

from __future__ import annotations

READ_LIMIT = 8 << 20  # default `max_bytes` of Sandbox.read_bytes/read_file
WHOLE_OUTPUT_LIMIT = 64 << 20  # hard ceiling of a command's stdout when the host keeps all of it
READ_TIMEOUT = 60.0


class SandboxContentError(OSError):
    """Sandbox content the host refuses to take in. The agent made it so; never infrastructure."""


class NotRegularFileError(SandboxContentError):
    """The path is (or resolves to) a FIFO, device, socket, or nothing (a symlink loop)."""


class FileTooLargeError(SandboxContentError):
    """The file is larger than the read allowed (sparse files count by their apparent size)."""


class OutputTooLargeError(SandboxContentError):
    """A command whose whole output the host keeps printed more than the ceiling."""


class FileTimeoutError(SandboxContentError, TimeoutError):
    """Reading or writing a file took longer than its timeout (e.g. it became a FIFO mid-read)."""


# Runs inside the sandbox with POSIX sh and coreutils only (any image has them).
# Exit 3: not a regular file; 4: too large; stderr says which (the host re-checks the size).
READ_SCRIPT = r"""
kind=$(stat -L -c %F -- "$1" 2>&1) || { printf '%s\n' "$kind" >&2; exit 2; }
case $kind in
  "regular file"|"regular empty file") ;;
  directory) printf '%s: Is a directory\n' "$1" >&2; exit 2;;
  *) printf '%s: not a regular file (%s)\n' "$1" "$kind" >&2; exit 3;;
esac
size=$(stat -L -c %s -- "$1") || exit 2
[ "$size" -le "$2" ] || { printf '%s: %s bytes, more than the %s allowed\n' "$1" "$size" "$2" >&2; exit 4; }
exec head -c "$(($2 + 1))" -- "$1"
"""

# Writes refuse a target that exists and is not a regular file (a FIFO would block the writer).
WRITE_SCRIPT = r"""
if [ -e "$1" ] && [ ! -f "$1" ] && [ ! -d "$1" ]; then
  printf '%s: not a regular file\n' "$1" >&2; exit 3
fi
mkdir -p -- "$(dirname -- "$1")" && cat > "$1"
"""


def read_argv(path: str, max_bytes: int) -> list[str]:
    return ["/bin/sh", "-c", READ_SCRIPT, "sh", path, str(max_bytes)]


def write_argv(path: str) -> list[str]:
    return ["/bin/sh", "-c", WRITE_SCRIPT, "sh", path]


def file_error(path: str, exit_code: int, stderr: str) -> OSError:
    """The OSError subclass a failed in-sandbox read or write stands for."""
    msg = stderr.strip().splitlines()[-1] if stderr.strip() else f"cannot access {path}"
    if exit_code == 3 or "Too many levels of symbolic links" in msg:
        return NotRegularFileError(msg)
    if exit_code == 4:
        return FileTooLargeError(msg)
    if "No such file" in msg:
        return FileNotFoundError(msg)
    if "Is a directory" in msg:
        return IsADirectoryError(msg)
    if "Not a directory" in msg:
        return NotADirectoryError(msg)
    if "Permission denied" in msg or "Read-only" in msg:
        return PermissionError(msg)
    return SandboxContentError(msg)
