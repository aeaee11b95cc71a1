"""Qwen Code chat sessions (docs/parsing-rules.md, "Qwen Code").

One JSONL file under ``projects/<project>/chats/`` is one session, appended to on every
resume. Each main-chat model response is an ``assistant`` record carrying its
``usageMetadata``; the same response, and every call that has no record (sub-agent calls,
side calls such as web_fetch's summaries), is also logged a few milliseconds earlier as a
``system``/``ui_telemetry`` ``api_response`` event. A file with any such event counts the
events, each once (a call's usage sits on the assistant record the event belongs to when
there is one); a file without counts the records. Never both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator, Mapping

import orjson

from ..discovery import SessionFile, walk_files
from ..source_spec import SourceSpec, dedupe, env_dir, home
from ..sources import Source, canonical_id
from .base import (
    BOM,
    FileParse,
    Message,
    MessageSink,
    Session,
    TimeSpan,
    as_int,
    json_text,
    open_regular,
    parse_timestamp,
)
from .sniff import LineCounts, own_lines, rejected_without_own_lines

SOURCE = Source.QWEN


def _roots(env: Mapping[str, str]) -> list[Path]:
    """``projects/`` of ``QWEN_DATA_DIR`` (a comma-separated list, as ccusage reads it); else of
    Qwen Code's own runtime directory (``QWEN_RUNTIME_DIR``, else ``QWEN_HOME``); else
    ``~/.qwen/projects``."""
    if env.get("QWEN_DATA_DIR", "").strip():
        return dedupe([Path(d.strip()).expanduser() / "projects" for d in env["QWEN_DATA_DIR"].split(",") if d.strip()])
    base = env_dir(env, "QWEN_RUNTIME_DIR") or env_dir(env, "QWEN_HOME") or home() / ".qwen"
    return [base / "projects"]


def _id_from_path(path: str) -> str:
    """A chat is named by its session id; a sub-agent transcript
    (``subagents/<session>/agent-<id>.jsonl``) by its session and its own name, since agent
    ids are short (``explore-7f3c``) and repeat across sessions."""
    p = Path(path)
    if p.parent.parent.name == "subagents" and p.name.startswith("agent-"):
        return f"{p.parent.name}/{p.stem}"
    return p.stem


SPEC = SourceSpec(
    name="qwen", label="Qwen Code", roots=_roots, settings=("QWEN_DATA_DIR", "QWEN_RUNTIME_DIR", "QWEN_HOME"),
    provider=None, reports_reasoning=True, colour="#7a4fd0", corpus_dir="projects", sniff_first=True,
    id_from_path=_id_from_path,
)

RECORD_TYPES = frozenset({"user", "assistant", "tool_result", "system"})
# system subtypes written by Qwen Code (ChatRecord.subtype, chatRecordingService.ts)
_SILENT_SUBTYPES = frozenset({
    "attribution_snapshot", "file_history_snapshot", "custom_title", "session_source", "session_model",
    "session_approval_mode", "session_execution_engine", "session_sources_snapshot", "session_artifact_event",
    "session_artifact_snapshot", "session_notes", "branch_checkpoint", "goal_state", "goal_runtime", "goal_turn_end",
    "turn_result", "user_text_elements", "agent_retry", "agent_session_ready", "omni_recall",
    "managed_session_header_v1", "managed_session_event_v1", "managed_session_commit_v1",
})
# text the agent put into the conversation itself: context, never a typed prompt
_INJECTED_SUBTYPES = frozenset({
    "cron", "notification", "mid_turn_user_message", "background_task_completed", "realtime_message",
    "agent_bootstrap", "agent_launch_prompt",
})
_MESSAGE_SUBTYPES = frozenset({"ui_telemetry", "slash_command", "at_command", "chat_compression", "rewind", "parent_session"})
QWEN_SUBTYPES = _SILENT_SUBTYPES | _INJECTED_SUBTYPES | _MESSAGE_SUBTYPES
# telemetry events that carry nothing a session counts (tool_call repeats functionCall parts)
_SILENT_EVENTS = frozenset({"tool_call", "user_feedback", "user_retry"})
# a user record this soon after a slash command's result is the command's text sent to the model
COMMAND_EXPANSION_WINDOW = timedelta(seconds=2)


def looks_like(line: dict) -> bool:
    """A Qwen Code record: the Claude-like envelope (uuid, sessionId) plus something only Qwen
    writes: Gemini-shaped ``message.parts`` / role ``model``, ``usageMetadata``, ``systemPayload``,
    ``toolCallResult``, a ``tool_result`` record or one of its system subtypes."""
    if "uuid" not in line or "sessionId" not in line:
        return False
    if "usageMetadata" in line or "systemPayload" in line or "toolCallResult" in line or line.get("type") == "tool_result":
        return True
    msg = line.get("message")
    if isinstance(msg, dict) and (isinstance(msg.get("parts"), list) or msg.get("role") == "model"):
        return True
    return line.get("type") == "system" and _str(line.get("subtype")) in QWEN_SUBTYPES


def _kind(dirpath: str, name: str) -> str | None:
    """``<project>/chats/<id>.jsonl`` (main), ``chats/archive/<id>.jsonl`` (archived),
    ``subagents/<session>/agent-<id>.jsonl`` (subagent); nothing else is a session
    (``*.runtime.json``, ``*.meta.json``, ``*.jsonl.stream``, ``memory/``)."""
    if not name.endswith(".jsonl"):
        return None
    parent, grandparent = os.path.basename(dirpath), os.path.basename(os.path.dirname(dirpath))
    if parent == "chats":
        return "main"
    if parent == "archive" and grandparent == "chats":
        return "archived"
    if grandparent == "subagents" and name.startswith("agent-"):
        return "subagent"
    return None


def find_files(root: Path) -> Iterator[SessionFile]:
    for path, st in walk_files(root, lambda dirpath, name: _kind(dirpath, name) is not None):
        yield SessionFile(SOURCE, path, st.st_size, st.st_mtime_ns, _kind(os.path.dirname(path), os.path.basename(path)))


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Usage:
    """One response's usage in Gemini's terms, as Qwen Code records it for every back end."""

    prompt: int  # the whole prompt, cached part included
    cached: int
    candidates: int
    thoughts: int | None  # None: not reported
    total: int
    tool_prompt: int = 0

    @classmethod
    def from_record(cls, u: object) -> "_Usage | None":
        if not isinstance(u, dict):
            return None
        return cls(as_int(u.get("promptTokenCount")), as_int(u.get("cachedContentTokenCount")),
                   as_int(u.get("candidatesTokenCount")), as_int(u["thoughtsTokenCount"]) if "thoughtsTokenCount" in u else None,
                   as_int(u.get("totalTokenCount")), as_int(u.get("toolUsePromptTokenCount")))

    @classmethod
    def from_event(cls, e: dict) -> "_Usage":
        return cls(as_int(e.get("input_token_count")), as_int(e.get("cached_content_token_count")),
                   as_int(e.get("output_token_count")), as_int(e["thoughts_token_count"]) if "thoughts_token_count" in e else None,
                   as_int(e.get("total_token_count")), as_int(e.get("tool_token_count")))

    @property
    def key(self) -> tuple[int, int, int, int, int]:
        """What an event and its assistant record share: the same five counts."""
        return (self.prompt, self.candidates, self.cached, self.thoughts or 0, self.total)

    def apply(self, m: Message) -> None:
        # all zeros (a provider that sent no usage) is what the log says: a call of 0 tokens,
        # as ccusage and the file's own totals count it; unknown (NULL) is for a call whose
        # log has no usage record at all
        cached = min(self.cached, self.prompt)
        thoughts = self.thoughts or 0
        # OpenAI-style back ends (every real file) report thoughts inside candidates, so the
        # total is prompt + candidates; the Gemini API reports them apart, adding them to it
        thoughts_apart = thoughts > 0 and self.total == self.prompt + self.tool_prompt + self.candidates + thoughts
        m.input_tokens = self.prompt - cached + self.tool_prompt
        m.cache_read_tokens = cached
        m.cache_creation_tokens = m.cache_creation_5m_tokens = m.cache_creation_1h_tokens = 0
        m.output_tokens = self.candidates + (thoughts if thoughts_apart else 0)
        m.reasoning_tokens = self.thoughts


NO_USAGE_KEY = (0, 0, 0, 0, 0)


def _is_subagent_prompt(prompt_id: object) -> bool:
    """``<session>#<agent>#<round>``; the main chat's is ``<session>########<n>``."""
    if not isinstance(prompt_id, str):
        return False
    parts = prompt_id.split("#")
    return len(parts) == 3 and bool(parts[1])


