"""Gemini CLI chat sessions (docs/parsing-rules.md, "Gemini CLI").

Gemini CLI records each chat under ``~/.gemini/tmp/<project>/chats/``: up to v0.38 as one JSON
document rewritten whole (``session-<minute>-<id8>.json``), from v0.39 as JSON lines appended
(``.jsonl``: a metadata record, every write of a message in full, ``$set`` updates and
``$rewindTo`` markers). One session can span several files of one directory (a legacy
``.json`` and the ``.jsonl`` its resume wrote, holding the same messages again; the files a
``/clear`` left under one session id before v0.35): discovery hands each such group to the
parser as one unit, and the parser merges its files by message id.

Every message id is one message. A ``gemini`` message with a ``tokens`` object is one model
call, counted once with the last usage written for it, whatever later rewrites, rewinds and
checkpoints show: the call was made and billed.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Mapping

import orjson

from ..discovery import SessionFile, walk_files
from ..paths import os_path, text_path
from ..source_spec import SourceSpec, dedupe, env_dir, home
from ..sources import Source, canonical_id
from .base import (
    BOM,
    REJECT_IO_ERROR,
    REJECT_SOURCE_MISMATCH,
    FileParse,
    LineTooLarge,
    Message,
    MessageSink,
    Session,
    TimeSpan,
    open_regular,
    parse_timestamp,
)
from .gemini_records import MESSAGE_TYPES, Record, cli_version, record_messages
from .sniff import LineCounts, own_lines, reject_unrecognised, sniff_line

SOURCE = Source.GEMINI


def _roots(env: Mapping[str, str]) -> list[Path]:
    """``tmp/`` of each ``GEMINI_DATA_DIR`` (a comma-separated list, as ccusage reads it); else
    of ``$GEMINI_CLI_HOME/.gemini`` (Gemini CLI's own home override); else ``~/.gemini/tmp``."""
    if env.get("GEMINI_DATA_DIR", "").strip():
        return dedupe([Path(d.strip()).expanduser() / "tmp" for d in env["GEMINI_DATA_DIR"].split(",") if d.strip()])
    base = env_dir(env, "GEMINI_CLI_HOME") or home()
    return [base / ".gemini" / "tmp"]


def _id_from_path(path: str) -> str | None:
    """A nested subagent file is named by its session id; a main chat file names only the
    first 8 characters of its id."""
    p = Path(path)
    return p.stem if p.parent.parent.name == "chats" else None


SPEC = SourceSpec(
    name="gemini", label="Gemini CLI", roots=_roots, settings=("GEMINI_DATA_DIR", "GEMINI_CLI_HOME"),
    provider="google", reports_reasoning=True, colour="#3c8d5a", corpus_dir="tmp",
    # a Gemini message record ({id, type: "user", ...}) also has the shape of a Claude line
    id_from_path=_id_from_path, sniff_first=True,
)

# keys of the other sources' lines that no Gemini record has (Claude and Qwen: uuid,
# parentUuid; Codex: payload, role; Copilot: data, parentId)
_FOREIGN_KEYS = ("uuid", "parentUuid", "leafUuid", "payload", "role", "data", "parentId")

# The A2A server records every chat under this one session id (unrelated chats share it).
A2A_SESSION_ID = "a2a-server"
_HASH_DIR = re.compile(r"[0-9a-f]{64}")  # a project directory before v0.29: sha256 of its path
# session-<UTC minute | epoch ms (an import)>-<first 8 characters of the session id>
_MAIN_STEM = re.compile(r"session-(?:\d{4}-\d{2}-\d{2}T\d{2}-\d{2}|\d+)-(.+)")


def looks_like(line: dict) -> bool:
    """A Gemini CLI record: a message (string ``id``, a known ``type``, a ``timestamp``), the
    metadata record or legacy document (``sessionId`` and ``projectHash``), a ``$set`` update
    or a ``$rewindTo`` marker."""
    if any(k in line for k in _FOREIGN_KEYS):
        return False
    if "$set" in line or "$rewindTo" in line:
        return isinstance(line.get("$set"), dict) or isinstance(line.get("$rewindTo"), str)
    if isinstance(line.get("id"), str):
        mtype = line.get("type")
        return isinstance(mtype, str) and mtype in MESSAGE_TYPES and "timestamp" in line
    return isinstance(line.get("sessionId"), str) and isinstance(line.get("projectHash"), str)


# --- discovery ------------------------------------------------------------------------


def _group_key(dirpath: str, name: str) -> str | None:
    """Which unit a file of a ``chats/`` directory belongs to (None: not a chat file): main
    chat files by the id8 in their name (the legacy ``.json``, its ``.jsonl`` resume and the
    ``/clear`` twins share it), nested subagent files by their stem. Activity logs
    (``logs/session-*.jsonl``), ``logs.json``, checkpoints and the ``*.unreadable-*`` /
    ``*.tmp-*`` files beside a chat are not chat files."""
    stem, dot, ext = name.rpartition(".")
    if not dot or ext not in ("json", "jsonl") or not stem:
        return None
    if os.path.basename(dirpath) == "chats":
        if not stem.startswith("session-"):
            return None
        m = _MAIN_STEM.fullmatch(stem)
        return m.group(1) if m else stem
    if os.path.basename(os.path.dirname(dirpath)) == "chats":  # chats/<parent session id>/<agent id>
        return stem
    return None


def _project_dir(chat_dir: str) -> str:
    """The project directory (``tmp/<project>``) of a chat file's directory."""
    up = os.path.dirname(chat_dir)
    return up if os.path.basename(chat_dir) == "chats" else os.path.dirname(up)


def _unit_kind(chat_dir: str) -> str:
    """A project directory named by a sha256 is the pre-v0.29 layout, which v0.29 copies into
    the slug directory and leaves behind: its sessions lose a clash with the slug copy."""
    if _HASH_DIR.fullmatch(os.path.basename(_project_dir(chat_dir))):
        return "archived"
    return "main" if os.path.basename(chat_dir) == "chats" else "subagent"


def find_files(root: Path) -> Iterator[SessionFile]:
    """One unit per group of chat files (see ``_group_key``): named by its newest file, its
    fingerprint the sum of the sizes and the latest mtime of all of them."""
    groups: dict[tuple[str, str], list[tuple[str, os.stat_result]]] = {}
    for path, st in walk_files(root, lambda dirpath, name: _group_key(dirpath, name) is not None):
        chat_dir, name = os.path.split(path)
        groups.setdefault((chat_dir, _group_key(chat_dir, name)), []).append((path, st))
    for (chat_dir, _), members in groups.items():
        newest = max(members, key=lambda m: (m[1].st_mtime_ns, m[0]))[0]
        size = sum(st.st_size for _, st in members)
        mtime = max(st.st_mtime_ns for _, st in members)
        yield SessionFile(SOURCE, newest, size, mtime, _unit_kind(chat_dir))


def _group_members(path: str) -> list[str]:
    """The files of ``path``'s unit, oldest name first (a ``.json`` before its ``.jsonl``)."""
    chat_dir, name = os.path.split(path)
    key = _group_key(chat_dir, name)
    members = {path}
    if key is not None:
        listed = os.fsdecode(os_path(chat_dir))
        try:
            with os.scandir(listed) as it:
                for entry in it:
                    if _group_key(chat_dir, entry.name) == key and entry.is_file():
                        members.add(text_path(os.path.join(listed, entry.name)))
        except OSError:
            pass
    return sorted(members, key=lambda p: os.path.splitext(os.path.basename(p)))


# --- reading one file into chats ------------------------------------------------------


class _Chat:
    """One chat as one file records it: its metadata and every copy of every message, in
    file order, each as (record, line number, whether it came from a ``$set.messages``
    checkpoint)."""

    __slots__ = ("meta", "has_meta", "copies")

    def __init__(self) -> None:
        self.meta: dict = {}
        self.has_meta = False
        self.copies: list[tuple[dict, int, bool]] = []

    def merge_meta(self, record: dict) -> None:
        # later values stand (the loader's Object.assign), but a chat keeps its first id
        for k, v in record.items():
            if k != "messages" and not (k == "sessionId" and "sessionId" in self.meta):
                self.meta[k] = v


def _take(record: dict, line_no: int, chats: list[_Chat]) -> None:
    """Add one record of ours to the file's current chat (the last in ``chats``)."""
    current = chats[-1] if chats else None
    if current is None:
        current = _Chat()
        chats.append(current)
    if "$rewindTo" in record:
        return  # an edit of the visible history: the calls before it were made
    if "$set" in record:
        update = record["$set"]
        current.merge_meta(update)
        for m in update.get("messages") if isinstance(update.get("messages"), list) else ():
            if isinstance(m, dict) and isinstance(m.get("id"), str):
                current.copies.append((m, line_no, True))
        return
    if isinstance(record.get("id"), str):
        current.copies.append((record, line_no, False))
        return
    # metadata: a second record starts a new chat only in an A2A file, where each is another chat
    if current.has_meta and A2A_SESSION_ID in (current.meta.get("sessionId"), record.get("sessionId")):
        current = _Chat()
        chats.append(current)
    current.merge_meta(record)
    current.has_meta = True
    for m in record.get("messages") if isinstance(record.get("messages"), list) else ():  # a legacy document
        if isinstance(m, dict) and isinstance(m.get("id"), str):
            current.copies.append((m, line_no, False))


class _Read:
    """What reading one file gave: its chats, or the other source its first line is, or that
    it is a JSON document caught half-written."""

    __slots__ = ("chats", "foreign", "cut_short")

    def __init__(self, chats: list[_Chat] | None = None, foreign: Source | None = None, cut_short: bool = False):
        self.chats = chats or []
        self.foreign = foreign
        self.cut_short = cut_short


def _read_lines(path: str, counts: FileParse) -> _Read:
    """A JSONL file, record by record (the other sources' lines counted and skipped)."""
    chats: list[_Chat] = []
    lines = LineCounts()
    for line_no, line in own_lines(path, counts, SOURCE, lines):
        counts.lines_ok += 1
        _take(line, line_no, chats)
    return _Read(foreign=lines.first_foreign[0]) if lines.first_foreign else _Read(chats)


def _read_document(path: str, counts: FileParse) -> _Read:
    """A whole-file JSON document (the legacy format; also a pretty-printed copy under a
    ``.jsonl`` name). One that does not parse but is a JSON object cut short was caught while
    the CLI rewrote it (it writes the whole file each time)."""
    from ..config import max_line_bytes

    limit = max_line_bytes()
    with open_regular(path) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise LineTooLarge(1, limit)
    data = data.removeprefix(BOM)
    if not data.strip():
        return _Read()
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        if _cut_short(data):
            return _Read(cut_short=True)
        counts.lines_malformed += 1
        return _Read()
    if not isinstance(doc, dict):
        counts.lines_malformed += 1
        return _Read()
    seen_as = sniff_line(doc)
    if seen_as is not SOURCE:
        if seen_as is not None:
            return _Read(foreign=seen_as)
        counts.lines_skipped += 1
        counts.unknown_types["document"] += 1
        return _Read()
    counts.lines_ok += 1
    chats: list[_Chat] = []
    _take(doc, 1, chats)
    return _Read(chats)


def _cut_short(data: bytes) -> bool:
    """A JSON object whose text is valid up to its end and ends too early: the start of a
    document (a character cut in two at the very end included)."""
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(data)  # holds back a cut last character
    except UnicodeDecodeError:
        return False
    if not text.lstrip().startswith("{"):
        return False
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return exc.pos >= len(text.rstrip())
    return False


def _read_file(path: str, result: FileParse) -> _Read:
    """A ``.json`` file is a document; a ``.jsonl`` file is read as lines and, when none of
    them is a record (a pretty-printed document), as a document, as the CLI's loader does."""
    counts = FileParse(SOURCE, path)
    read = _read_document(path, counts) if path.endswith(".json") else _read_lines(path, counts)
    if not read.chats and read.foreign is None and (counts.lines_malformed or counts.lines_incomplete_tail):
        document = FileParse(SOURCE, path)
        as_document = _read_document(path, document)
        if as_document.chats or as_document.cut_short:
            read, counts = as_document, document
    result.lines_ok += counts.lines_ok
    result.lines_malformed += counts.lines_malformed
    result.lines_incomplete_tail += counts.lines_incomplete_tail
    result.lines_skipped += counts.lines_skipped
    result.unknown_types.update(counts.unknown_types)
    return read


# --- sessions of a unit ---------------------------------------------------------------


class _Session:
    """One session of a unit being assembled from the chats of its files."""

    __slots__ = ("key", "parent", "relation", "chat_dir", "meta", "records", "starts")

    def __init__(self, key: str, parent: str | None, relation: str | None, chat_dir: str):
        self.key, self.parent, self.relation, self.chat_dir = key, parent, relation, chat_dir
        self.meta: dict = {}
        self.records: dict[str, Record] = {}
        self.starts: list[object] = []


def _identity(chat: _Chat, path: str, index: int) -> tuple[str, str | None, str | None]:
    """(source_session_id, parent canonical id, relation) of a chat read from ``path``."""
    stem = Path(path).stem
    sid = chat.meta.get("sessionId") if isinstance(chat.meta.get("sessionId"), str) and chat.meta["sessionId"].strip() else stem
    chat_dir = os.path.dirname(path)
    if os.path.basename(os.path.dirname(chat_dir)) == "chats":  # v0.37+: chats/<parent session id>/<agent id>
        return sid, canonical_id(SOURCE, os.path.basename(chat_dir)), "subagent"
    if sid == A2A_SESSION_ID:  # one id for unrelated chats: each is its own session
        start = chat.meta.get("startTime")
        return f"{sid}/{stem}/{start if isinstance(start, str) and start else f'#{index}'}", None, None
    if chat.meta.get("kind") == "subagent":  # up to v0.36: a file beside its parent, under the parent's id
        return f"{sid}/{stem}", canonical_id(SOURCE, sid), "subagent"
    return sid, None, None


def parse_file(path: str, sink: MessageSink | None = None) -> FileParse:
    """Parse one unit: ``path`` and the other files of its group. A unit is merged whole
    before any message is final (a later copy can still change one), so with a ``sink`` each
    session's messages go to it once the unit is read."""
    result = FileParse(SOURCE, path)
    sessions: dict[str, _Session] = {}
    foreign: Source | None = None
    for member in _group_members(path):
        read = _read_file(member, result)
        if read.foreign is not None:
            foreign = foreign or read.foreign
            if member == path:
                result.rejection = REJECT_SOURCE_MISMATCH
                result.detail = f"first recognisable record is a {read.foreign.value} line"
                return result
            continue
        if read.cut_short:
            # the next run reads it again (an io_error is retried even when nothing changed)
            result.rejection = REJECT_IO_ERROR
            result.detail = f"{os.path.basename(member)} was caught mid-write: a JSON document cut short"
            return result
        for index, chat in enumerate(read.chats):
            key, parent, relation = _identity(chat, member, index)
            session = sessions.get(key)
            if session is None:
                session = sessions[key] = _Session(key, parent, relation, os.path.dirname(member))
            session.meta.update(chat.meta)
            session.starts.append(chat.meta.get("startTime"))
            for copy, line_no, in_checkpoint in chat.copies:
                record = session.records.get(copy["id"])
                if record is None:
                    record = session.records[copy["id"]] = Record(copy["id"], line_no)
                record.add(copy, in_checkpoint)
    if not sessions:
        if foreign is not None:
            result.rejection = REJECT_SOURCE_MISMATCH
        else:
            reject_unrecognised(result, "Gemini CLI record")
        return result
    result.sessions = [_build(s, path, result) for s in sessions.values()]
    if sink is not None:
        for session in result.sessions:
            sink(session.id, session.messages)
            session.streamed_messages, session.messages = len(session.messages), []
    return result


def _build(acc: _Session, path: str, result: FileParse) -> Session:
    subagent = acc.relation == "subagent"
    # tool results already recorded on their tool call (v0.44+ also sends them as a user turn)
    answered = {cid for r in acc.records.values() for cid, call in r.calls.items() if call.get("result") is not None}
    messages: list[Message] = []
    span = TimeSpan()
    for start in acc.starts:
        span.add(parse_timestamp(start))
    version = None
    for record in acc.records.values():
        made = record_messages(record, subagent, answered, result)
        span.add(parse_timestamp(record.copy.get("timestamp")))  # also a record that adds no message
        for m in made:
            span.add(m.timestamp)
            if m.role == "system" and m.kind == "info" and m.text:
                version = cli_version(m.text) or version
        messages += made
    return Session(
        SOURCE, acc.key, path, messages=messages, parent_session_id=acc.parent, relation=acc.relation,
        is_sidechain=subagent, cli_version=version, cwd=_cwd(acc.meta, acc.chat_dir),
        started_at=span.first, ended_at=span.last,
    )


# --- the project directory a session ran in -------------------------------------------


def _cwd(meta: dict, chat_dir: str) -> str | None:
    """The session's own ``directories`` (v0.28+; the first is where it started); else the
    ``.project_root`` marker of its project directory (v0.29+); else the project the CLI's
    registry ``projects.json`` maps to that directory (by slug, or by the sha256 that named
    it before v0.29 and that every session records as ``projectHash``)."""
    dirs = meta.get("directories")
    if isinstance(dirs, list) and dirs and isinstance(dirs[0], str) and dirs[0]:
        return dirs[0]
    project_dir = _project_dir(chat_dir)
    try:
        with open_regular(os.path.join(project_dir, ".project_root")) as fh:
            marked = fh.read(1 << 16).decode("utf-8", "replace").strip()
        if marked:
            return marked
    except OSError:
        pass
    name = os.path.basename(project_dir)
    wanted = {name, meta.get("projectHash") if isinstance(meta.get("projectHash"), str) else name}
    registry = os.path.join(os.path.dirname(os.path.dirname(project_dir)), "projects.json")
    for root, slug, digest in _registry(registry):
        if slug == name or digest in wanted:
            return root
    return None


def _registry(path: str) -> tuple[tuple[str, str, str], ...]:
    try:
        st = os.stat(os_path(path))
    except OSError:
        return ()
    return _load_registry(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=8)
def _load_registry(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, str, str], ...]:
    """(project path, slug, sha256 of the path) of each project in ``projects.json``."""
    try:
        with open_regular(path) as fh:
            doc = orjson.loads(fh.read(1 << 24))
    except (OSError, orjson.JSONDecodeError):
        return ()
    projects = doc.get("projects") if isinstance(doc, dict) else None
    if not isinstance(projects, dict):
        return ()
    return tuple((root, slug, hashlib.sha256(root.encode("utf-8", "surrogatepass")).hexdigest())
                 for root, slug in projects.items() if isinstance(slug, str))
