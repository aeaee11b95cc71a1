"""Opening the index file.

DuckDB allows one writer process per file and blocks other processes meanwhile, so a
second run waits for the lock for a bounded time and then fails with a clear message
instead of corrupting anything or hanging forever.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ..config import RETRY_DUCKDB_MEMORY, duckdb_memory, lock_timeout
from ..privacy import tighten_index


def raise_memory_limit(con: duckdb.DuckDBPyConnection) -> bool:
    """After an out-of-memory error under the default limit: raise it (RETRY_DUCKDB_MEMORY)
    so the work can be retried once; False when the limit was the user's own choice."""
    if not duckdb_memory()[1]:
        return False
    con.execute(f"SET memory_limit = '{RETRY_DUCKDB_MEMORY}'")
    return True


class IndexLockedError(RuntimeError):
    pass


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


# index files a run keeps open (held_open): connect() reuses the open database
_HELD: dict[str, duckdb.DuckDBPyConnection] = {}


@contextmanager
def held_open(db_path: Path | str):
    """Keep one read-write connection to the index open for the length of a run, so every
    connect() to it in this process reuses the open database (opening the file costs ~20 ms
    each time) and read-only requests are served by it (DuckDB allows one configuration per
    file and process)."""
    key = os.path.abspath(db_path)
    con = connect(db_path)
    _HELD[key] = con
    try:
        yield con
    finally:
        _HELD.pop(key, None)
        con.close()


def connect(db_path: Path | str, read_only: bool = False, lock_timeout_s: float | None = None) -> duckdb.DuckDBPyConnection:
    path = Path(db_path)
    held = _HELD.get(os.path.abspath(path))
    if held is not None:
        return held.cursor()
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
        tighten_index(path)  # files an older release left readable by others
    timeout = lock_timeout() if lock_timeout_s is None else lock_timeout_s

    def open_index() -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(path), read_only=read_only)
        con.execute(f"SET memory_limit = '{duckdb_memory()[0]}'")  # a checked size, nothing else
        return con

    try:
        return open_index()
    except duckdb.IOException as exc:
        if not _is_lock_conflict(exc):
            raise
    # another process holds the file: wait for it, backing off from 50 ms to 1 s between
    # tries, up to the lock timeout (tenacity imported only now: the usual open costs nothing)
    from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

    try:
        for attempt in Retrying(retry=retry_if_exception(_is_lock_conflict), stop=stop_after_delay(timeout),
                                wait=wait_exponential(multiplier=0.05, max=1.0), reraise=True):
            with attempt:
                return open_index()
    except duckdb.IOException as exc:
        if not _is_lock_conflict(exc):
            raise
        raise IndexLockedError(
            f"the index {path} is locked by another process (another index run, or an open "
            f"DuckDB session) and stayed locked for {timeout:.0f}s; try again when it has "
            f"finished (CLAUDE_VIEW_LOCK_TIMEOUT sets the wait)"
        ) from exc
    raise AssertionError("unreachable: the retry loop returns or raises")
