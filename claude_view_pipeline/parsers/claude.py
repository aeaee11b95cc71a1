"""Claude Code transcript parser (FORMATS.md 2).

One file is one session. Assistant responses streamed over several lines (one line per
content block, shared ``message.id`` + ``requestId``, usage repeated and sometimes partial)
become one assistant message and one API call with the fieldwise maximum usage.
"""

from __future__ import annotations

from pathlib import Path

from ..sources import Source, canonical_id
from .base import (
    REJECT_EMPTY,
    REJECT_NOT_A_SESSION_LOG,
    REJECT_SOURCE_MISMATCH,
    FileParse,
    Message,
    Session,
    TimeSpan,
    as_int,
    iter_json_lines,
    json_text,
    parse_timestamp,
)
from .sniff import CLAUDE_LINE_TYPES, sniff_line

SOURCE = Source.CLAUDE

# Lines that carry no conversation content; they only feed subagent links or UI state.
_SILENT_TYPES = CLAUDE_LINE_TYPES - {"user", "assistant", "system", "summary"}

# User-line text that Claude Code writes itself, with the kind we file it under.
_NOT_PROMPT_PREFIXES: tuple[tuple[str, str, str], ...] = (
    # (prefix, role, kind)
    ("<command-name>", "user", "command"),
    ("<command-message>", "user", "command"),
    ("<local-command-stdout>", "system", "local_command_output"),
    ("<local-command-stderr>", "system", "local_command_output"),
    ("[Request interrupted by user", "system", "turn_aborted"),
    ("<task-notification>", "system", "injected"),
    ("Stop hook feedback:", "system", "injected"),
    ("This session is being continued", "system", "injected"),
)


def _block_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict):
                if block.get("type") == "text" and isinstance(block.get("text"), str):
                    parts.append(block["text"])
            elif isinstance(block, str):
                parts.append(block)
        return "\n".join(parts)
    return ""


def _classify_user_text(text: str, line: dict) -> tuple[str, str]:
    if line.get("isCompactSummary"):
        return "system", "compact_summary"
    if line.get("isMeta"):
        return "system", "meta"
    stripped = text.lstrip()
    for prefix, role, kind in _NOT_PROMPT_PREFIXES:
        if stripped.startswith(prefix):
            return role, kind
    if line.get("isSidechain"):
        return "user", "agent_prompt"  # written by the parent model, not a person
    return "user", "prompt"


class _Response:
    """Accumulates the lines of one streamed assistant response."""

    __slots__ = ("message", "usage", "texts", "block_ids")

    def __init__(self, message: Message):
        self.message = message
        self.usage: dict[str, int] | None = None
        self.texts: list[str] = []
        self.block_ids: set[str] = set()


def _merge_usage(resp: _Response, usage: object) -> None:
    if not isinstance(usage, dict):
        return
    cache_creation = usage.get("cache_creation_input_tokens")
    if cache_creation is None and isinstance(usage.get("cache_creation"), dict):
        cc = usage["cache_creation"]
        cache_creation = as_int(cc.get("ephemeral_5m_input_tokens")) + as_int(cc.get("ephemeral_1h_input_tokens"))
    fields = {
        "input_tokens": as_int(usage.get("input_tokens")),
        "cache_read_tokens": as_int(usage.get("cache_read_input_tokens")),
        "cache_creation_tokens": as_int(cache_creation),
        "output_tokens": as_int(usage.get("output_tokens")),
    }
    if resp.usage is None:
        resp.usage = fields
    else:  # early stream lines may hold partial counts (ccusage #901): take the max
        for k, v in fields.items():
            if v > resp.usage[k]:
                resp.usage[k] = v


def session_ids_for(path: Path, seen_ids: list[str]) -> tuple[str, str | None, str | None]:
    """(source_session_id, parent canonical id, relation) for a Claude file.

    A subagent transcript is its own session named by its file stem, linked to the session
    it belongs to (DESIGN.md). A main file is named by its sessionId; a first-line
    sessionId that differs is the session it continues (resume).
    """
    stem = path.stem
    if stem.startswith("agent-"):
        parent_dir = path.parent
        if parent_dir.name == "subagents":  # new layout: <session>/subagents/agent-<id>.jsonl
            parent = parent_dir.parent.name
        else:  # old layout: lines carry the parent's sessionId
            parent = next((s for s in seen_ids if s != stem), None)
        return stem, (canonical_id(SOURCE, parent) if parent else None), "subagent"
    if stem in seen_ids:
        own = stem
    elif seen_ids:
        own = seen_ids[-1]
    else:
        own = stem
    first = seen_ids[0] if seen_ids else None
    if first and first != own:
        return own, canonical_id(SOURCE, first), "continuation"
    return own, None, None


