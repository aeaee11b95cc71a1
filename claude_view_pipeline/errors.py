"""What went wrong, said in one line that names the cause and the fix. A run that fails
reports this instead of the library's message (the traceback is there with --debug)."""

from __future__ import annotations

import errno
from pathlib import Path

import duckdb

from .store import IndexLockedError


def explain(exc: BaseException, db_path: Path) -> str:
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, IndexLockedError):
        return text  # already says what holds it and what to do
    if "not a valid duckdb database" in lowered or "database file is corrupt" in lowered or "checksum" in lowered:
        return (f"the index {db_path} is not a readable DuckDB database (damaged, or another kind of file); "
                f"restore a backup from {db_path.parent / 'backups'} with 'claude-view-pipeline restore FILE', "
                f"or move the file away and run 'index' to build it again")
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "no space left on device" in lowered:
        return (f"the disk that holds {db_path.parent} is full; free some space (or choose another place with "
                "--db / CLAUDE_VIEW_DB) and run again (an index write that fails is rolled back: the index is as it was)")
    if code in (errno.EROFS,) or "read-only file system" in lowered:
        return (f"cannot write under {db_path.parent}: the file system is read-only; choose a writable place "
                "with --db or CLAUDE_VIEW_DB")
    if code in (errno.EACCES, errno.EPERM) or isinstance(exc, PermissionError) or "permission denied" in lowered:
        where = getattr(exc, "filename", None) or db_path
        return (f"cannot write {where}: permission denied; choose a place you can write with --db or "
                "CLAUDE_VIEW_DB, or fix that directory's permissions")
    if isinstance(exc, duckdb.Error):
        return f"the index {db_path} could not be written: {text.splitlines()[0] if text else type(exc).__name__}"
    return text.splitlines()[0] if text else type(exc).__name__