@dataclass(slots=True)
class _Event:
    """An api_response event not yet claimed by the assistant record written after it."""

    message: Message
    usage: _Usage
    prompt_id: str | None
    model: str | None


def _set_call(m: Message, usage: _Usage, model: str | None, at: datetime | None) -> None:
    m.api_call, m.model, m.usage_at = True, model, at
    usage.apply(m)


def _clear_usage(m: Message) -> None:
    m.api_call = False
    m.input_tokens = m.cache_read_tokens = m.output_tokens = m.reasoning_tokens = None
    m.cache_creation_tokens = m.cache_creation_5m_tokens = m.cache_creation_1h_tokens = None


# --- parse state ----------------------------------------------------------------------------


class _State:
    def __init__(self, path: str, counts_records: bool | None):
        p = Path(path)
        self.is_subagent = p.parent.parent.name == "subagents" and p.name.startswith("agent-")
        self.session_id = _id_from_path(path)
        self.messages: list[Message] = []
        self.pending: list[_Event] = []  # main-chat events since the last assistant record
        # whether assistant records' own usage counts: True in a file without api_response
        # events, False with; None until the end of the file shows which (no prescan)
        self.counts_records = counts_records
        self.record_calls: list[Message] = []  # records' usage awaiting that answer
        self.events = 0
        self.lines = LineCounts()
        self.streamed = 0
        self.span = TimeSpan()
        self.cwd = self.git_branch = self.version = None
        self.fork_parent: str | None = None
        self.spawned_by: str | None = None
        self.sidechain_lines = 0
        self.command_result_at: datetime | None = None  # the previous record was a slash command's result

    def claim(self, key: tuple, prompt_id: object) -> _Event | None:
        """The latest pending event with the record's counts (and prompt, where both name one):
        it is this record's call, written just before it. Its usage message goes."""
        for i in range(len(self.pending) - 1, -1, -1):
            ev = self.pending[i]
            if ev.usage.key == key and (not isinstance(prompt_id, str) or ev.prompt_id in (None, prompt_id)):
                del self.pending[i]
                # by identity, from the end: it was written a record or two ago
                at = next(j for j in range(len(self.messages) - 1, -1, -1) if self.messages[j] is ev.message)
                del self.messages[at]
                return ev
        return None


