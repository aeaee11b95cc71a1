"""Does the index hold what is on disk? The question a sensor asks before it requests a
run: it compares the session files found now with the rows of ``indexed_files``, so a run
that failed (and changed nothing) leaves the difference in place to be retried, whatever
the sensor remembered."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .discovery import discover, fingerprint_digest
from .parsers.base import REJECT_IO_ERROR
from .sources import Source
from .store import connect
from .store.writer import indexed_file_states


@dataclass(frozen=True)
class SourceDrift:
    """How the files of one source on disk differ from what the index holds for them."""

    source: Source
    watched: int  # session files on disk
    new: int  # on disk, not in the index
    changed: int  # on disk with another size or mtime than indexed (or marked for a re-read)
    gone: int  # indexed as present, no longer on disk
    back: int  # indexed as missing, on disk again
    digest: str  # of every file's (path, size, mtime_ns) on disk: names the state a run is asked for
    unreadable: str | None = None  # why the index file could not be read (a run will say it too)

    @property
    def in_sync(self) -> bool:
        return not (self.new or self.changed or self.gone or self.back or self.unreadable)

    def summary(self) -> str:
        if self.unreadable:
            return f"the index cannot be read: {self.unreadable}"
        parts = [f"{n} {what}" for n, what in ((self.new, "new"), (self.changed, "changed"), (self.gone, "gone"), (self.back, "back")) if n]
        return ", ".join(parts) or "in sync"


def source_drift(source: Source, roots: list[Path], db_path: Path) -> SourceDrift:
    """Raises store.IndexLockedError when another process is writing the index (the caller
    looks again later)."""
    files = discover(source, [Path(os.path.abspath(r)) for r in roots])
    digest = fingerprint_digest(files)
    try:
        indexed = _indexed_files(source, db_path)
    except duckdb.Error as exc:
        return SourceDrift(source, len(files), 0, 0, 0, 0, digest, unreadable=str(exc).splitlines()[0])
    new = changed = back = 0
    for f in files:
        row = indexed.get(f.path)
        if row is None:
            new += 1
            continue
        size, mtime_ns, missing, reason = row
        if missing:
            back += 1
        elif (size, mtime_ns) != f.fingerprint and not (reason == REJECT_IO_ERROR and mtime_ns == f.mtime_ns):
            # An unreadable file keeps size -1 so that the next run reads it again; on its own,
            # unchanged, it is no reason to start a run (it would be rejected run after run).
            changed += 1
    on_disk = {f.path for f in files}
    gone = sum(1 for p, row in indexed.items() if not row[2] and p not in on_disk)
    return SourceDrift(source, len(files), new, changed, gone, back, digest)


def _indexed_files(source: Source, db_path: Path) -> dict[str, tuple[int, int, bool, str | None]]:
    if not Path(db_path).exists():
        return {}
    con = connect(db_path, read_only=True, lock_timeout_s=0)
    try:
        return indexed_file_states(con, source)
    finally:
        con.close()