def parse_file(path: str) -> FileParse:
    result = FileParse(SOURCE, path)
    messages: list[Message] = []
    responses: dict[str, _Response] = {}
    session_ids: list[str] = []
    span = TimeSpan()
    own_lines = foreign_lines = 0
    cwd = git_branch = version = None
    sidechain_lines = 0
    seen_uuids: set[str] = set()
    line_sids: list[str | None] = []  # the sessionId of the line each message came from

    for line_no, line in iter_json_lines(path, result):
        looks_like = sniff_line(line)
        if looks_like is Source.CODEX:
            foreign_lines += 1
            if own_lines == 0:
                # the first recognisable line is another source's: never parse it as ours
                result.rejection = REJECT_SOURCE_MISMATCH
                result.detail = f"first recognisable line is a {looks_like.value} line (line {line_no})"
                return result
            result.unknown_types[f"foreign:{line.get('type')}"] += 1
            result.lines_skipped += 1
            continue
        line_type = line.get("type") if isinstance(line.get("type"), str) else None
        if looks_like is None and line_type not in CLAUDE_LINE_TYPES:
            result.unknown_types[f"line:{line_type}"] += 1
            result.lines_skipped += 1
            continue
        own_lines += 1
        uuid = line.get("uuid") if isinstance(line.get("uuid"), str) and line.get("uuid") else None
        if uuid is not None and line_type != "assistant":
            if uuid in seen_uuids:
                result.lines_duplicate += 1  # the same line written twice: count it once
                continue
            seen_uuids.add(uuid)
        result.lines_ok += 1
        ts = parse_timestamp(line.get("timestamp"))
        n_before = len(messages)
        span.add(ts)
        sid = line.get("sessionId")
        if isinstance(sid, str) and sid and (not session_ids or session_ids[-1] != sid) and sid not in session_ids:
            session_ids.append(sid)
        if cwd is None and isinstance(line.get("cwd"), str) and line["cwd"]:
            cwd = line["cwd"]
        if git_branch is None and isinstance(line.get("gitBranch"), str) and line["gitBranch"]:
            git_branch = line["gitBranch"]
        if isinstance(line.get("version"), str):
            version = line["version"]
        if line.get("isSidechain") is True:
            sidechain_lines += 1

        if line_type == "assistant":
            _assistant_line(line, line_no, ts, messages, responses)
        elif line_type == "user":
            _user_line(line, line_no, ts, messages)
        elif line_type == "system":
            subtype = line.get("subtype") if isinstance(line.get("subtype"), str) else "system"
            text = line.get("content") if isinstance(line.get("content"), str) else None
            messages.append(Message("system", subtype, ts, text, line_no=line_no))
        elif line_type == "summary":
            text = line.get("summary") if isinstance(line.get("summary"), str) else None
            messages.append(Message("system", "summary", ts, text, line_no=line_no))
        elif line_type in _SILENT_TYPES:
            pass
        else:  # an envelope we recognise with a type we do not know yet: format drift
            result.unknown_types[f"line:{line_type}"] += 1
        if len(messages) > n_before:
            line_key = f"u:{uuid}" if uuid else None
            for m in messages[n_before:]:
                if m.dedup_key is None:
                    m.dedup_key = line_key
            line_sids.extend([sid if isinstance(sid, str) and sid else None] * (len(messages) - n_before))

    for resp in responses.values():
        m = resp.message
        m.text = "\n".join(resp.texts) if resp.texts else None
        if resp.usage is not None and m.api_call:
            m.input_tokens = resp.usage["input_tokens"]
            m.cache_read_tokens = resp.usage["cache_read_tokens"]
            m.cache_creation_tokens = resp.usage["cache_creation_tokens"]
            m.output_tokens = resp.usage["output_tokens"]

    if own_lines == 0:
        if foreign_lines:
            result.rejection = REJECT_SOURCE_MISMATCH
        elif result.lines_malformed or result.unknown_types:
            result.rejection = REJECT_NOT_A_SESSION_LOG
            result.detail = f"{result.lines_malformed} malformed line(s), no Claude Code line"
        else:
            result.rejection = REJECT_EMPTY
        return result

    p = Path(path)
    source_session_id, parent, relation = session_ids_for(p, session_ids)
    session = Session(
        SOURCE,
        source_session_id,
        path,
        messages=messages,
        parent_session_id=parent,
        relation=relation,
        is_sidechain=relation == "subagent" or (sidechain_lines == own_lines),
        cli_version=version,
        cwd=cwd,
        git_branch=git_branch,
        started_at=span.first,
        ended_at=span.last,
    )
    for m, line_sid in zip(messages, line_sids):
        # a subagent's lines name the parent session: that is ownership, not a copy
        if line_sid and line_sid != source_session_id and relation != "subagent":
            m.origin_session_id = canonical_id(SOURCE, line_sid)
    result.sessions.append(session)
    return result


