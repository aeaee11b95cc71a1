"""Backups of the index file and putting one back (``claude-view-pipeline backup`` /
``restore``). The migration runner takes one automatically before changing tables."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from .db import connect
from .migrate import applied_versions, backup_database, has_table


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def default_backup_path(db_path: Path) -> Path:
    return db_path.parent / "backups" / f"{db_path.stem}.manual-{_stamp()}.duckdb"


def backup(db_path: Path, dest: Path | None = None) -> Path:
    """Write a consistent copy of the index (waits for a running writer like any writer)."""
    if not db_path.exists():
        raise FileNotFoundError(f"no index at {db_path}")
    con = connect(db_path)
    try:
        return backup_database(con, dest or default_backup_path(db_path))
    finally:
        con.close()


def describe(path: Path) -> dict:
    """Schema versions and row counts of an index file (opened read-only)."""
    if not path.is_file():
        raise FileNotFoundError(f"no such backup file: {path}")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise ValueError(f"{path} is not a DuckDB index: {exc}") from exc
    try:
        if not has_table(con, "sessions"):
            raise ValueError(f"{path} is not a claude-view-pipeline index (no sessions table)")
        counts = dict(con.execute("SELECT source, count(*) FROM sessions GROUP BY source ORDER BY source").fetchall())
        return {"schema_versions": sorted(applied_versions(con)), "sessions_by_source": counts}
    finally:
        con.close()


def restore(backup_path: Path, db_path: Path) -> Path | None:
    """Put a backup in place of the index. The file it replaces is kept beside it
    (``<db>.replaced-<time>``), never deleted; returns that path (None if there was none).
    Run it while nothing else uses the index."""
    describe(backup_path)  # refuse anything that is not an index before touching the live file
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.name}.restoring-{os.getpid()}")
    shutil.copyfile(backup_path, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    kept = None
    if db_path.exists():
        # take the writer lock so a running index cannot be cut off mid-write
        connect(db_path).close()
        kept = db_path.with_name(f"{db_path.name}.replaced-{_stamp()}")
        db_path.rename(kept)
        wal = db_path.with_name(db_path.name + ".wal")
        if wal.exists():
            wal.rename(kept.with_name(kept.name + ".wal"))
    tmp.rename(db_path)
    return kept
