"""Short-lived DuckDB connections that wait out another process's write lock.

DuckDB allows one writing process per file, and a process that opens a file read-write locks out
readers in other processes too. So every connection here is short (open, work, close), and an open
that meets a lock is retried with backoff before it fails with a message that says what to do.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_ERRORS = ("Could not set lock", "Conflicting lock")
DEFAULT_ATTEMPTS = 20  # backoff 0.1 s doubling to 2 s: about 30 s of waiting in all


class WarehouseLockedError(RuntimeError):
    """Another process kept the database locked for longer than the retries wait."""


def is_lock_error(error: BaseException) -> bool:
    return any(text in str(error) for text in LOCK_ERRORS)


@contextlib.contextmanager
def connect(path: Path | str, *, read_only: bool = False, attempts: int = DEFAULT_ATTEMPTS) -> Iterator:
    """A DuckDB connection to ``path``, closed on exit; retried while another process holds the lock.

    ``read_only`` connections never create the file: reading a database that does not exist is a
    ``FileNotFoundError`` naming it, not an empty database.
    """
    import duckdb

    path = Path(path)
    if read_only and not path.is_file():
        raise FileNotFoundError(f"no database at {path}")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    delay = 0.1
    for attempt in range(attempts):
        try:
            connection = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as error:
            if not is_lock_error(error):
                raise
            if attempt == attempts - 1:
                raise WarehouseLockedError(
                    f"{path} is locked by another process (close any session that opened it read-write; "
                    f"analysts should use the published analytics database): {error}") from None
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    try:
        yield connection
    finally:
        connection.close()