def _parts(rec: dict) -> list:
    msg = rec.get("message")
    parts = msg.get("parts") if isinstance(msg, dict) else None
    return parts if isinstance(parts, list) else []


def _text_of(parts: list) -> str | None:
    texts = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str) and not p.get("thought")]
    return "\n".join(texts) if texts else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# --- records --------------------------------------------------------------------------------


def _user(st: _State, rec: dict, ts: datetime | None, line_no: int, result: FileParse) -> list[Message]:
    parts = _parts(rec)
    results = _function_responses(parts, rec, ts, line_no)
    if results:
        return results
    subtype = rec.get("subtype")
    provenance = rec.get("provenance")
    if subtype is not None:
        subtype = subtype if isinstance(subtype, str) else json_text(subtype)
        if subtype not in _INJECTED_SUBTYPES:
            result.unknown_types[f"user:{subtype}"] += 1
        role, kind = "system", "injected"
    elif st.is_subagent:
        role, kind = "user", "agent_prompt"  # written by the parent's model, not a person
    elif isinstance(provenance, str) and provenance != "real_user":
        role, kind = "system", "injected"
    elif st.command_result_at is not None and ts is not None and ts - st.command_result_at <= COMMAND_EXPANSION_WINDOW:
        role, kind = "system", "command_expansion"  # the slash command, already counted, as sent
    else:
        role, kind = "user", "prompt"
    return [Message(role, kind, ts, _text_of(parts), line_no=line_no)]


