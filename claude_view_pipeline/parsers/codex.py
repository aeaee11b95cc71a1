"""Codex CLI rollout parser (docs/parsing-rules.md): the current ``{timestamp,type,payload}``
envelope, the brief ``record_type`` format and the pre-envelope legacy format.

Tokens come from the thread's running ``total_token_usage``: each event contributes its
fieldwise increase over the previous total, so re-emitted or null ``token_count`` events
never double-count (ccusage #876, #1288).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, Mapping

import orjson

from ..discovery import SessionFile, walk_files
from ..source_spec import SourceSpec, dedupe, env_dir, home
from ..sources import Source, canonical_id
from .codex_models import default_model
from .base import (
    BOM,
    FileParse,
    Message,
    MessageSink,
    RateLimit,
    Session,
    TimeSpan,
    as_int,
    json_text,
    open_regular,
    parse_timestamp,
)
from .sniff import LineCounts, own_lines, rejected_without_own_lines, sniff_line

SOURCE = Source.CODEX

_UUID_TAIL = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")


def _roots(env: Mapping[str, str]) -> list[Path]:
    """The ``sessions`` date tree (``CODEX_SESSIONS_DIR``, else ``$CODEX_HOME/sessions``, else
    ``~/.codex/sessions``) and ``archived_sessions`` beside it (ccusage #1177)."""
    codex_home = env_dir(env, "CODEX_HOME")
    sessions = env_dir(env, "CODEX_SESSIONS_DIR") or (codex_home or home() / ".codex") / "sessions"
    archived = (codex_home / "archived_sessions") if codex_home else sessions.parent / "archived_sessions"
    return dedupe([sessions, archived])


def _roots_for_dir(sessions_dir: Path) -> list[Path]:
    """An explicit sessions directory: the tree itself and its sibling archive."""
    return dedupe([sessions_dir, sessions_dir.parent / "archived_sessions"])


def _id_from_path(path: str) -> str:
    stem = Path(path).stem
    m = _UUID_TAIL.search(stem)
    return m.group(1) if m else stem


SPEC = SourceSpec(
    name="codex", label="Codex CLI", roots=_roots, roots_for_dir=_roots_for_dir, settings=("CODEX_SESSIONS_DIR", "CODEX_HOME"),
    provider="openai", reports_reasoning=True, colour="#4a6ee0", id_from_path=_id_from_path,
)

_ENVELOPE_TYPES = frozenset({"session_meta", "response_item", "compacted", "turn_context", "event_msg"})
_LEGACY_ITEM_TYPES = frozenset({
    "message", "reasoning", "function_call", "function_call_output", "custom_tool_call",
    "custom_tool_call_output", "local_shell_call", "web_search_call",
})


def looks_like(line: dict) -> bool:
    """A Codex line: the ``{timestamp, type, payload}`` envelope (types newer than we know
    included), the brief ``record_type`` format, or the legacy bare items and first line."""
    t = line.get("type")
    if "payload" in line and "timestamp" in line and isinstance(t, str):
        return True
    if "record_type" in line or (isinstance(t, str) and t in _LEGACY_ITEM_TYPES):
        return True
    return t is None and "id" in line and "timestamp" in line  # legacy bare SessionMeta first line


def find_files(root: Path) -> Iterator[SessionFile]:
    """``rollout-*.jsonl`` only (``$CODEX_HOME/history.jsonl`` is not a session), in the date
    tree or flat (the oldest builds); under ``archived_sessions/`` they are archived."""
    kind = "archived" if root.name == "archived_sessions" else "main"
    for path, st in walk_files(root, lambda dirpath, name: name.startswith("rollout-") and name.endswith(".jsonl")):
        yield SessionFile(SOURCE, path, st.st_size, st.st_mtime_ns, kind)

# User text Codex injects itself (environment context, AGENTS.md instructions): context, not a prompt.
INJECTED_PREFIXES = (
    "<environment_context>",
    "<user_instructions>",
    "# AGENTS.md",
    "<INSTRUCTIONS>",
    "<skill>",
    "<turn_aborted>",
    "<subagent_notification>",
)

# response_item payload type -> tool name for tool calls that are not plain functions
_TOOL_CALL_TYPES = {
    "function_call": None,  # name from payload
    "custom_tool_call": None,
    "local_shell_call": "local_shell",
    "web_search_call": "web_search",
    "image_generation_call": "image_generation",
    "tool_search_call": "tool_search",
}
_TOOL_OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output", "tool_search_output", "local_shell_call_output"})
_SILENT_ITEM_TYPES = frozenset({"ghost_snapshot", "compaction", "agent_message"})

# event_msg payload types we know and that add no message of their own
_MIRROR_EVENTS = frozenset({"agent_message", "agent_reasoning", "agent_reasoning_raw_content", "agent_reasoning_section_break"})
_KNOWN_SILENT_EVENTS = frozenset({
    "task_started", "task_complete", "turn_started", "turn_complete", "exec_command_end",
    "patch_apply_end", "mcp_tool_call_end", "web_search_end", "entered_review_mode",
    "exited_review_mode", "undo_started", "undo_completed", "error", "stream_error",
    "item_completed", "item_started", "image_generation_end", "view_image_tool_call",
    "thread_name_updated", "thread_settings_applied", "thread_goal_updated", "plan_update",
    "background_event", "warning", "guardian_assessment", "collab_agent_spawn_end",
    "collab_agent_interaction_end", "collab_waiting_end", "collab_close_end",
    "sub_agent_activity", "dynamic_tool_call_request", "dynamic_tool_call_response",
    "shutdown_complete", "list_custom_prompts_response", "get_history_entry_response",
    "mcp_list_tools_response", "session_configured", "raw_response_item",
})
_KNOWN_SILENT_LINES = frozenset({"world_state", "inter_agent_communication_metadata"})
_TOKEN_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict):
                t = part.get("text")
                if isinstance(t, str):
                    parts.append(t)
            elif isinstance(part, str):
                parts.append(part)
    return "\n".join(parts)


