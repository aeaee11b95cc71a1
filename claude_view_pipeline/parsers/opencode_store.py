"""Reading OpenCode's two stores without touching them: its SQLite database, through a private
snapshot that includes the write-ahead log, and the older JSON tree under ``storage/``
(docs/parsing-rules.md, "OpenCode"). Both give the same records, one session at a time, for
opencode.py to turn into messages."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import orjson

from ..paths import os_path
from .base import FileParse, open_regular

# A database file OpenCode names itself: opencode.db, or opencode-<channel>.db for an install
# channel other than latest/beta (Database.Path in src/storage/db.ts, 1.3.x and later).
DB_NAME = "opencode.db"
CHANNEL_DB_PREFIX, DB_SUFFIX = "opencode-", ".db"
WAL_SUFFIX = "-wal"
# SQLite's code for "file is not a database": the one read error that is not worth retrying
SQLITE_NOTADB = 26

# The copy is taken again when the database or its WAL changed while it was copied (a
# checkpoint or a WAL restart in between can tear it); after this many tries the database
# counts as busy, and the run leaves it for the next one.
SNAPSHOT_TRIES = 5
SNAPSHOT_PAUSE_S = 0.2


def is_database_name(name: str) -> bool:
    return name == DB_NAME or (name.startswith(CHANNEL_DB_PREFIX) and name.endswith(DB_SUFFIX))


@dataclass(slots=True)
class SessionRow:
    """A session row (or ``storage/session/<project>/<id>.json``), with the fields we read."""

    id: str
    parent_id: str | None = None
    directory: str | None = None
    version: str | None = None
    time_created: object = None
    time_updated: object = None


@dataclass(slots=True)
class MessageRow:
    """One OpenCode message: its JSON object (role, time, model, tokens...) and its parts in
    creation order, each (part id, part object)."""

    id: str
    data: dict
    parts: list[tuple[str, dict]] = field(default_factory=list)


class NotOpenCodeStore(Exception):
    """A file that is readable but holds no OpenCode sessions table."""


# --- the database ----------------------------------------------------------------------------


def database_fingerprint(db: str | os.PathLike, db_stat: os.stat_result) -> tuple[int, int]:
    """(size, mtime_ns) of the database and its WAL together: rows still only in the WAL change
    the WAL alone, and must still make the database be read again."""
    size, mtime = db_stat.st_size, db_stat.st_mtime_ns
    try:
        wal = os.stat(os.fspath(db) + WAL_SUFFIX)
    except OSError:
        return size, mtime
    return size + wal.st_size, max(mtime, wal.st_mtime_ns)


@contextmanager
def database_snapshot(path: str) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a private copy of the database and its WAL, removed afterwards.

    Opening OpenCode's own file, even read-only, writes its ``-shm`` wal-index, can create
    ``-wal``/``-shm`` beside it, and holds a read lock that delays OpenCode's checkpoints;
    ``immutable=1`` writes nothing but never reads the WAL, where a running OpenCode keeps its
    newest rows. A copy of both files, checked unchanged across the copy, has all the rows and
    leaves the agent's files as they were. (The copy also holds OpenCode's account tables; it
    lives in a directory only we can read and goes when the read is done.)"""
    source = os.fsdecode(os_path(path))
    private = tempfile.mkdtemp(prefix="claude-view-opencode-")  # mode 0700
    try:
        copy = _copy_unchanged(source, private)
        con = sqlite3.connect(f"file:{quote(copy)}?mode=ro", uri=True)
        try:
            yield con
        finally:
            con.close()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _copy_unchanged(source: str, into: str) -> str:
    """Copy the database and its WAL (not the ``-shm``: SQLite rebuilds the wal-index from the
    WAL) into ``into``; again if either changed while they were copied."""
    copy = os.path.join(into, DB_NAME)
    for attempt in range(SNAPSHOT_TRIES):
        before = _file_states(source)
        _copy_file(source, copy)
        if before[1] is not None:
            try:
                _copy_file(source + WAL_SUFFIX, copy + WAL_SUFFIX)
            except FileNotFoundError:  # checkpointed and removed meanwhile: try again
                pass
        if _file_states(source) == before:
            return copy
        for name in (copy, copy + WAL_SUFFIX, copy + "-shm"):
            if os.path.exists(name):
                os.remove(name)
        time.sleep(SNAPSHOT_PAUSE_S * (attempt + 1))
    raise OSError(f"{source} changed every time it was copied ({SNAPSHOT_TRIES} tries): "
                  "OpenCode is writing it; it is read again at the next run")


