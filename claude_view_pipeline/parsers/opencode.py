"""OpenCode sessions, in its SQLite database and its older JSON tree (docs/parsing-rules.md,
"OpenCode").

A database holds every session of an install; it is one unit of discovery, read through a
private snapshot that includes its write-ahead log (opencode_store.py). A session of the JSON
tree (OpenCode 1.1 and earlier, left in place after the move to the database) is one unit, and
loses to the database's copy of the same session.

Usage comes from the ``step-finish`` parts: each is one model call with its own tokens and
cost. The message's own ``tokens`` hold only its last step's (OpenCode overwrites them at every
step), so they are never summed."""

from __future__ import annotations

import math
import os
import re
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from ..discovery import SessionFile
from ..paths import text_path
from ..source_spec import SourceSpec, dedupe, env_dir, home
from ..sources import Source, canonical_id
from .base import (
    REJECT_EMPTY,
    REJECT_NOT_A_SESSION_LOG,
    FileParse,
    Message,
    MessageSink,
    Session,
    TimeSpan,
    as_int,
    json_text,
    parse_timestamp,
)
from .opencode_store import (
    MessageRow,
    NotOpenCodeStore,
    SessionRow,
    database_fingerprint,
    database_sessions,
    database_snapshot,
    is_database_name,
    read_error,
    tree_fingerprint,
    tree_session,
)

SOURCE = Source.OPENCODE


def _data_dir(env: Mapping[str, str]) -> Path:
    return (env_dir(env, "XDG_DATA_HOME") or home() / ".local" / "share") / "opencode"


def _roots(env: Mapping[str, str]) -> list[Path]:
    """``OPENCODE_DATA_DIR`` (a comma-separated list, as ccusage reads it); else OpenCode's own
    data directory, ``$XDG_DATA_HOME/opencode`` (else ``~/.local/share/opencode``, on every OS);
    and the database ``OPENCODE_DB`` names: an absolute path, or a name in the data directory."""
    if env.get("OPENCODE_DATA_DIR", "").strip():
        roots = [Path(d.strip()).expanduser() for d in env["OPENCODE_DATA_DIR"].split(",") if d.strip()]
    else:
        roots = [_data_dir(env)]
    db = env_dir(env, "OPENCODE_DB")
    if db is not None and str(db) != ":memory:":
        roots.append(db if db.is_absolute() else _data_dir(env) / db)
    return dedupe(roots)


SPEC = SourceSpec(
    name="opencode", label="OpenCode", roots=_roots, settings=("OPENCODE_DATA_DIR", "XDG_DATA_HOME", "OPENCODE_DB"),
    provider=None, reports_reasoning=True, colour="#c9a227", corpus_dir=".", id_from_path=lambda path: None,
)


# --- discovery -------------------------------------------------------------------------------


def find_files(root: Path) -> Iterator[SessionFile]:
    """A data directory's databases (``opencode.db``, ``opencode-<channel>.db``; never the
    ``snapshot/`` git trees or logs beside them) and the sessions of its JSON tree; or one
    database named directly (``OPENCODE_DB``)."""
    try:
        if root.is_file():
            yield _database_file(str(root), os.stat(root))
            return
    except OSError:
        return
    try:
        entries = list(os.scandir(root))
    except OSError:
        entries = []
    for entry in entries:
        if is_database_name(entry.name) and entry.is_file(follow_symlinks=True):
            try:
                yield _database_file(entry.path, entry.stat())
            except OSError:
                continue
    storage = root if root.name == "storage" else root / "storage"
    yield from _tree_files(storage / "session")


def _database_file(path: str, st: os.stat_result) -> SessionFile:
    size, mtime = database_fingerprint(path, st)
    return SessionFile(SOURCE, text_path(path), size, mtime, "main")