def _output_text(output: object) -> str | None:
    if output is None:
        return None
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return _content_text(output) or None
    if isinstance(output, dict):
        inner = output.get("output") or output.get("content")
        return _output_text(inner) if inner is not None else None
    return str(output)


def _is_injected(text: str) -> bool:
    return text.lstrip().startswith(INJECTED_PREFIXES)


def _usage(obj: object) -> dict[str, int] | None:
    if not isinstance(obj, dict):
        return None
    return {f: as_int(obj.get(f)) for f in _TOKEN_FIELDS}


class _State:
    """Per-file parse state."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.meta: dict | None = None
        self.meta_id: str | None = None
        self.model: str | None = None
        # the first model the file names: a call reported before it ran on it (a rollout
        # that never names one ran on its release's default)
        self.first_model: str | None = None
        self.model_provider: str | None = None  # session_meta.model_provider, as written
        self.first_turn_cwd: str | None = None
        self.prev_total: dict[str, int] | None = None
        self.pending_output: Message | None = None  # latest model output not yet given usage
        self.user_events = 0
        self.item_prompts: list[Message] = []
        self.streamed = 0  # messages already handed to a sink
        self.lines = LineCounts()
        # a fork/spawned child replays its parent's history after its own session_meta;
        # while replaying, messages are inherited and token totals only set the baseline
        self.meta_ts: datetime | None = None
        self.is_child = False
        self.replay_seen = False
        self.replaying = False
        self.replay_until: datetime | None = None
        self.rate_limits: list[RateLimit] = []


def _add(st: _State, m: Message, output: str | None = None) -> Message:
    """Append a message; ``output`` marks a model output that a following token_count's
    usage may attach to ("first" output since the last call, or "prefer" an answer)."""
    m.inherited = st.replaying
    st.messages.append(m)
    if output and not st.replaying and (output == "prefer" or st.pending_output is None):
        st.pending_output = m
    return m


def _reported_model(payload: dict, info: dict) -> str | None:
    """The model a token_count event names itself (newer builds: ``info.model``; also seen on
    the payload, as ``model_name`` or in ``metadata``): the call's own, over the turn's."""
    for holder in (info, payload):
        for value in (holder.get("model"), holder.get("model_name"),
                      holder.get("metadata", {}).get("model") if isinstance(holder.get("metadata"), dict) else None):
            if isinstance(value, str) and value:
                return value
    return None


def _record_usage(st: _State, delta: dict[str, int], ts, line_no: int, key: str, model: str | None = None) -> None:
    if delta["input_tokens"] == 0 and delta["output_tokens"] == 0:
        return  # a re-emit, or fill_to_context_window noise: not an API call
    cached = min(delta["cached_input_tokens"], delta["input_tokens"])
    target = st.pending_output
    if target is None:
        # usage for a model call whose content the log did not keep
        target = _add(st, Message("assistant", "usage", ts, line_no=line_no))
    st.pending_output = None
    target.api_call = True
    target.dedup_key = key
    target.usage_at = ts
    target.model = model or st.model
    target.input_tokens = delta["input_tokens"] - cached
    target.cache_read_tokens = cached
    target.cache_creation_tokens = target.cache_creation_5m_tokens = target.cache_creation_1h_tokens = 0
    target.model_provider = st.model_provider
    target.output_tokens = delta["output_tokens"]
    target.reasoning_tokens = delta["reasoning_output_tokens"]


def _rate_limits(value: object, ts: datetime | None, line_no: int) -> list[RateLimit]:
    """The windows of a token_count's ``rate_limits`` in either shape Codex has written:
    nested (``primary: {used_percent, window_minutes, resets_at | reset_at |
    resets_in_seconds}``, ``secondary``) or flat (``primary_used_percent``,
    ``primary_window_minutes``, ...). A window without a used percent (null, redacted) is
    skipped; a window of 0 minutes is an unknown length."""
    if not isinstance(value, dict) or ts is None:
        return []
    out = []
    for window in ("primary", "secondary"):
        w = value.get(window)
        if isinstance(w, dict):
            used, minutes = w.get("used_percent"), w.get("window_minutes")
            resets = w.get("resets_at", w.get("reset_at"))
            in_seconds = w.get("resets_in_seconds")
        else:
            used, minutes, resets, in_seconds = value.get(f"{window}_used_percent"), value.get(f"{window}_window_minutes"), None, None
        if not _number(used):
            continue
        if _number(resets) and resets > 0:
            reset_at = datetime.fromtimestamp(resets, timezone.utc)
        elif _number(in_seconds) and in_seconds > 0:
            reset_at = ts + timedelta(seconds=in_seconds)
        else:
            reset_at = None
        out.append(RateLimit(ts, window, float(used), int(minutes) if _number(minutes) and minutes > 0 else None, reset_at, line_no))
    return out


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _token_count(st: _State, payload: dict, ts, raw_ts: object, line_no: int) -> None:
    if not st.replaying:  # a fork's copy of its parent's history is the parent's
        st.rate_limits.extend(_rate_limits(payload.get("rate_limits"), ts, line_no))
    info = payload.get("info")
    if not isinstance(info, dict):
        return  # info: null carries rate limits only
    total = _usage(info.get("total_token_usage"))
    last = _usage(info.get("last_token_usage"))
    # the same event copied into another file (a branch replaying its parent) has the same
    # timestamp and running total: the index counts it once (docs/parsing-rules.md)
    vector = total or last or {}
    key = f"tc:{raw_ts}:" + ",".join(str(vector.get(f, 0)) for f in _TOKEN_FIELDS)
    if total is None:
        if last is None:
            return
        # a call reported by its own usage only (no running total, or a null one): it moves
        # the running total on as well, so the next event that carries totals again adds
        # only what came after it, whichever shape came first
        prev = st.prev_total
        st.prev_total = dict(last) if prev is None else {f: prev[f] + last[f] for f in _TOKEN_FIELDS}
        if not st.replaying:
            _record_usage(st, last, ts, line_no, key, _reported_model(payload, info))
        return
    if st.replaying:
        st.prev_total = total  # the parent's history: baseline only
        return
    prev = st.prev_total
    if prev is None:
        delta = total
    else:
        delta = {f: total[f] - prev[f] for f in _TOKEN_FIELDS}
        if any(v < 0 for v in delta.values()):
            # the running total fell (a new baseline): this call is `last`, if given
            delta = last if last is not None else {f: 0 for f in _TOKEN_FIELDS}
    st.prev_total = total
    _record_usage(st, delta, ts, line_no, key, _reported_model(payload, info))


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _response_item(st: _State, item: dict, ts, line_no: int, result: FileParse) -> None:
    ptype = _text_or_none(item.get("type"))
    if ptype == "message":
        role = item.get("role")
        text = _content_text(item.get("content"))
        if role == "user":
            if _is_injected(text):
                _add(st, Message("system", "injected", ts, text, line_no=line_no))
            else:
                st.item_prompts.append(_add(st, Message("user", "prompt", ts, text or None, line_no=line_no)))
        elif role == "assistant":
            # the usage of the call that wrote it is best attached to the answer itself
            _add(st, Message("assistant", "text", ts, text or None, line_no=line_no), output="prefer")
        else:  # developer / system instructions
            _add(st, Message("system", "instructions", ts, text or None, line_no=line_no))
    elif ptype == "reasoning":
        summary = item.get("summary")
        text = _content_text(summary) if isinstance(summary, list) else None
        _add(st, Message("reasoning", "reasoning", ts, text or None, line_no=line_no), output="first")
    elif ptype in _TOOL_CALL_TYPES:
        name = _TOOL_CALL_TYPES[ptype] or (item.get("name") if isinstance(item.get("name"), str) else None)
        if ptype == "function_call":
            body = item.get("arguments")
        elif ptype == "custom_tool_call":
            body = item.get("input")
        else:
            body = item.get("action")
        call_id = item.get("call_id") or item.get("id")
        m = Message(
            "tool_use",
            ptype,
            ts,
            json_text(body),
            tool_name=name,
            call_id=call_id if isinstance(call_id, str) else None,
            line_no=line_no,
        )
        _add(st, m, output="first")
    elif ptype in _TOOL_OUTPUT_TYPES:
        call_id = item.get("call_id")
        _add(
            st,
            Message(
                "tool_result",
                ptype,
                ts,
                _output_text(item.get("output")),
                call_id=call_id if isinstance(call_id, str) else None,
                line_no=line_no,
            )
        )
    elif ptype in _SILENT_ITEM_TYPES:
        pass
    else:
        result.unknown_types[f"response_item:{ptype}"] += 1


def _event(st: _State, payload: dict, ts, raw_ts: object, line_no: int, result: FileParse) -> None:
    etype = _text_or_none(payload.get("type"))
    if etype == "token_count":
        _token_count(st, payload, ts, raw_ts, line_no)
    elif etype == "account/rateLimits/updated":  # the windows alone, between calls
        if not st.replaying:
            st.rate_limits.extend(_rate_limits(payload.get("rate_limits"), ts, line_no))
    elif etype == "user_message":
        st.user_events += 1
        text = payload.get("message") if isinstance(payload.get("message"), str) else ""
        if _is_injected(text):
            _add(st, Message("system", "injected", ts, text, line_no=line_no))
        else:
            _add(st, Message("user", "prompt", ts, text or None, line_no=line_no))
    elif etype == "turn_aborted":
        reason = payload.get("reason")
        _add(st, Message("system", "turn_aborted", ts, reason if isinstance(reason, str) else None, line_no=line_no))
    elif etype == "context_compacted":
        _add(st, Message("system", "context_compacted", ts, line_no=line_no))
    elif etype == "thread_rolled_back":
        _add(st, Message("system", "thread_rolled_back", ts, json_text(payload.get("num_turns")), line_no=line_no))
    elif etype in _MIRROR_EVENTS or etype in _KNOWN_SILENT_EVENTS:
        pass
    else:
        result.unknown_types[f"event_msg:{etype}"] += 1


def _session_meta(st: _State, meta: dict, ts: datetime | None) -> None:
    if st.meta is None:  # the first session_meta in a file is canonical (a resumed or forked rollout repeats others after it)
        st.meta = meta
        st.meta_ts = ts
        if isinstance(meta.get("id"), str) and meta["id"]:
            st.meta_id = meta["id"]
        if isinstance(meta.get("model_provider"), str) and meta["model_provider"]:
            st.model_provider = meta["model_provider"]
        st.is_child = _lineage(meta)[0] is not None
        return
    other = meta.get("id")
    if st.is_child and not st.replay_seen and isinstance(other, str) and other != st.meta_id:
        # A fork/spawn embeds its parent's session_meta, then replays the parent's history
        # in one burst at creation time, with rewritten (or the original, older)
        # timestamps (ccusage #1349, #1370). The replay is what follows, up to the end of
        # the second the burst started in.
        st.replay_seen = st.replaying = True
        anchors = [t for t in (st.meta_ts, ts) if t is not None]
        st.replay_until = max(anchors).replace(microsecond=0) + timedelta(seconds=1) if anchors else None


def _envelope(line: dict) -> tuple[str | None, dict | None]:
    """(line type, payload) of a Codex line in any of its formats; (None, None) for the brief
    format's bookkeeping lines, which carry nothing."""
    if "payload" in line:
        return _text_or_none(line.get("type")), (line["payload"] if isinstance(line["payload"], dict) else {})
    if "record_type" in line:  # brief format (b): flattened, tagged by record_type
        rt = _text_or_none(line.get("record_type"))
        if rt in ("state", "prev_session_meta"):
            return None, None
        return {"response": "response_item", "event": "event_msg", "session_meta": "session_meta"}.get(rt, rt), line
    if line.get("type") is None:  # legacy bare SessionMeta first line
        return "session_meta", line
    return "response_item", line  # legacy bare ResponseItem