def _assistant(st: _State, rec: dict, ts: datetime | None, line_no: int, copied: bool) -> list[Message]:
    out: list[Message] = []
    answer: Message | None = None
    texts: list[str] = []
    for part in _parts(rec):
        if not isinstance(part, dict):
            continue
        call = part.get("functionCall")
        if isinstance(call, dict):
            out.append(Message("tool_use", "function_call", ts, json_text(call.get("args")), tool_name=_str(call.get("name")),
                               call_id=_str(call.get("id")), line_no=line_no))
        elif isinstance(part.get("text"), str):
            if part.get("thought"):
                out.append(Message("reasoning", "thought", ts, part["text"], line_no=line_no))
            else:
                if answer is None:
                    answer = Message("assistant", "text", ts, line_no=line_no)
                    out.append(answer)
                texts.append(part["text"])
    if answer is not None:
        answer.set_text("\n".join(texts))
    if copied or st.is_subagent:
        return out  # a fork's copy is its parent's call; a sub-agent's calls are in the parent's events
    carrier = answer or (out[0] if out else None)
    usage = _Usage.from_record(rec.get("usageMetadata"))
    model = _str(rec.get("model"))
    event = st.claim(usage.key if usage else NO_USAGE_KEY, rec.get("promptId"))
    st.pending.clear()  # older events are calls of their own
    if event is None and (usage is None or st.counts_records is False):
        return out
    if carrier is None:
        carrier = Message("assistant", "usage", ts, line_no=line_no)
        out.append(carrier)
    if event is not None:
        _set_call(carrier, event.usage, model or event.model, event.message.usage_at)
    else:
        _set_call(carrier, usage, model, ts)
        if st.counts_records is None:
            st.record_calls.append(carrier)
    return out


def _function_responses(parts: list, rec: dict, ts: datetime | None, line_no: int) -> list[Message]:
    info = rec.get("toolCallResult") if isinstance(rec.get("toolCallResult"), dict) else {}
    status = info.get("status")
    out = []
    for part in parts:
        fr = part.get("functionResponse") if isinstance(part, dict) else None
        if not isinstance(fr, dict):
            continue
        response = fr.get("response") if isinstance(fr.get("response"), dict) else {}
        failed = "error" in response or status in ("error", "cancelled")
        body = response.get("output") if "output" in response else response.get("error", response or None)
        out.append(Message("tool_result", "function_response", ts, json_text(body), tool_name=_str(fr.get("name")),
                           call_id=_str(fr.get("id")) or _str(info.get("callId")),
                           is_error=True if failed else (False if status == "success" or "output" in response else None),
                           line_no=line_no))
    return out


def _tool_result(rec: dict, ts: datetime | None, line_no: int) -> list[Message]:
    out = _function_responses(_parts(rec), rec, ts, line_no)
    info = rec.get("toolCallResult")
    if not out and isinstance(info, dict):  # the UI's copy alone
        status = info.get("status")
        out.append(Message("tool_result", "function_response", ts, json_text(info.get("resultDisplay")),
                           call_id=_str(info.get("callId")), is_error=status in ("error", "cancelled") if status else None,
                           line_no=line_no))
    return out