def _tree_files(session_dir: Path) -> Iterator[SessionFile]:
    """``storage/session/<projectID>/<sessionID>.json``, each the unit of its session; archived,
    so the database's copy of a session (OpenCode imports the tree once, and leaves it) wins."""
    try:
        projects = [e for e in os.scandir(session_dir) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for project in projects:
        try:
            files = [e for e in os.scandir(project.path) if e.name.endswith(".json") and e.is_file(follow_symlinks=False)]
        except OSError:
            continue
        for entry in files:
            try:
                size, mtime = tree_fingerprint(entry.path, entry.stat())
            except OSError:
                continue
            yield SessionFile(SOURCE, text_path(entry.path), size, mtime, "archived")


# --- parsing ---------------------------------------------------------------------------------


def parse_file(path: str, sink: MessageSink | None = None) -> FileParse:
    """A database (every session in it) or one session of the JSON tree. With a sink, each
    session's messages go to it as soon as the session is read (a database can hold thousands)."""
    result = FileParse(SOURCE, path)
    try:
        if path.endswith(".json"):
            found = tree_session(path, result)
            if found is not None:
                _add_session(result, path, *found, sink)
        else:
            with database_snapshot(path) as con:
                try:
                    for session, messages in database_sessions(con, result):
                        _add_session(result, path, session, messages, sink)
                except sqlite3.Error as exc:
                    raise read_error(exc, path) from exc
    except NotOpenCodeStore as exc:
        return FileParse(SOURCE, path, rejection=REJECT_NOT_A_SESSION_LOG, detail=str(exc))
    if not result.sessions:
        if result.lines_malformed:
            result.rejection, result.detail = REJECT_NOT_A_SESSION_LOG, "no OpenCode session in it"
        else:
            result.rejection, result.detail = REJECT_EMPTY, "no sessions"
    return result


def _add_session(result: FileParse, path: str, row: SessionRow, rows: list[MessageRow], sink: MessageSink | None) -> None:
    span = TimeSpan()
    messages: list[Message] = []
    # a subagent's prompts were written by its parent's model, not by a person
    prompt_kind = "agent_prompt" if row.parent_id else "prompt"
    for message in rows:
        _convert(message, row.version, prompt_kind, messages, span, result)
    session = Session(
        SOURCE, row.id, path, messages=messages,
        parent_session_id=canonical_id(SOURCE, row.parent_id) if row.parent_id else None,
        relation="subagent" if row.parent_id else None,
        is_sidechain=row.parent_id is not None,
        cli_version=row.version, cwd=row.directory,
        # a session with no message yet: its own creation and last update
        started_at=span.first or parse_timestamp(row.time_created),
        ended_at=span.last or parse_timestamp(row.time_updated),
    )
    if sink is not None and messages:
        sink(session.id, messages)
        session.streamed_messages, session.messages = len(messages), []
    result.sessions.append(session)


# Part types that add no message: step boundaries, file attachments and @-mentions, edits and
# the git snapshots OpenCode takes around each step.
_SILENT_PARTS = frozenset({"step-start", "file", "agent", "patch", "snapshot"})
_ABORTED = "MessageAbortedError"


def _convert(message: MessageRow, version: str | None, prompt_kind: str, out: list[Message], span: TimeSpan,
             result: FileParse) -> None:
    data = message.data
    created, completed = (parse_timestamp(t) for t in _times(data, "created", "completed"))
    span.add(created)
    span.add(completed)
    role = data.get("role")
    if role == "user":
        _user(message, created, prompt_kind, out, span, result)
    elif role == "assistant":
        _assistant(message, version, created, completed, out, span, result)
    else:
        result.unknown_types[f"message:{role}"] += 1


def _user(message: MessageRow, created: datetime | None, prompt_kind: str, out: list[Message], span: TimeSpan,
          result: FileParse) -> None:
    """A user message is one prompt: its text parts joined. Text OpenCode adds itself (marked
    ``synthetic``: file contents read for an @-mention, the note before a ``!`` shell command's
    output; or ``ignored``) is injected context, never a prompt."""
    prompt: Message | None = None
    for pid, part in message.parts:
        kind = _part_type(part)
        ts = _part_start(part, span) or created
        if kind == "text":
            text = _text(part.get("text"))
            if part.get("synthetic") or part.get("ignored"):
                out.append(Message("system", "injected", ts, text, dedup_key=pid))
            elif prompt is None:
                prompt = Message("user", prompt_kind, ts, text, dedup_key=pid)
                out.append(prompt)
            elif text:
                prompt.set_text(f"{prompt.text}\n\n{text}" if prompt.text else text)
        elif kind == "compaction":  # the user-side marker of a context compaction
            out.append(Message("system", "compacted", ts, dedup_key=pid))
        elif kind == "subtask":  # a command that runs a subagent
            out.append(Message("system", "subtask", ts, _text(part.get("prompt")) or _text(part.get("description")), dedup_key=pid))
        elif kind not in _SILENT_PARTS:
            result.unknown_types[f"part:{kind}"] += 1


def _assistant(message: MessageRow, version: str | None, created: datetime | None, completed: datetime | None,
               out: list[Message], span: TimeSpan, result: FileParse) -> None:
    """Each step (``step-start`` ... ``step-finish``) is one model call; its usage goes on the
    step's answer text (else its first content message, else a message of kind "usage"). An
    assistant message with no steps at all holds a ``!`` shell command the user ran: a tool
    call, but no model call."""
    data = message.data
    kinds = [_part_type(part) for _, part in message.parts]
    stepped = "step-start" in kinds or "step-finish" in kinds
    last_finish = max((i for i, k in enumerate(kinds) if k == "step-finish"), default=-1)
    text_kind = "summary" if data.get("summary") is True else "text"  # a compaction's summary
    step: list[Message] = []
    step_end: datetime | None = None
    for i, (pid, part) in enumerate(message.parts):
        kind = kinds[i]
        ts = _part_start(part, span) or created
        end = _part_end(part)
        if kind == "step-start":
            out.extend(step)  # what came before (a step that never finished) stays, without usage
            step, step_end = [], None
            continue
        if end is not None:
            step_end = end if step_end is None else max(step_end, end)
        if kind == "text":
            step.append(Message("assistant", text_kind, ts, _text(part.get("text")), dedup_key=pid))
        elif kind == "reasoning":
            step.append(Message("reasoning", "reasoning", ts, _text(part.get("text")), dedup_key=pid))
        elif kind == "tool":
            step.extend(_tool(pid, part, ts, "tool" if stepped else "user_shell"))
        elif kind == "step-finish":
            at = completed if i == last_finish and completed else step_end or completed or created
            holder = _usage_holder(step)
            if holder is None:
                holder = Message("assistant", "usage", at, dedup_key=pid)
                step.append(holder)
            _record_call(holder, part, data, version, at)
            out.extend(step)
            step = []
            continue
        elif kind == "retry":  # a failed attempt OpenCode retried
            step.append(Message("system", "retry", ts, _error_text(part.get("error")), dedup_key=pid))
        elif kind in _SILENT_PARTS or kind in ("compaction", "subtask"):  # (the last two: user-message parts)
            pass
        else:
            result.unknown_types[f"part:{kind}"] += 1
    out.extend(step)  # an interrupted step's content: no step-finish, so no usage was recorded
    error = data.get("error")
    if isinstance(error, dict):
        at = completed or step_end or created
        if error.get("name") == _ABORTED:
            out.append(Message("system", "turn_aborted", at, _error_text(error), dedup_key=f"{message.id}:error"))
        else:
            out.append(Message("system", "error", at, _error_text(error), dedup_key=f"{message.id}:error"))


def _tool(pid: str, part: dict, ts: datetime | None, kind: str) -> list[Message]:
    state = part.get("state") if isinstance(part.get("state"), dict) else {}
    call_id = _text(part.get("callID"))
    use = Message("tool_use", kind, ts, json_text(state.get("input")), tool_name=_text(part.get("tool")), call_id=call_id, dedup_key=pid)
    status = state.get("status")
    if status not in ("completed", "error"):
        return [use]  # pending or running: the call never finished
    times = state.get("time") if isinstance(state.get("time"), dict) else {}
    done = parse_timestamp(times.get("end")) or ts
    text = json_text(state.get("output")) if status == "completed" else _error_text(state.get("error"))
    return [use, Message("tool_result", kind, done, text, call_id=call_id, is_error=status == "error", dedup_key=f"{pid}:result")]


def _usage_holder(step: list[Message]) -> Message | None:
    """The message a step's usage goes on: its answer (text with something in it, else any
    text), else its first content message."""
    texts = [m for m in step if m.role == "assistant"]
    answer = next((m for m in texts if m.text and m.text.strip()), None)
    if answer is not None:
        return answer
    if texts:
        return texts[0]
    return next((m for m in step if m.role != "tool_result"), None)


def _record_call(holder: Message, finish: dict, data: dict, version: str | None, at: datetime | None) -> None:
    holder.api_call = True
    holder.usage_at = at
    holder.model = _text(data.get("modelID"))
    holder.model_provider = _text(data.get("providerID"))
    cost = finish.get("cost")
    holder.agent_cost_usd = float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) and math.isfinite(cost) else None
    tokens = finish.get("tokens")
    if not isinstance(tokens, dict):
        return  # a finished step with no usage written: the call happened, its size is unknown
    cache = tokens.get("cache") if isinstance(tokens.get("cache"), dict) else {}
    holder.input_tokens = as_int(tokens.get("input"))
    holder.cache_read_tokens = as_int(cache.get("read"))
    holder.cache_creation_tokens = holder.cache_creation_5m_tokens = as_int(cache.get("write"))
    holder.cache_creation_1h_tokens = 0
    holder.reasoning_tokens = as_int(tokens.get("reasoning"))
    holder.output_tokens = output_with_reasoning(tokens, version, holder.model_provider)