def _user_line(line: dict, line_no: int, ts, messages: list[Message]) -> None:
    msg = line.get("message")
    content = msg.get("content") if isinstance(msg, dict) else None
    has_tool_result = False
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                has_tool_result = True
                messages.append(
                    Message(
                        "tool_result",
                        "tool_result",
                        ts,
                        _block_text(block.get("content")) or None,
                        call_id=block.get("tool_use_id") if isinstance(block.get("tool_use_id"), str) else None,
                        is_error=bool(block.get("is_error")) if "is_error" in block else None,
                        line_no=line_no,
                    )
                )
    if has_tool_result:
        return  # a tool result is never a prompt, even with text beside it
    text = _block_text(content)
    role, kind = _classify_user_text(text, line)
    messages.append(Message(role, kind, ts, text or None, line_no=line_no))


def _assistant_line(line: dict, line_no: int, ts, messages: list[Message], responses: dict[str, _Response]) -> None:
    msg = line.get("message")
    if not isinstance(msg, dict):
        msg = {}
    model = msg.get("model") if isinstance(msg.get("model"), str) else None
    mid = msg.get("id") if isinstance(msg.get("id"), str) else None
    rid = line.get("requestId") if isinstance(line.get("requestId"), str) else None
    if mid and rid:
        key = f"{mid}:{rid}"
    elif mid:
        key = mid
    else:  # no id: never merged with another line
        key = f"line:{line_no}"
    synthetic = model == "<synthetic>" or bool(line.get("isApiErrorMessage"))
    resp = responses.get(key)
    if resp is None:
        m = Message(
            "system" if synthetic else "assistant",
            "synthetic" if synthetic else "response",
            ts,
            line_no=line_no,
            dedup_key=None if key.startswith("line:") else f"r:{key}",
            model=None if synthetic else model,
            api_call=not synthetic,
            usage_at=None if synthetic else ts,
        )
        messages.append(m)
        resp = responses[key] = _Response(m)
    elif model and not resp.message.model and not synthetic:
        resp.message.model = model
    _merge_usage(resp, msg.get("usage"))

    content = msg.get("content")
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if not isinstance(content, list):
        return
    for block in content:
        if not isinstance(block, dict):
            continue
        btype = block.get("type")
        if btype == "text":
            text = block.get("text")
            if isinstance(text, str) and text and ("t:" + text) not in resp.block_ids:
                resp.block_ids.add("t:" + text)
                resp.texts.append(text)
        elif btype in ("tool_use", "server_tool_use"):
            bid = block.get("id") if isinstance(block.get("id"), str) else None
            sig = "u:" + (bid or f"{block.get('name')}:{line_no}")
            if sig in resp.block_ids:
                continue  # the same block repeated by a duplicated line
            resp.block_ids.add(sig)
            messages.append(
                Message(
                    "tool_use",
                    btype,
                    ts,
                    json_text(block.get("input")),
                    tool_name=block.get("name") if isinstance(block.get("name"), str) else None,
                    call_id=bid,
                    line_no=line_no,
                    dedup_key=resp.message.dedup_key,
                )
            )
        elif btype in ("thinking", "redacted_thinking"):
            text = block.get("thinking") if isinstance(block.get("thinking"), str) else None
            sig = "r:" + (text or f"{btype}:{line_no}")
            if sig in resp.block_ids:
                continue
            resp.block_ids.add(sig)
            messages.append(Message("reasoning", btype, ts, text, line_no=line_no, dedup_key=resp.message.dedup_key))