def _file_states(db: str) -> tuple:
    """What must be the same before and after the copy: the database's and the WAL's identity,
    size and mtime, and the WAL header (its checkpoint sequence and salts change when the WAL
    restarts, even at the same size)."""
    states = []
    for name in (db, db + WAL_SUFFIX):
        try:
            st = os.stat(name)
        except FileNotFoundError:
            if name == db:
                raise
            states.append(None)
            continue
        header = b""
        if name != db:
            with open_regular(name) as fh:
                header = fh.read(32)
        states.append((st.st_ino, st.st_size, st.st_mtime_ns, header))
    return tuple(states)


def _copy_file(source: str, target: str) -> None:
    with open_regular(source) as src, open(target, "wb") as dst:  # never blocks on a FIFO
        shutil.copyfileobj(src, dst, 1 << 20)


def read_error(exc: sqlite3.Error, path: str) -> Exception:
    """What a SQLite error on the copy means: not a database at all (NotOpenCodeStore), or a
    read that may work next time (OSError: an io_error, retried at the next run)."""
    if getattr(exc, "sqlite_errorcode", None) == SQLITE_NOTADB:
        return NotOpenCodeStore(f"not an SQLite database: {exc}")
    return OSError(f"reading the copy of {path}: {type(exc).__name__}: {exc}")


# Only these columns of only these tables are read. Columns are chosen by name: upgrades add
# them with ALTER TABLE, so their order differs between databases. The account, credential and
# share tables beside them are never read.
_SESSION_COLUMNS = ("id", "parent_id", "directory", "version", "time_created", "time_updated")
_NEEDED = {"session": {"id"}, "message": {"id", "session_id", "data"}, "part": {"id", "message_id", "data"}}


def database_sessions(con: sqlite3.Connection, result: FileParse) -> Iterator[tuple[SessionRow, list[MessageRow]]]:
    """Every session of the database with its messages and parts, one session at a time."""
    columns = {table: _columns(con, table) for table in _NEEDED}
    missing = [f"{t}.{c}" for t, need in _NEEDED.items() for c in sorted(need - columns[t])]
    if missing:
        raise NotOpenCodeStore(f"no OpenCode session tables (missing {', '.join(missing)})")
    picked = ", ".join(c if c in columns["session"] else "NULL" for c in _SESSION_COLUMNS)
    order = "time_created, id" if "time_created" in columns["session"] else "id"
    sessions = con.execute(f"SELECT {picked} FROM session ORDER BY {order}").fetchall()
    message_order = "time_created, id" if "time_created" in columns["message"] else "id"
    if "session_id" in columns["part"]:
        parts_sql = "SELECT id, message_id, data FROM part WHERE session_id = ? ORDER BY message_id, id"
    else:
        parts_sql = ("SELECT p.id, p.message_id, p.data FROM part p JOIN message m ON m.id = p.message_id "
                     "WHERE m.session_id = ? ORDER BY p.message_id, p.id")
    for row in sessions:
        if _text(row[0]) is None:
            result.lines_malformed += 1
            continue
        session = SessionRow(*(_text(v) if i < 4 else v for i, v in enumerate(row)))
        messages: dict[str, MessageRow] = {}
        for mid, data in con.execute(f"SELECT id, data FROM message WHERE session_id = ? ORDER BY {message_order}", (session.id,)):
            obj = _decode(data, result)
            if obj is not None and _text(mid) is not None:
                messages[mid] = MessageRow(mid, obj)
        for pid, mid, data in con.execute(parts_sql, (session.id,)):
            if mid not in messages or _text(pid) is None:
                result.lines_skipped += 1  # a part whose message is gone (or unreadable)
                continue
            obj = _decode(data, result)
            if obj is not None:
                messages[mid].parts.append((pid, obj))
        yield session, list(messages.values())


def _columns(con: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in con.execute(f"PRAGMA table_info({table})")}


def _text(value: object) -> str | None:
    """A text field, or None when it is not text or blank (a blank id names nothing)."""
    return value if isinstance(value, str) and value.strip() else None