# --- what ``output`` means ---------------------------------------------------------------------
# OpenCode stores ``output`` and ``reasoning`` side by side, but what ``output`` holds changed:
# builds on AI SDK v5 (1.3.3 and earlier) store the provider's output count as it comes, which
# includes reasoning for OpenAI-style providers and excludes it for Google's; builds on AI SDK
# v6 (from 1.3.4) store output minus reasoning for every provider. The stored ``total`` (the
# provider's own total, when it gave one) says which on the record itself, so it decides first.

AI_SDK_V6_VERSION = (1, 3, 4)
# providers whose output count never included reasoning, before AI SDK v6 (thoughtsTokenCount
# apart from candidatesTokenCount)
_REASONING_APART_PROVIDERS = frozenset({"google", "google-vertex"})
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def output_with_reasoning(tokens: dict, version: str | None, provider: str | None) -> int:
    """All output of a step, reasoning included, from its stored ``tokens``."""
    output, reasoning = as_int(tokens.get("output")), as_int(tokens.get("reasoning"))
    return output + reasoning if reasoning and _output_excludes_reasoning(tokens, output, reasoning, version, provider) else output


def _output_excludes_reasoning(tokens: dict, output: int, reasoning: int, version: str | None, provider: str | None) -> bool:
    total = tokens.get("total")
    if isinstance(total, int) and not isinstance(total, bool):
        cache = tokens.get("cache") if isinstance(tokens.get("cache"), dict) else {}
        prompt = as_int(tokens.get("input")) + as_int(cache.get("read")) + as_int(cache.get("write"))
        if total == prompt + output + reasoning:
            return True
        if total == prompt + output:
            return False
    if reasoning > output:
        return True  # output cannot hold more reasoning than itself
    built = _version_tuple(version)
    if built is None or built >= AI_SDK_V6_VERSION:  # unknown or a development build: current
        return True
    return provider in _REASONING_APART_PROVIDERS