def _telemetry(st: _State, payload: dict, ts: datetime | None, line_no: int, copied: bool, result: FileParse) -> list[Message]:
    event = payload.get("uiEvent") if isinstance(payload.get("uiEvent"), dict) else {}
    name = event.get("event.name") if isinstance(event.get("event.name"), str) else ""
    short = name.rsplit(".", 1)[-1]
    if short == "api_response":
        st.events += 1
        if copied or st.is_subagent:
            return []  # a fork's copy; a sub-agent's calls are counted in its parent's file
        usage = _Usage.from_event(event)
        model = _str(event.get("model"))
        at = parse_timestamp(event.get("event.timestamp")) or ts
        m = Message("assistant", "usage", ts, line_no=line_no)
        _set_call(m, usage, model, at)
        prompt_id = _str(event.get("prompt_id"))
        if not _is_subagent_prompt(prompt_id):
            st.pending.append(_Event(m, usage, prompt_id, model))
        return [m]
    if short == "api_error":
        return [Message("system", "api_error", ts, _str(event.get("error_message")), line_no=line_no)]
    if short not in _SILENT_EVENTS:
        result.unknown_types[f"ui_event:{name or None}"] += 1
    return []


def _system(st: _State, rec: dict, ts: datetime | None, line_no: int, copied: bool, result: FileParse) -> list[Message]:
    subtype = _str(rec.get("subtype"))
    payload = rec.get("systemPayload") if isinstance(rec.get("systemPayload"), dict) else {}
    if subtype == "ui_telemetry":
        return _telemetry(st, payload, ts, line_no, copied, result)
    if subtype == "slash_command":
        command = _str(payload.get("rawCommand"))
        if payload.get("phase") == "result":
            items = payload.get("outputHistoryItems")
            return [Message("system", "command_output", ts, json_text(items) if items else None, line_no=line_no)]
        return [Message("user", "command", ts, command, line_no=line_no)]
    if subtype == "at_command":
        return [Message("system", "at_command", ts, _str(payload.get("userText")), line_no=line_no)]
    if subtype == "chat_compression":
        return [Message("system", "compacted", ts, json_text(payload.get("info")), line_no=line_no)]
    if subtype == "rewind":
        return [Message("system", "rewind", ts, json_text(payload.get("truncatedCount")), line_no=line_no)]
    if subtype == "parent_session":
        st.spawned_by = st.spawned_by or _str(payload.get("parentSessionId"))
        return []
    if subtype in _INJECTED_SUBTYPES:
        text = _str(payload.get("displayText")) or _text_of(_parts(rec))
        return [Message("system", "injected", ts, text, line_no=line_no)]
    if subtype not in _SILENT_SUBTYPES:
        result.unknown_types[f"system:{subtype}"] += 1
    return []


def _record(st: _State, rec: dict, rtype: str, ts: datetime | None, line_no: int, result: FileParse) -> list[Message]:
    fork = rec.get("forkedFrom") if isinstance(rec.get("forkedFrom"), dict) else None
    copied = fork is not None
    if rtype == "user":
        out = _user(st, rec, ts, line_no, result)
    elif rtype == "assistant":
        out = _assistant(st, rec, ts, line_no, copied)
    elif rtype == "tool_result":
        out = _tool_result(rec, ts, line_no)
    elif rtype == "system":
        out = _system(st, rec, ts, line_no, copied, result)
    else:  # our envelope with a record type we do not know yet: format drift
        result.unknown_types[f"line:{rtype}"] += 1
        out = []
    st.command_result_at = ts if rtype == "system" and rec.get("subtype") == "slash_command" and \
        isinstance(rec.get("systemPayload"), dict) and rec["systemPayload"].get("phase") == "result" else None
    uuid = _str(rec.get("uuid"))
    origin = _str(fork.get("sessionId")) if fork else None
    if origin and st.fork_parent is None:
        st.fork_parent = origin
    for m in out:
        # /branch copies a record verbatim (uuid, timestamp, usage) into the new session
        m.dedup_key = f"u:{uuid}" if uuid else None
        if copied:
            m.inherited = True
            m.origin_session_id = canonical_id(SOURCE, origin) if origin else None
    return out


# --- the file -------------------------------------------------------------------------------


