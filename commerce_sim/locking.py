"""One writer per world on disk.

Every change to a saved world (a simulated day, an accepted system call, a fork's copy) runs under
an exclusive lock on ``<root>/state/world.lock`` (``fcntl.flock``: released by the kernel if the
holder dies). A second writer waits up to its timeout and then fails with a message naming the
process that holds the world. Under the lock the writer reloads the state if another process saved
it since (the simulator compares the state file's identity), so a change accepted through one
process is never overwritten by a stale copy in another.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

LOCK_FILE = "world.lock"
DEFAULT_TIMEOUT_SECONDS = 60.0
_POLL_SECONDS = 0.02


class WorldBusy(RuntimeError):
    """Another process held the world for longer than this writer was willing to wait."""


class WorldLock:
    """A re-entrant (within one object) exclusive lock on a world directory."""

    def __init__(self, directory: Path, timeout: float = DEFAULT_TIMEOUT_SECONDS):
        self.path = Path(directory) / LOCK_FILE
        self.timeout = timeout
        self._handle = None
        self._depth = 0

    @property
    def held(self) -> bool:
        return self._depth > 0

    def acquire(self, timeout: float | None = None) -> None:
        if self._depth:
            self._depth += 1
            return
        wait = self.timeout if timeout is None else timeout
        if wait < 0:
            raise ValueError(f"a lock timeout must be zero or more seconds, got {wait}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(handle)
                    handle.close()
                    raise WorldBusy(f"the world at {self.path.parent.parent} is being changed by another process "
                                    f"({holder}); waited {wait:g} s. Try again when it has finished, or stop it.")
                time.sleep(_POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._handle, self._depth = handle, 1

    def release(self) -> None:
        if not self._depth:
            raise RuntimeError(f"{self.path} is not held")
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> WorldLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __getstate__(self):  # a lock is never pickled with its holder's file handle
        return {"path": self.path, "timeout": self.timeout, "_handle": None, "_depth": 0}


def _holder(handle) -> str:
    try:
        handle.seek(0)
        return handle.read().strip() or "pid unknown"
    except OSError:
        return "pid unknown"