def _version_tuple(version: str | None) -> tuple[int, int, int] | None:
    m = _VERSION.match(version or "")
    if m is None:
        return None
    parsed = tuple(int(g) for g in m.groups())
    return None if parsed == (0, 0, 0) else parsed  # type: ignore[return-value]


# --- small readers ---------------------------------------------------------------------------


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _part_type(part: dict) -> str | None:
    kind = part.get("type")
    return kind if isinstance(kind, str) else None


def _times(obj: dict, *keys: str) -> Iterable[object]:
    times = obj.get("time") if isinstance(obj.get("time"), dict) else {}
    return [times.get(k) for k in keys]


def _part_start(part: dict, span: TimeSpan) -> datetime | None:
    """When a part began (text and reasoning ``time.start``, a tool's ``state.time.start``);
    its end is added to the session's span as well."""
    holder = part.get("state") if part.get("type") == "tool" and isinstance(part.get("state"), dict) else part
    start, end = (parse_timestamp(t) for t in _times(holder, "start", "end"))
    span.add(start)
    span.add(end)
    return start


def _part_end(part: dict) -> datetime | None:
    holder = part.get("state") if part.get("type") == "tool" and isinstance(part.get("state"), dict) else part
    (end,) = _times(holder, "end")
    return parse_timestamp(end)


def _error_text(error: object) -> str | None:
    """An error's message (``{name, data: {message}}`` for message errors), else its text."""
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        inner = error.get("data")
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
        return _text(error.get("message")) or _text(error.get("name"))
    return None