def _decode(data: object, result: FileParse) -> dict | None:
    """A row's JSON column (or a tree file's text) as an object; anything else is counted as
    malformed."""
    try:
        obj = orjson.loads(data) if isinstance(data, (str, bytes)) else None
    except orjson.JSONDecodeError:
        obj = None
    if not isinstance(obj, dict):
        result.lines_malformed += 1
        return None
    result.lines_ok += 1
    return obj


# --- the JSON tree ---------------------------------------------------------------------------
# storage/session/<projectID>/<sessionID>.json, storage/message/<sessionID>/<messageID>.json,
# storage/part/<messageID>/<partID>.json (src/storage/storage.ts, 1.1.x): a part is filed under
# its message only.


def tree_storage_dir(session_file: str | os.PathLike) -> Path:
    return Path(session_file).parents[2]


def tree_message_dir(storage: Path, session_id: str) -> Path:
    return storage / "message" / session_id


def tree_part_dir(storage: Path, message_id: str) -> Path:
    return storage / "part" / message_id


def tree_fingerprint(session_file: str, session_stat: os.stat_result) -> tuple[int, int]:
    """(size, mtime_ns) of a session's whole unit: its session file, every message file and
    every part file (sizes summed), and the latest mtime among them and their directories (a
    file removed or added changes its directory's). A part rewritten in place changes only
    itself, so directory mtimes alone would miss it; the tree stops growing once OpenCode moves
    to its database, so these stats are all it costs."""
    size, mtime = session_stat.st_size, session_stat.st_mtime_ns
    storage = tree_storage_dir(session_file)
    session_id = Path(session_file).stem
    for entry_size, entry_mtime, name in _json_entries(tree_message_dir(storage, session_id)):
        size, mtime = size + entry_size, max(mtime, entry_mtime)
        for part_size, part_mtime, _ in _json_entries(tree_part_dir(storage, name[: -len(".json")])):
            size, mtime = size + part_size, max(mtime, part_mtime)
    return size, mtime


def _json_entries(directory: Path) -> Iterator[tuple[int, int, str]]:
    """(size, mtime_ns, name) of each ``*.json`` file in a directory, and (0, the directory's
    mtime, "") for the directory itself; nothing when it does not exist."""
    try:
        dir_mtime = os.stat(directory).st_mtime_ns
        entries = list(os.scandir(directory))
    except OSError:
        return
    yield 0, dir_mtime, ""
    for entry in entries:
        if entry.name.endswith(".json"):
            try:
                st = entry.stat()
            except OSError:
                continue
            yield st.st_size, st.st_mtime_ns, entry.name


def tree_session(path: str, result: FileParse) -> tuple[SessionRow, list[MessageRow]] | None:
    """A session of the JSON tree with its messages and parts, or None when the session file is
    not a session (counted as malformed)."""
    session_file = os.fsdecode(os_path(path))
    if os.stat(session_file).st_size == 0:
        return None  # nothing written yet: empty, not malformed
    info = _load_json(Path(session_file), result)
    if info is None:
        return None
    # files are named by their ids: the names, not the ids inside, say where the rest lives
    sid = _text(info.get("id")) or Path(session_file).stem
    session = SessionRow(sid, _text(info.get("parentID")), _text(info.get("directory")), _text(info.get("version")),
                         *_times(info, "created", "updated"))
    storage = tree_storage_dir(session_file)
    messages = []
    for file in sorted(tree_message_dir(storage, Path(session_file).stem).glob("*.json")):
        data = _load_json(file, result)
        if data is None:  # its parts belong to no message we can read
            result.lines_skipped += sum(1 for _ in tree_part_dir(storage, file.stem).glob("*.json"))
            continue
        parts = []
        for part_file in sorted(tree_part_dir(storage, file.stem).glob("*.json")):  # part ids ascend in creation order
            part = _load_json(part_file, result)
            if part is not None:
                parts.append((part_file.stem, part))
        messages.append(MessageRow(file.stem, data, parts))
    # creation order: by created time, then id (ids ascend too)
    messages.sort(key=lambda m: (_number(_times(m.data, "created")[0]), m.id))
    return session, messages


def _times(obj: dict, *keys: str) -> tuple:
    times = obj.get("time") if isinstance(obj.get("time"), dict) else {}
    return tuple(times.get(k) for k in keys)


def _number(value: object) -> float:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else float("inf")


def _load_json(path: Path, result: FileParse) -> dict | None:
    with open_regular(str(path)) as fh:
        return _decode(fh.read(), result)