def _prescan(path: str) -> tuple[bool, str | None]:
    """What streaming must know before the first message leaves: whether the file holds a
    user_message event anywhere (then the response_item copies of prompts are mirrors), and
    the first model it names. A byte search; only lines that mention either are decoded."""
    has_user_messages, first_model = False, None
    with open_regular(path) as fh:
        for raw in fh:
            wanted = (not has_user_messages and b"user_message" in raw) or (first_model is None and b"turn_context" in raw)
            if not wanted:
                continue
            try:
                line = orjson.loads(raw.removeprefix(BOM))
            except orjson.JSONDecodeError:
                continue
            if isinstance(line, dict) and sniff_line(line) is SOURCE:
                ltype, payload = _envelope(line)
                if ltype == "event_msg" and payload.get("type") == "user_message":
                    has_user_messages = True
                elif ltype == "turn_context" and first_model is None and isinstance(payload.get("model"), str) and payload["model"]:
                    first_model = payload["model"]
            if has_user_messages and first_model is not None:
                break
    return has_user_messages, first_model


def _settle_models(st: _State, messages: list[Message]) -> None:
    """A call reported before the file named a model ran on the first model it names; in a
    rollout that never names one (Codex 0.34), on its release's default. Either is assumed."""
    for m in messages:
        if m.api_call and m.model is None:
            meta = st.meta or {}
            version = meta.get("cli_version") if isinstance(meta.get("cli_version"), str) else None
            m.model = st.first_model or default_model(version, m.usage_at or st.meta_ts)
            m.model_assumed = True


