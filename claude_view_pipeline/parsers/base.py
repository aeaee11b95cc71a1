"""The unified session + message model every source parser produces (FORMATS.md 3),
and the one place where a session's counts and token totals are derived from its messages."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

import orjson

from ..sources import Source, canonical_id

# Why a file produced no session. Every rejection is counted with its source and path.
REJECT_EMPTY = "empty"
REJECT_NOT_A_SESSION_LOG = "not_a_session_log"
REJECT_SOURCE_MISMATCH = "source_mismatch"
REJECT_IO_ERROR = "io_error"
REJECT_DUPLICATE_SESSION = "duplicate_session_id"

# Message kinds that feed session counters.
PROMPT_KINDS = frozenset({"prompt", "command"})
USAGE_TOKEN_FIELDS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "reasoning_tokens")


@dataclass(slots=True)
class Message:
    role: str  # user | assistant | system | tool_use | tool_result | reasoning
    kind: str  # finer type: prompt, command, text, response, usage, compact_boundary, turn_aborted, ...
    timestamp: datetime | None = None
    text: str | None = None
    tool_name: str | None = None
    call_id: str | None = None
    is_error: bool | None = None
    line_no: int = 0
    inherited: bool = False
    response_key: str | None = None
    model: str | None = None
    # usage of one model response (API call); None where the message is not one
    input_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    is_api_call: bool = False

    @property
    def total_tokens(self) -> int:
        return (self.input_tokens or 0) + (self.cache_read_tokens or 0) + (self.cache_creation_tokens or 0) + (self.output_tokens or 0)


@dataclass(slots=True)
class Session:
    source: Source
    source_session_id: str
    file_path: str
    messages: list[Message] = field(default_factory=list)
    parent_session_id: str | None = None
    relation: str | None = None  # fork | subagent | continuation
    is_sidechain: bool = False
    is_headless: bool = False
    cli_version: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    # filled by summarize()
    primary_model: str | None = None
    models: list[str] = field(default_factory=list)
    user_prompt_count: int = 0
    api_call_count: int = 0
    tool_call_count: int = 0
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int | None = None
    total_tokens: int = 0
    compaction_count: int = 0
    microcompaction_count: int = 0
    aborted_turn_count: int = 0
    inherited_records: int = 0
    reports_reasoning: bool = False  # Codex reports reasoning tokens, Claude does not

    @property
    def id(self) -> str:
        return canonical_id(self.source, self.source_session_id)

    @property
    def project(self) -> str | None:
        if not self.cwd:
            return None
        return self.cwd.rstrip("/").rsplit("/", 1)[-1] or self.cwd

    def summarize(self, compaction_kinds: tuple[str, ...] = ("compact_boundary",)) -> None:
        """Derive counts, models and token totals from the messages.

        Inherited messages (a copy of history that another session owns) never count.
        ``compaction_kinds`` are tried in order; the first kind present is counted, so a
        source with a primary and a fallback marker does not count one compaction twice.
        """
        calls: Counter[str] = Counter()
        last_call_index: dict[str, int] = {}
        kinds: Counter[str] = Counter()
        totals = dict.fromkeys(USAGE_TOKEN_FIELDS, 0)
        prompts = tools = api_calls = inherited = 0
        for i, m in enumerate(self.messages):
            if m.inherited:
                inherited += 1
                continue
            kinds[m.kind] += 1
            if m.role == "user" and m.kind in PROMPT_KINDS:
                prompts += 1
            elif m.role == "tool_use":
                tools += 1
            if m.is_api_call:
                api_calls += 1
                for f in USAGE_TOKEN_FIELDS:
                    totals[f] += getattr(m, f) or 0
                if m.model:
                    calls[m.model] += 1
                    last_call_index[m.model] = i
        self.user_prompt_count = prompts
        self.tool_call_count = tools
        self.api_call_count = api_calls
        self.inherited_records = inherited
        self.input_tokens = totals["input_tokens"]
        self.cache_read_tokens = totals["cache_read_tokens"]
        self.cache_creation_tokens = totals["cache_creation_tokens"]
        self.output_tokens = totals["output_tokens"]
        self.reasoning_tokens = totals["reasoning_tokens"] if self.reports_reasoning else None
        self.total_tokens = self.input_tokens + self.cache_read_tokens + self.cache_creation_tokens + self.output_tokens
        # most calls; a tie goes to the model of the latest of those calls
        self.models = sorted(calls)
        self.primary_model = max(calls, key=lambda m: (calls[m], last_call_index[m])) if calls else None
        self.compaction_count = next((kinds[k] for k in compaction_kinds if kinds[k]), 0)
        self.microcompaction_count = kinds["microcompact_boundary"]
        self.aborted_turn_count = kinds["turn_aborted"]


@dataclass(slots=True)
class FileParse:
    """Everything pass 2 learned from one file: its sessions, or why it has none."""

    source: Source
    path: str
    sessions: list[Session] = field(default_factory=list)
    rejection: str | None = None
    detail: str | None = None
    lines_ok: int = 0
    lines_malformed: int = 0
    lines_incomplete_tail: int = 0  # a live file's half-written last line: not an error
    unknown_types: Counter = field(default_factory=Counter)
    parse_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rejection is None


# --- helpers shared by the source parsers -------------------------------------------------


def iter_json_lines(path: str, result: FileParse) -> Iterator[tuple[int, dict]]:
    """Stream (line_no, object) from a JSONL file, one line at a time (bounded memory).

    A line that is not a JSON object is counted as malformed and skipped; a final line with
    no newline that does not parse is a live file's unfinished write, counted apart.
    """
    with open(path, "rb") as fh:
        line_no = 0
        for raw in fh:
            line_no += 1
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                if not raw.endswith(b"\n"):
                    result.lines_incomplete_tail += 1
                else:
                    result.lines_malformed += 1
                continue
            if not isinstance(obj, dict):
                result.lines_malformed += 1
                continue
            yield line_no, obj


def parse_timestamp(value: object) -> datetime | None:
    """ISO-8601 text (``Z`` or offset) or epoch seconds/milliseconds -> aware UTC datetime."""
    if isinstance(value, str):
        if not value or not value[0].isdigit():
            return None
        try:
            ts = datetime.fromisoformat(value)
        except ValueError:
            return None
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=timezone.utc)
        return ts.astimezone(timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def as_int(value: object) -> int:
    """A token count from JSON: non-negative int; anything else counts as 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value if value > 0 else 0
    if isinstance(value, float) and value > 0:
        return int(value)
    return 0


class TimeSpan:
    """Running min/max of line timestamps (started_at / ended_at)."""

    __slots__ = ("first", "last")

    def __init__(self) -> None:
        self.first: datetime | None = None
        self.last: datetime | None = None

    def add(self, ts: datetime | None) -> None:
        if ts is None:
            return
        if self.first is None or ts < self.first:
            self.first = ts
        if self.last is None or ts > self.last:
            self.last = ts
