"""Claude Code transcript parser (docs/parsing-rules.md).

One file is one session. Assistant responses streamed over several lines (one line per
content block, shared ``message.id`` + ``requestId``, usage repeated and sometimes partial)
become one assistant message and one API call with the fieldwise maximum usage.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Mapping

from ..discovery import SessionFile, walk_files
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
    parse_timestamp,
)
from .sniff import LineCounts, own_lines, rejected_without_own_lines

SOURCE = Source.CLAUDE


def _roots(env: Mapping[str, str]) -> list[Path]:
    """``CLAUDE_PROJECTS_DIR``; else each ``$CLAUDE_CONFIG_DIR/projects`` (ccusage accepts a
    comma-separated list; so do we); else ``~/.claude/projects`` and ``~/.config/claude/projects``
    (where some v1.0.30-era builds wrote, ccusage #121)."""
    explicit = env_dir(env, "CLAUDE_PROJECTS_DIR")
    if explicit:
        return [explicit]
    if env.get("CLAUDE_CONFIG_DIR", "").strip():
        dirs = [d.strip() for d in env["CLAUDE_CONFIG_DIR"].split(",") if d.strip()]
        return dedupe([Path(d).expanduser() / "projects" for d in dirs])
    return dedupe([home() / ".claude" / "projects", home() / ".config" / "claude" / "projects"])


SPEC = SourceSpec(
    name="claude", label="Claude Code", roots=_roots, settings=("CLAUDE_PROJECTS_DIR", "CLAUDE_CONFIG_DIR"),
    provider="anthropic", plan_blocks=True, colour="#d97757", corpus_dir="projects",
)

# Line types of a Claude Code transcript; lines of other types with its envelope are drift.
CLAUDE_LINE_TYPES = frozenset({
    "user", "assistant", "system", "summary", "file-history-snapshot", "progress",
    "queue-operation", "attachment", "ai-title", "last-prompt", "mode", "permission-mode",
    "bridge-session", "atis-latch", "cost-state", "custom-title", "agent-name", "tag",
    "pr-link", "worktree-state",
})
_ENVELOPE_KEYS = ("sessionId", "parentUuid", "uuid", "isSidechain", "leafUuid")


def looks_like(line: dict) -> bool:
    """A Claude Code line: its envelope keys, or one of its line types with no role of its own."""
    t = line.get("type")
    return any(k in line for k in _ENVELOPE_KEYS) or (isinstance(t, str) and t in CLAUDE_LINE_TYPES and "role" not in line)


def find_files(root: Path) -> Iterator[SessionFile]:
    """Every ``*.jsonl`` under ``projects/`` (content decides the rest); ``agent-*.jsonl`` are
    subagent transcripts, in either layout (docs/parsing-rules.md)."""
    for path, st in walk_files(root, lambda dirpath, name: name.endswith(".jsonl")):
        kind = "subagent" if os.path.basename(path).startswith("agent-") else "main"
        yield SessionFile(SOURCE, path, st.st_size, st.st_mtime_ns, kind)

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


def _cache_writes(usage: dict) -> tuple[int, int]:
    """(5-minute, 1-hour) cache writes of one usage report. ``cache_creation`` splits the
    writes by lifetime (billed at 1.25x and 2x the input price); a report without the split
    is all 5-minute writes, and where the two disagree the larger total stands, its
    remainder beyond the 1-hour writes being 5-minute ones."""
    split = usage.get("cache_creation") if isinstance(usage.get("cache_creation"), dict) else {}
    one_hour = as_int(split.get("ephemeral_1h_input_tokens"))
    total = max(as_int(usage.get("cache_creation_input_tokens")), as_int(split.get("ephemeral_5m_input_tokens")) + one_hour)
    return total - one_hour, one_hour


def _merge_usage(resp: _Response, usage: object) -> None:
    if not isinstance(usage, dict):
        return
    five_min, one_hour = _cache_writes(usage)
    fields = {
        "input_tokens": as_int(usage.get("input_tokens")),
        "cache_read_tokens": as_int(usage.get("cache_read_input_tokens")),
        "cache_creation_5m_tokens": five_min,
        "cache_creation_1h_tokens": one_hour,
        "output_tokens": as_int(usage.get("output_tokens")),
    }
    if resp.usage is None:
        resp.usage = fields
        return
    # early stream lines may hold partial counts (ccusage #901): take the max of each count;
    # the cache writes as one pair, from the line that reports more of them
    writes = ("cache_creation_5m_tokens", "cache_creation_1h_tokens")
    if five_min + one_hour > resp.usage[writes[0]] + resp.usage[writes[1]]:
        resp.usage.update(zip(writes, (five_min, one_hour)))
    for k in ("input_tokens", "cache_read_tokens", "output_tokens"):
        if fields[k] > resp.usage[k]:
            resp.usage[k] = fields[k]


def session_ids_for(path: Path, seen_ids: list[str]) -> tuple[str, str | None, str | None]:
    """(source_session_id, parent canonical id, relation) for a Claude file.

    A subagent transcript is its own session named by its file stem, linked to the session
    it belongs to (docs/parsing-rules.md). A main file is named by its sessionId; a first-line
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


def _claude_type(line: dict) -> bool:
    """A line no source claims by its shape, whose type is one Claude Code writes."""
    t = line.get("type")
    return isinstance(t, str) and t in CLAUDE_LINE_TYPES


def _read_lines(path: str, result: FileParse, counts: LineCounts) -> Iterator[tuple[int, dict, str | None, str | None]]:
    """The lines the parser reads, as (line_no, line, type, uuid): the file's own lines, each
    line written twice only once; the rest are counted into ``result`` (sniff.own_lines)."""
    seen_uuids: set[str] = set()
    for line_no, line in own_lines(path, result, SOURCE, counts, accept=_claude_type):
        line_type = line.get("type") if isinstance(line.get("type"), str) else None
        uuid = line.get("uuid") if isinstance(line.get("uuid"), str) and line.get("uuid") else None
        if uuid is not None and line_type != "assistant":
            if uuid in seen_uuids:
                result.lines_duplicate += 1  # the same line written twice: count it once
                continue
            seen_uuids.add(uuid)
        yield line_no, line, line_type, uuid
        line = None  # not held while the next line is read (a long line's text)


def _line_session_id(line: dict) -> str | None:
    sid = line.get("sessionId")
    return sid if isinstance(sid, str) and sid else None


def _add_session_id(session_ids: list[str], sid: str | None) -> None:
    if sid and (not session_ids or session_ids[-1] != sid) and sid not in session_ids:
        session_ids.append(sid)


def _first_pass(path: str) -> tuple[dict[str, int], list[str]]:
    """What streaming must know before the first message leaves: the last line of every
    response (it can change until then) and the session ids the file names (which decide the
    session's own id)."""
    last_line: dict[str, int] = {}
    session_ids: list[str] = []
    for line_no, line, line_type, _ in _read_lines(path, FileParse(SOURCE, path), LineCounts()):
        _add_session_id(session_ids, _line_session_id(line))
        if line_type == "assistant":
            last_line[_response_key(line, line_no)] = line_no
    return last_line, session_ids


FLUSH_EVERY = 5000  # messages held before the finished ones go to the sink


def parse_file(path: str, sink: MessageSink | None = None) -> FileParse:
    """Parse one transcript. With a sink, finished messages go to it in batches while the file
    is read (after a first pass over the file), so a file of any size is parsed in bounded
    memory; the session returned then holds only the messages' count (``streamed_messages``)."""
    result = FileParse(SOURCE, path)
    messages: list[Message] = []
    responses: dict[str, _Response] = {}
    session_ids: list[str] = []
    span = TimeSpan()
    counts = LineCounts()
    cwd = git_branch = version = None
    sidechain_lines = 0
    line_sids: list[str | None] = []  # the sessionId of the line each message came from
    stream = None
    if sink is not None:
        last_line, all_ids = _first_pass(path)
        stream = _Stream(sink, last_line, *session_ids_for(Path(path), all_ids))

    for line_no, line, line_type, uuid in _read_lines(path, result, counts):
        result.lines_ok += 1
        ts = parse_timestamp(line.get("timestamp"))
        n_before = len(messages)
        span.add(ts)
        sid = _line_session_id(line)
        _add_session_id(session_ids, sid)
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
            line_sids.extend([sid] * (len(messages) - n_before))
        if stream is not None and len(messages) >= FLUSH_EVERY:
            stream.flush(messages, line_sids, responses, line_no)
        line = None
    if result.rejection:
        return result

    if rejected_without_own_lines(result, counts, "Claude Code line"):
        return result

    for resp in responses.values():
        _finish(resp)
    source_session_id, parent, relation = session_ids_for(Path(path), session_ids)
    session = Session(
        SOURCE,
        source_session_id,
        path,
        messages=messages,
        parent_session_id=parent,
        relation=relation,
        is_sidechain=relation == "subagent" or (sidechain_lines == counts.own),
        cli_version=version,
        cwd=cwd,
        git_branch=git_branch,
        started_at=span.first,
        ended_at=span.last,
    )
    _set_origins(messages, line_sids, source_session_id, relation)
    if stream is not None:
        stream.flush(messages, line_sids, responses, None)
        session.messages, session.streamed_messages = [], stream.streamed
    result.sessions.append(session)
    return result


def _finish(resp: _Response) -> None:
    """A response's final text and tokens, once no later line can add to it."""
    m = resp.message
    m.set_text("\n".join(resp.texts) if resp.texts else None)
    if resp.usage is not None and m.api_call:
        for name, value in resp.usage.items():
            setattr(m, name, value)
        m.cache_creation_tokens = m.cache_creation_5m_tokens + m.cache_creation_1h_tokens


def _set_origins(messages: list[Message], line_sids: list[str | None], source_session_id: str, relation: str | None) -> None:
    for m, line_sid in zip(messages, line_sids):
        # a subagent's lines name the parent session: that is ownership, not a copy
        if line_sid and line_sid != source_session_id and relation != "subagent":
            m.origin_session_id = canonical_id(SOURCE, line_sid)


class _Stream:
    """Streaming state: which responses may still change, and where finished messages go."""

    def __init__(self, sink: MessageSink, last_line: dict[str, int], source_session_id: str, parent, relation):
        self.sink, self.last_line = sink, last_line
        self.session_id, self.own_id, self.relation = canonical_id(SOURCE, source_session_id), source_session_id, relation
        self.streamed = 0

    def flush(self, messages: list[Message], line_sids: list, responses: dict[str, _Response], line_no: int | None) -> None:
        """Hand over the messages before the first one that can still change (a response whose
        key appears again after line_no); everything when line_no is None (end of file)."""
        open_keys = {k for k in responses if line_no is not None and self.last_line.get(k, 0) > line_no}
        open_messages = {id(responses[k].message) for k in open_keys}
        cut = next((i for i, m in enumerate(messages) if id(m) in open_messages), len(messages))
        if cut == 0:
            return
        batch, sids = messages[:cut], line_sids[:cut]
        for key in [k for k in responses if k not in open_keys]:
            _finish(responses.pop(key))
        _set_origins(batch, sids, self.own_id, self.relation)
        del messages[:cut], line_sids[:cut]
        self.sink(self.session_id, batch)
        self.streamed += len(batch)


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


def _response_key(line: dict, line_no: int) -> str:
    """Lines of one streamed response share message.id + requestId (or message.id)."""
    msg = line.get("message") if isinstance(line.get("message"), dict) else {}
    mid = msg.get("id") if isinstance(msg.get("id"), str) else None
    rid = line.get("requestId") if isinstance(line.get("requestId"), str) else None
    if mid and rid:
        return f"{mid}:{rid}"
    if mid:
        return mid
    return f"line:{line_no}"  # no id: never merged with another line


def _assistant_line(line: dict, line_no: int, ts, messages: list[Message], responses: dict[str, _Response]) -> None:
    msg = line.get("message")
    if not isinstance(msg, dict):
        msg = {}
    model = msg.get("model") if isinstance(msg.get("model"), str) else None
    key = _response_key(line, line_no)
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