FLUSH_EVERY = 5000  # messages held before a batch goes to the sink


def _flush(st: _State, sink: MessageSink, session_id: str, mirrors_dropped: bool, everything: bool = False) -> None:
    """Hand the sink every message that can no longer change: all of them but the pending
    model output (a later token_count may still attach its usage) and what follows it."""
    cut = len(st.messages)
    if st.pending_output is not None and not everything:
        cut = next((i for i in range(len(st.messages) - 1, -1, -1) if st.messages[i] is st.pending_output), cut)
    batch, st.messages = st.messages[:cut], st.messages[cut:]
    _settle_models(st, batch)
    if mirrors_dropped and st.item_prompts:
        drop = {id(m) for m in st.item_prompts}
        batch = [m for m in batch if id(m) not in drop]
        kept = {id(m) for m in st.messages}
        st.item_prompts = [m for m in st.item_prompts if id(m) in kept]
    if batch:
        sink(session_id, batch)
        st.streamed += len(batch)


def parse_file(path: str, sink: MessageSink | None = None) -> FileParse:
    """Parse one rollout. With a sink, finished messages go to it in batches while the file is
    read, so a file of any size is parsed in bounded memory; the session returned then holds
    only the messages' count (``streamed_messages``)."""
    result = FileParse(SOURCE, path)
    st = _State()
    span = TimeSpan()
    compacted_lines = 0
    # streaming cannot wait for the end of the file to learn whether prompts have mirrors,
    # or which model a call before the first turn_context ran on
    mirrors_dropped = False
    if sink is not None:
        mirrors_dropped, st.first_model = _prescan(path)

    for line_no, line in own_lines(path, result, SOURCE, st.lines):
        result.lines_ok += 1
        ts = parse_timestamp(line.get("timestamp"))
        span.add(ts)
        if st.replaying and ts is not None and (st.replay_until is None or ts >= st.replay_until):
            st.replaying = False  # the child's own history starts here
            st.pending_output = None

        ltype, payload = _envelope(line)
        if ltype is None:
            continue
        if sink is not None and st.meta is not None and len(st.messages) >= FLUSH_EVERY:
            # the session's id is settled once its first session_meta was read
            _flush(st, sink, canonical_id(SOURCE, st.meta_id or _id_from_path(path)), mirrors_dropped)

        if ltype == "session_meta":
            _session_meta(st, payload.get("meta") if isinstance(payload.get("meta"), dict) else payload, ts)
        elif ltype == "turn_context":
            if isinstance(payload.get("model"), str) and payload["model"]:
                st.model = payload["model"]
                st.first_model = st.first_model or st.model
            if st.first_turn_cwd is None and isinstance(payload.get("cwd"), str):
                st.first_turn_cwd = payload["cwd"]
        elif ltype == "response_item":
            _response_item(st, payload, ts, line_no, result)
        elif ltype == "event_msg":
            _event(st, payload, ts, line.get("timestamp"), line_no, result)
        elif ltype == "compacted":
            compacted_lines += 1
            # replacement_history is the compacted past, never new messages
            msg = payload.get("message")
            _add(st, Message("system", "compacted", ts, msg if isinstance(msg, str) else None, line_no=line_no))
        elif ltype in _KNOWN_SILENT_LINES:
            pass
        else:
            result.unknown_types[f"line:{ltype}"] += 1
        line = payload = None  # not held while the next line is read (a long line's text)

    if rejected_without_own_lines(result, st.lines, "Codex line"):
        return result

    if st.user_events:
        # user_message events are the prompts; the response_item copies mirror them
        drop = {id(m) for m in st.item_prompts}
        st.messages = [m for m in st.messages if id(m) not in drop]

    meta = st.meta or {}
    source_session_id = st.meta_id or _id_from_path(path)
    _settle_models(st, st.messages)
    if sink is not None:
        _flush(st, sink, canonical_id(SOURCE, source_session_id), mirrors_dropped, everything=True)
    parent, relation = _lineage(meta)
    git = meta.get("git") if isinstance(meta.get("git"), dict) else {}
    src_field = meta.get("source")
    originator = meta.get("originator") if isinstance(meta.get("originator"), str) else ""
    session = Session(
        SOURCE,
        source_session_id,
        path,
        messages=st.messages,
        streamed_messages=st.streamed,
        parent_session_id=parent,
        relation=relation,
        is_sidechain=relation == "subagent",
        is_headless=originator == "codex_exec" or src_field == "exec",
        cli_version=meta.get("cli_version") if isinstance(meta.get("cli_version"), str) else None,
        cwd=(meta.get("cwd") if isinstance(meta.get("cwd"), str) and meta.get("cwd") else None) or st.first_turn_cwd,
        git_branch=git.get("branch") if isinstance(git.get("branch"), str) else None,
        git_repository_url=git.get("repository_url") if isinstance(git.get("repository_url"), str) else None,
        rate_limits=st.rate_limits,
        started_at=span.first,
        ended_at=span.last,
    )
    result.sessions.append(session)
    return result


def _lineage(meta: dict) -> tuple[str | None, str | None]:
    forked = meta.get("forked_from_id")
    if isinstance(forked, str) and forked:
        return canonical_id(SOURCE, forked), "fork"
    src = meta.get("source")
    if isinstance(src, dict) and isinstance(src.get("subagent"), dict):
        spawn = src["subagent"].get("thread_spawn")
        if isinstance(spawn, dict) and isinstance(spawn.get("parent_thread_id"), str) and spawn["parent_thread_id"]:
            return canonical_id(SOURCE, spawn["parent_thread_id"]), "subagent"
    return None, None