def _read_records(path: str, result: FileParse, st: _State) -> Iterator[tuple[int, dict, str | None]]:
    """(line_no, record, type) of the file's own records, each uuid once. Counts the rest into
    ``result``; on a first recognisable line of another source, rejects the file and stops."""
    seen: set[str] = set()
    for line_no, line in own_lines(path, result, SOURCE, st.lines):
        uuid = _str(line.get("uuid"))
        if uuid is not None:
            if uuid in seen:
                result.lines_duplicate += 1
                continue
            seen.add(uuid)
        yield line_no, line, line.get("type") if isinstance(line.get("type"), str) else None
        line = None  # not held while the next line is read


def _has_events(path: str) -> bool:
    """Whether the file holds an api_response event anywhere (streaming must know before the
    first record's usage leaves). A byte search; only lines that mention one are decoded."""
    with open_regular(path) as fh:
        for raw in fh:
            if b"api_response" not in raw:
                continue
            try:
                line = orjson.loads(raw.removeprefix(BOM))
            except orjson.JSONDecodeError:
                continue
            payload = line.get("systemPayload") if isinstance(line, dict) else None
            event = payload.get("uiEvent") if isinstance(payload, dict) else None
            if isinstance(event, dict) and str(event.get("event.name", "")).endswith("api_response"):
                return True
    return False


FLUSH_EVERY = 5000  # messages held before the finished ones go to the sink


def _flush(st: _State, sink: MessageSink, everything: bool = False) -> None:
    """Hand the sink every message before the first event an assistant record may still claim."""
    cut = len(st.messages)
    if st.pending and not everything:
        first = st.pending[0].message
        cut = next(i for i, m in enumerate(st.messages) if m is first)
    batch, st.messages = st.messages[:cut], st.messages[cut:]
    if batch:
        sink(canonical_id(SOURCE, st.session_id), batch)
        st.streamed += len(batch)


def parse_file(path: str, sink: MessageSink | None = None) -> FileParse:
    """Parse one chat or sub-agent transcript. With a sink, finished messages go to it in
    batches while the file is read (after a byte search for telemetry), in bounded memory."""
    result = FileParse(SOURCE, path)
    st = _State(path, None if sink is None else not _has_events(path))
    for line_no, rec, rtype in _read_records(path, result, st):
        result.lines_ok += 1
        ts = parse_timestamp(rec.get("timestamp"))
        st.span.add(ts)
        st.cwd = st.cwd or _str(rec.get("cwd"))
        st.git_branch = st.git_branch or _str(rec.get("gitBranch"))
        st.version = _str(rec.get("version")) or st.version  # a resumed file: the release that wrote last
        st.sidechain_lines += rec.get("isSidechain") is True
        st.messages.extend(_record(st, rec, rtype, ts, line_no, result))
        if sink is not None and len(st.messages) >= FLUSH_EVERY:
            _flush(st, sink)
        rec = None
    if result.rejection:
        return result
    if rejected_without_own_lines(result, st.lines, "Qwen Code record"):
        return result
    if st.counts_records is None and st.events:
        # the records' usage counts only in a file without events
        for m in st.record_calls:
            _clear_usage(m)
        dropped = {id(m) for m in st.record_calls if m.kind == "usage"}
        st.messages = [m for m in st.messages if id(m) not in dropped]
    if sink is not None:
        _flush(st, sink, everything=True)
    result.sessions.append(_session(st, path))
    return result


def _session(st: _State, path: str) -> Session:
    if st.is_subagent:
        parent, relation = canonical_id(SOURCE, Path(path).parent.name), "subagent"
    elif st.fork_parent:
        parent, relation = canonical_id(SOURCE, st.fork_parent), "fork"
    elif st.spawned_by:
        parent, relation = canonical_id(SOURCE, st.spawned_by), "subagent"
    else:
        parent, relation = None, None
    return Session(
        SOURCE, st.session_id, path, messages=st.messages, streamed_messages=st.streamed,
        parent_session_id=parent, relation=relation,
        is_sidechain=st.is_subagent or st.sidechain_lines == st.lines.own,
        cli_version=st.version, cwd=st.cwd, git_branch=st.git_branch,
        started_at=st.span.first, ended_at=st.span.last,
    )
