"""GitHub Copilot CLI sessions (docs/parsing-rules.md, "GitHub Copilot CLI").

One session is one append-only event log, ``session-state/<id>/events.jsonl`` (0.0.382 on) or
the older flat ``session-state/<id>.jsonl``: lines ``{type, data, id, timestamp, parentId}``.
Each process lifetime that works on the session ("leg") begins with ``session.start`` or
``session.resume`` and, when it exits cleanly, ends with a ``session.shutdown`` holding its
token usage per model; copilot_usage.py turns that into the usage of the leg's calls.
"""

from __future__ import annotations

import os
import re
import stat
from datetime import datetime
from pathlib import Path
from typing import Iterator, Mapping

import orjson

from ..discovery import SessionFile
from ..paths import text_path
from ..source_spec import SourceSpec, dedupe, env_dir, home
from ..sources import Source, canonical_id
from .base import (
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
from .copilot_usage import Call, Shutdown, apply_leg_usage, leg_usage, mark_unknown_input, read_model_metrics, settle_models
from .sniff import LineCounts, own_lines, rejected_without_own_lines

SOURCE = Source.COPILOT
EVENTS_FILE = "events.jsonl"
WORKSPACE_FILE = "workspace.yaml"


def _roots(env: Mapping[str, str]) -> list[Path]:
    """``session-state/`` of ``COPILOT_HOME`` (else ``~/.copilot``), and of
    ``$XDG_STATE_HOME/.copilot`` where releases before 1.0 kept their state."""
    base = env_dir(env, "COPILOT_HOME") or home() / ".copilot"
    xdg = env_dir(env, "XDG_STATE_HOME")
    return dedupe([base / "session-state", *([xdg / ".copilot" / "session-state"] if xdg else [])])


def _id_from_path(path: str) -> str:
    """``<id>/events.jsonl`` is named by its directory, a flat ``<id>.jsonl`` by its stem."""
    p = Path(path)
    return p.parent.name if p.name == EVENTS_FILE else p.stem


SPEC = SourceSpec(
    name="copilot", label="GitHub Copilot CLI", roots=_roots, settings=("COPILOT_HOME", "XDG_STATE_HOME"),
    provider="github-copilot", reports_reasoning=True, colour="#6e7681", corpus_dir="session-state",
    id_from_path=_id_from_path,
)

# the families of event types Copilot writes: ``session.start``, ``tool.execution_complete``, ...
_EVENT_TYPE = re.compile(r"[a-z_]+(\.[A-Za-z_]+)+")


def looks_like(line: dict) -> bool:
    """A Copilot event: a dotted ``type`` (or ``abort``) and a ``data`` object, none of the keys
    Claude (``uuid``, ``sessionId``) or Codex (``payload``) lines have."""
    t = line.get("type")
    return (isinstance(t, str) and isinstance(line.get("data"), dict) and (t == "abort" or _EVENT_TYPE.fullmatch(t) is not None)
            and not any(k in line for k in ("uuid", "sessionId", "payload")))


def find_files(root: Path) -> Iterator[SessionFile]:
    """``<id>/events.jsonl`` (kind main) and flat ``<id>.jsonl`` (kind archived: releases from
    0.0.382 move a flat log into a directory on their next write, so where both exist the
    directory's copy is the superset and wins the session id). Only these two levels are
    looked at: a session directory also holds checkpoints, file backups and rewind snapshots.
    The parser may read ``workspace.yaml`` beside ``events.jsonl``, so it is in the fingerprint."""
    try:
        with os.scandir(root) as it:
            entries = list(it)
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                events = _regular_stat(os.path.join(entry.path, EVENTS_FILE))
                if events is None:
                    continue  # a session closed before its first message: nothing to count
                workspace = _regular_stat(os.path.join(entry.path, WORKSPACE_FILE))
                size, mtime = events.st_size, events.st_mtime_ns
                if workspace is not None:
                    size, mtime = size + workspace.st_size, max(mtime, workspace.st_mtime_ns)
                yield SessionFile(SOURCE, text_path(os.path.join(entry.path, EVENTS_FILE)), size, mtime, "main")
            elif entry.name.endswith(".jsonl"):
                flat = _regular_stat(entry.path)
                if flat is not None:
                    yield SessionFile(SOURCE, text_path(entry.path), flat.st_size, flat.st_mtime_ns, "archived")
        except OSError:
            continue


def _regular_stat(path: str) -> os.stat_result | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def _workspace(events_path: str) -> dict[str, str]:
    """The top-level ``key: value`` scalars of the session's ``workspace.yaml`` (a flat mapping
    the CLI writes: id, cwd, git_root, repository, branch, summary, ...)."""
    try:
        with open_regular(os.path.join(os.path.dirname(events_path), WORKSPACE_FILE)) as fh:
            text = fh.read(1 << 20).decode("utf-8", "replace")
    except OSError:
        return {}
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep or not key or key[0] in " \t#-":
            continue
        value = value.strip()
        if value[:1] == '"':
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                value = value.strip('"')
        elif value[:1] == "'":
            value = value[1:-1].replace("''", "'")
        if isinstance(value, str) and value and value[0] not in "|>":
            out[key.strip()] = value
    return out


# Event types we read and that add no message of their own (written by releases 0.0.354 to 1.0.102).
_SILENT_TYPES = frozenset({
    "session.remote_steerable_changed", "session.error", "session.schedule_created", "session.schedule_cancelled",
    "session.schedule_rearmed", "session.autopilot_objective_changed", "session.info", "session.warning",
    "session.model_deselected", "session.mode_changed", "session.mode_notice_delivered", "session.session_limits_changed",
    "session.permissions_changed", "session.plan_changed", "session.workspace_file_changed", "session.handoff",
    "session.truncation", "session.usage_checkpoint", "session.usage_record", "session.fusion_change_checkpoint",
    "session.request_body_compression_disabled", "session.context_cleared", "session.compaction_start",
    "session.task_complete", "session.completion_receipt", "session.fusion_route_failed", "session.fusion_resolved",
    "session.fusion_handoff", "session.fusion_commit_started", "session.fusion_completed", "session.permission_recovery",
    "session.binary_asset", "session.auto_mode_resolved", "session.canvas.recorded", "session.canvas.removed",
    "session.import_legacy", "session.snapshot_rewind", "session.idle", "session.title_changed", "session.usage_info",
    "assistant.turn_start", "assistant.turn_end", "assistant.fusion_phase_completed", "assistant.fusion_phase_failed",
    # the reasoning of a call is kept from its message's reasoningText
    "assistant.reasoning", "assistant.intent",
    "tool_search.activated", "skill.invoked", "skill.invoked_ref", "skill.context_delivered", "skill.context_delivered_ref",
    "subagent.configured", "subagent.failed", "subagent.selected", "subagent.deselected", "hook.start", "hook.end",
    "permission.requested", "permission.completed", "permission.carriedForward", "permission.messageAuthorization",
    "permission.messageAuthorizationRead", "permission.messageAuthorizationDegraded", "permission.assentDetected",
    "permission.contextualAuthorization", "mcp.oauth_recovery_completed", "external_tool.requested", "human_response.recorded",
})

# what Copilot appends to a prompt in its flat logs (not typed)
_DATETIME_SUFFIX = re.compile(r"\s*<current_datetime>[^<]*</current_datetime>\s*$")
_SLASH_COMMAND = re.compile(r"/[A-Za-z][\w:.-]*(\s|$)")
# the first release whose shutdowns are running totals over a resumed session
_CUMULATIVE_FROM = (1, 0, 66)
FLUSH_EVERY = 5000  # finished messages held before a batch goes to the sink


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _version(text: str | None) -> tuple[int, ...] | None:
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", text or "")
    return tuple(int(p) for p in m.groups()) if m else None


class _Leg:
    """One process lifetime's messages and calls, held until its usage is known."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.calls: list[Call] = []
        self.calls_by_api_id: dict[str, Call] = {}
        self.metrics: dict | None = None  # its shutdown's modelMetrics, read
        self.shutdown: Shutdown | None = None
        self.shutdown_at = 0  # index in messages where the shutdown was written


class _State:
    def __init__(self) -> None:
        self.session_id: str | None = None
        self.cli_version: str | None = None
        self.created_by: tuple[int, ...] | None = None
        self.context: dict[str, str] = {}  # cwd, branch, repository, host: first seen
        self.model: str | None = None  # the main agent's model as last seen
        self.tool_models: dict[str, str] = {}  # toolCallId -> the model that asked for it
        self.subagent_models: dict[str, str] = {}  # a sub-agent's toolCallId -> its model
        self.previous_metrics: dict | None = None  # the last shutdown's modelMetrics
        self.leg = _Leg()
        self.done: list[Message] = []  # messages of finished legs
        self.streamed = 0
        self.lines = LineCounts()


def _finish_leg(st: _State) -> None:
    """Settle the current leg's models and usage, and start a new leg."""
    leg, st.leg = st.leg, _Leg()
    settle_models(leg.calls, st.tool_models, st.subagent_models)
    if leg.shutdown is not None:
        # a shutdown with no usage ({} when the model failed before any call) accounts for nothing
        outputs = [c.output for c in leg.calls]
        output = None if None in outputs else sum(outputs)
        cumulative_release = st.created_by is not None and st.created_by >= _CUMULATIVE_FROM
        usage = leg_usage(leg.metrics or {}, st.previous_metrics, len(leg.calls), output, cumulative_release)
        st.previous_metrics = leg.metrics
        if usage:
            added = apply_leg_usage(leg.calls, usage, leg.shutdown)
            leg.messages[leg.shutdown_at:leg.shutdown_at] = added
        else:
            mark_unknown_input(leg.calls)
    else:
        mark_unknown_input(leg.calls)
    carriers = {id(c.message) for c in leg.calls}
    # a call with no content whose tokens are unknown leaves no message behind
    st.done += [m for m in leg.messages if m.api_call or m.kind != "usage" or id(m) not in carriers]


def _note_context(st: _State, context: object) -> None:
    if isinstance(context, dict):
        for key in ("cwd", "branch", "repository", "repositoryHost", "gitRoot"):
            value = _text(context.get(key))
            if value:
                st.context.setdefault(key, value)


def _start(st: _State, data: dict, etype: str) -> None:
    if st.leg.messages or st.leg.calls or st.leg.shutdown is not None:
        _finish_leg(st)
    if etype == "session.start":
        if st.session_id is None:
            st.session_id = _text(data.get("sessionId"))
        version = _text(data.get("copilotVersion"))
        if st.cli_version is None and version and version != "unknown":
            st.cli_version = version
            st.created_by = _version(version)
    _note_context(st, data.get("context"))
    st.model = _text(data.get("selectedModel")) or st.model


def _user_message(st: _State, data: dict, ts, line_no: int, key: str) -> None:
    content = data.get("content") if isinstance(data.get("content"), str) else ""
    source = data.get("source") if isinstance(data.get("source"), str) else ""
    typed = _DATETIME_SUFFIX.sub("", content)
    if data.get("isAutopilotContinuation") is True or not typed.strip() or source.startswith("skill-"):
        # autopilot's "continue" nudges (an empty content, the text only in transformedContent)
        # and skills' hidden instructions: written by Copilot, not a person
        role, kind, text = "system", "injected", typed or _text(data.get("transformedContent"))
    elif source.startswith("agent-"):
        role, kind, text = "system", "agent_prompt", typed  # one agent prompting another
    else:
        role, kind, text = "user", "command" if _SLASH_COMMAND.match(typed) else "prompt", typed
    st.leg.messages.append(Message(role, kind, ts, text, line_no=line_no, dedup_key=key))


def _assistant_message(st: _State, data: dict, ts, line_no: int, key: str) -> None:
    if st.leg.shutdown is not None:
        _finish_leg(st)  # written after its leg's shutdown: a lifetime of its own
    parts: list[Message] = []
    reasoning = _text(data.get("reasoningText"))
    if reasoning:
        parts.append(Message("reasoning", "reasoning", ts, reasoning, line_no=line_no, dedup_key=f"{key}:reasoning"))
    content = data.get("content") if isinstance(data.get("content"), str) else ""
    text_part = Message("assistant", "text", ts, content, line_no=line_no, dedup_key=key) if content.strip() else None
    if text_part:
        parts.append(text_part)
    tool_ids = []
    requests = data.get("toolRequests")
    for request in requests if isinstance(requests, list) else ():
        if isinstance(request, dict):
            call_id = _text(request.get("toolCallId"))
            tool_ids.append(call_id)
            parts.append(Message("tool_use", "tool_request", ts, json_text(request.get("arguments")),
                                 tool_name=_text(request.get("name")), call_id=call_id, line_no=line_no,
                                 dedup_key=f"{key}:{call_id}"))
    st.leg.messages += parts
    output = data.get("outputTokens")
    output = as_int(output) if isinstance(output, (int, float)) and not isinstance(output, bool) else None
    api_call_id = _text(data.get("apiCallId"))
    if api_call_id and isinstance(data.get("chunkCount"), int) and api_call_id in st.leg.calls_by_api_id:
        # another chunk of a response split at reasoning boundaries (1.0.9x): the same call
        call = st.leg.calls_by_api_id[api_call_id]
        if output is not None:
            call.output = max(call.output or 0, output)
        return
    carrier = text_part or (parts[0] if parts else None)
    if carrier is None:  # a call that kept no content
        carrier = Message("assistant", "usage", ts, line_no=line_no, dedup_key=key)
        st.leg.messages.append(carrier)
    carrier.model_provider = _text(data.get("providerId"))
    subagent = _text(data.get("parentToolCallId"))
    named = _text(data.get("model"))
    if named and not subagent:
        st.model = named
    call = Call(carrier, output, named_model=named, fallback_model=st.model, subagent=subagent,
                tool_ids=tuple(t for t in tool_ids if t))
    st.leg.calls.append(call)
    if api_call_id:
        st.leg.calls_by_api_id[api_call_id] = call


def _tool_event(st: _State, etype: str, data: dict, ts, line_no: int, key: str) -> None:
    call_id = _text(data.get("toolCallId"))
    model = _text(data.get("model"))
    if call_id and model:
        st.tool_models.setdefault(call_id, model)
        if not data.get("parentToolCallId"):
            st.model = model  # the main agent's model, as its tool calls name it
    if etype == "tool.user_requested":  # a command the user ran (``!cmd``): no model asked for it
        st.leg.messages.append(Message("tool_use", "user_requested", ts, json_text(data.get("arguments")),
                                       tool_name=_text(data.get("toolName")), call_id=call_id, line_no=line_no, dedup_key=key))
    elif etype == "tool.execution_complete":
        result = data.get("result") if isinstance(data.get("result"), dict) else {}
        error = data.get("error")
        text = _text(result.get("content")) or _text(result.get("detailedContent"))
        if text is None and error is not None:
            text = _text(error.get("message")) if isinstance(error, dict) else json_text(error)
        st.leg.messages.append(Message("tool_result", "tool_result", ts, text, call_id=call_id,
                                       is_error=data.get("success") is False, line_no=line_no, dedup_key=key))


def _compaction(st: _State, data: dict, ts, line_no: int, key: str) -> None:
    """A compaction's summary call is in no shutdown: its tokens are on the event itself, named
    ``input/output/cachedInput`` by 1.0.10 and ``inputTokens/outputTokens/cacheReadTokens/
    cacheWriteTokens`` later (input includes the cached part, as everywhere in Copilot)."""
    if data.get("success") is not False:
        st.leg.messages.append(Message("system", "context_compacted", ts, line_no=line_no, dedup_key=key))
    used = data.get("compactionTokensUsed")
    if not isinstance(used, dict):
        return
    prompt = as_int(used.get("inputTokens", used.get("input")))
    cache_read = as_int(used.get("cacheReadTokens", used.get("cachedInput")))
    cache_write = as_int(used.get("cacheWriteTokens"))
    output = as_int(used.get("outputTokens", used.get("output")))
    if not (prompt or output):
        return
    m = Message("assistant", "compaction", ts, line_no=line_no, dedup_key=f"{key}:compaction")
    m.api_call, m.usage_at = True, ts
    m.model = _text(data.get("model")) or _text(used.get("model"))
    m.input_tokens = max(0, prompt - cache_read - cache_write)
    m.cache_read_tokens, m.output_tokens = cache_read, output
    m.cache_creation_tokens = m.cache_creation_5m_tokens = cache_write
    m.cache_creation_1h_tokens = 0
    st.leg.messages.append(m)


def _shutdown(st: _State, data: dict, ts, line_no: int, key: str) -> None:
    if st.leg.shutdown is not None:
        _finish_leg(st)  # a second shutdown with no resume between: a lifetime of its own
    st.leg.metrics = read_model_metrics(data.get("modelMetrics"))
    st.leg.shutdown = Shutdown(ts, line_no, key)
    st.leg.shutdown_at = len(st.leg.messages)


def _event(st: _State, line: dict, ts: datetime | None, line_no: int, result: FileParse) -> None:
    etype, data = line["type"], line["data"]
    key = _text(line.get("id")) or f"line:{line_no}"
    if etype in ("session.start", "session.resume"):
        _start(st, data, etype)
    elif etype == "session.model_change":
        st.model = _text(data.get("newModel")) or st.model
    elif etype == "session.context_changed":
        _note_context(st, data)
    elif etype == "user.message":
        _user_message(st, data, ts, line_no, key)
    elif etype == "system.message":
        st.leg.messages.append(Message("system", "instructions", ts, _text(data.get("content")), line_no=line_no, dedup_key=key))
    elif etype == "system.notification":
        st.leg.messages.append(Message("system", "notification", ts, _text(data.get("content")), line_no=line_no, dedup_key=key))
    elif etype == "assistant.message":
        _assistant_message(st, data, ts, line_no, key)
    elif etype.startswith("tool."):
        _tool_event(st, etype, data, ts, line_no, key)
    elif etype in ("subagent.started", "subagent.completed"):
        if _text(data.get("toolCallId")) and _text(data.get("model")):
            st.subagent_models[data["toolCallId"]] = data["model"]
    elif etype == "session.compaction_complete":
        _compaction(st, data, ts, line_no, key)
    elif etype == "session.shutdown":
        _shutdown(st, data, ts, line_no, key)
    elif etype == "abort":
        reason = data.get("reason")
        st.leg.messages.append(Message("system", "turn_aborted", ts, reason if isinstance(reason, str) else None, line_no=line_no, dedup_key=key))
    elif etype not in _SILENT_TYPES:
        result.unknown_types[etype] += 1


def _flush(st: _State, sink: MessageSink, path: str) -> None:
    if st.done:
        sink(canonical_id(SOURCE, st.session_id or _id_from_path(path)), st.done)
        st.streamed += len(st.done)
        st.done = []


def parse_file(path: str, sink: MessageSink | None = None) -> FileParse:
    """Parse one session log. With a sink, each finished leg's messages leave in batches while
    the file is read (a leg's usage is known only at its end)."""
    result = FileParse(SOURCE, path)
    st = _State()
    span = TimeSpan()
    for line_no, line in own_lines(path, result, SOURCE, st.lines):
        result.lines_ok += 1
        ts = parse_timestamp(line.get("timestamp"))
        span.add(ts)
        _event(st, line, ts, line_no, result)
        if sink is not None and st.session_id is not None and len(st.done) >= FLUSH_EVERY:
            _flush(st, sink, path)
        line = None  # not held while the next line is read (a long line's text)

    if rejected_without_own_lines(result, st.lines, "Copilot event"):
        return result

    _finish_leg(st)
    if sink is not None:
        _flush(st, sink, path)
    context = dict(st.context)
    if Path(path).name == EVENTS_FILE and not all(k in context for k in ("cwd", "branch", "repository")):
        workspace = _workspace(path)
        for ours, theirs in (("cwd", "cwd"), ("branch", "branch"), ("repository", "repository")):
            if theirs in workspace:
                context.setdefault(ours, workspace[theirs])
    result.sessions.append(Session(
        SOURCE,
        st.session_id or _id_from_path(path),
        path,
        messages=st.done,
        streamed_messages=st.streamed,
        cli_version=st.cli_version,
        cwd=context.get("cwd"),
        git_branch=context.get("branch"),
        git_repository_url=_repository_url(context),
        started_at=span.first,
        ended_at=span.last,
    ))
    return result


def _repository_url(context: dict[str, str]) -> str | None:
    """``repository`` is ``owner/name`` on its host (``repositoryHost``, github.com by default)."""
    repo = context.get("repository")
    if not repo or "://" in repo or "@" in repo:
        return repo
    return f"https://{context.get('repositoryHost', 'github.com')}/{repo}"
