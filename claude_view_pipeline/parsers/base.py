"""The unified session + message model every source parser produces (docs/tables.md),
and the one place where a session's counts and token totals are derived from its messages."""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterator

import orjson

from ..paths import os_path
from ..sources import Source, canonical_id

# Why a file produced no session. Every rejection is counted with its source and path.
REJECT_EMPTY = "empty"
REJECT_NOT_A_SESSION_LOG = "not_a_session_log"
REJECT_SOURCE_MISMATCH = "source_mismatch"
REJECT_IO_ERROR = "io_error"
REJECT_DUPLICATE_SESSION = "duplicate_session_id"
REJECT_LINE_TOO_LARGE = "line_too_large"

# A message's text is kept whole up to this many characters and cut there beyond it (marked
# text_truncated): a tool output of hundreds of MB in one message would cost the index several
# times its size in memory to write, for text nobody reads in a table.
TEXT_CAP_CHARS = 1 << 20
# In a line longer than LONG_LINE_BYTES, every JSON string longer than KEPT_STRING_BYTES is cut
# to that many bytes before the line is decoded (decoding holds a line three times over; cut,
# only its short parts are decoded). No character takes more than 12 bytes in JSON (an escaped
# surrogate pair), so a cut string still decodes to more than TEXT_CAP_CHARS characters, and
# the message is cut and marked as any long text is. Only text is this long: ids, models,
# timestamps and token counts never are.
KEPT_STRING_BYTES = 12 * (TEXT_CAP_CHARS + 1)
LONG_LINE_BYTES = 2 * KEPT_STRING_BYTES


class LineTooLarge(Exception):
    """A line longer than the memory budget lets a parser read (config.max_line_bytes)."""

    def __init__(self, line_no: int, limit: int):
        self.line_no, self.limit = line_no, limit
        super().__init__(f"line {line_no} is longer than {limit / 2**20:,.0f} MB, the most CLAUDE_VIEW_DUCKDB_MEMORY lets a "
                         "parser read; the rest of the file is not read (raise the setting and run index --full to read it)")



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
    text_truncated: bool = False  # the text was longer than TEXT_CAP_CHARS and is cut there
    # a copy of history another session owns (a fork's replayed prefix); never counted
    inherited: bool = False
    # identity of the record across files (Claude line uuid or response id, Codex token
    # event): the index counts a record copied into several files once (docs/parsing-rules.md)
    dedup_key: str | None = None
    # the session a copied line says it came from, when that is not this session
    origin_session_id: str | None = None
    api_call: bool = False  # this message is one model response (an API call)
    usage_at: datetime | None = None  # when the call's usage was reported (rollups group by it)
    model: str | None = None
    # the provider the agent recorded for the call (Codex model_provider), as written
    model_provider: str | None = None
    model_assumed: bool = False  # the log never named the model: its agent's default then
    # usage of that call; None where the message is not a call or the log has no usage
    input_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None  # = the 5-minute and 1-hour writes below
    cache_creation_5m_tokens: int | None = None
    cache_creation_1h_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    # what the agent itself recorded the call cost, in USD (OpenCode); None where it records none
    agent_cost_usd: float | None = None

    def __post_init__(self) -> None:
        self.set_text(self.text)

    def set_text(self, text: str | None) -> None:
        """The message's text, cut at TEXT_CAP_CHARS (and marked so) when longer."""
        self.text_truncated = text is not None and len(text) > TEXT_CAP_CHARS
        self.text = text[:TEXT_CAP_CHARS] if self.text_truncated else text


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One plan window's state as a Codex token_count event reported it."""

    at: datetime
    window: str  # primary | secondary
    used_percent: float
    window_minutes: int | None
    resets_at: datetime | None
    line_no: int


@dataclass(slots=True)
class Session:
    """One session's identity and metadata plus its messages. Counters and token totals
    are derived from the messages by one SQL definition (aggregate.py), in the index and
    in tests alike, so "messages summed per session give the session's totals" holds by
    construction."""

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
    git_repository_url: str | None = None  # Codex session_meta.git.repository_url
    git_branch: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    streamed_messages: int = 0  # messages handed to a sink while parsing (not in ``messages``)
    rate_limits: list["RateLimit"] = field(default_factory=list)  # Codex: the plan's windows as reported


    @property
    def message_count(self) -> int:
        return len(self.messages) + self.streamed_messages

    @property
    def id(self) -> str:
        return canonical_id(self.source, self.source_session_id)


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
    lines_duplicate: int = 0  # the same line (uuid) written twice into one file
    lines_skipped: int = 0  # lines of no known session shape, or of the other source
    unknown_types: Counter = field(default_factory=Counter)
    parse_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rejection is None


# --- helpers shared by the source parsers -------------------------------------------------


BOM = b"\xef\xbb\xbf"  # a UTF-8 byte-order mark, which some editors write before the first line

# Where a parser hands finished messages when streaming: (session id, messages in order).
MessageSink = Callable[[str, list[Message]], None]


def open_regular(path: str):
    """Open a session file for reading without ever blocking: a path that was swapped for a
    FIFO (or another special file) after discovery is an OSError, not a hang."""
    fd = os.open(os_path(path), os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"not a regular file: {path}")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def iter_json_lines(path: str, result: FileParse) -> Iterator[tuple[int, dict]]:
    """Stream (line_no, object) from a JSONL file, one line at a time (bounded memory).

    A line that is not a JSON object (invalid UTF-8 included) is counted as malformed and
    skipped; a final line with no newline that does not parse is a live file's unfinished
    write, counted apart. A UTF-8 byte-order mark before the first line is not part of it;
    CRLF line ends are line ends.
    """
    from ..config import max_line_bytes

    limit = max_line_bytes()
    with open_regular(path) as fh:
        line_no = 0
        while True:
            raw = _read_line(fh, line_no + 1, limit)
            if raw is None:
                return
            line_no += 1
            if line_no == 1:
                raw = raw.removeprefix(BOM)
            if not raw or raw.isspace():  # (strip() would copy a long line)
                continue
            complete = raw.endswith(b"\n")
            if len(raw) > LONG_LINE_BYTES:
                raw = cut_long_strings(raw)
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                if not complete:
                    result.lines_incomplete_tail += 1
                else:
                    result.lines_malformed += 1
                continue
            # a long line's bytes go before its object is used, and its object before the next
            # line is read: a long line is held once, and only one at a time
            raw = None
            if not isinstance(obj, dict):
                result.lines_malformed += 1
                continue
            yield line_no, obj
            obj = None


_CHUNK = 1 << 20
# a JSON string token: its quotes, and between them any character but a quote or backslash,
# or a backslash and the character it escapes
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_HEX = frozenset(b"0123456789abcdefABCDEF")


def cut_long_strings(line: bytes | bytearray) -> bytes:
    """The line with every JSON string longer than KEPT_STRING_BYTES cut to about that many
    bytes, on a character boundary (never inside an escape or a UTF-8 sequence, never after
    half a surrogate pair), so that it still decodes. Scanned in C (re), copied once, short."""
    view = memoryview(line)
    parts, start = [], 0
    for m in _JSON_STRING.finditer(line):
        if m.end() - m.start() - 2 <= KEPT_STRING_BYTES:
            continue
        body = m.start() + 1
        end = _boundary(view, body, body + KEPT_STRING_BYTES)
        parts += [view[start:end], b'"']
        start = m.end()
    if not parts:
        return bytes(line)
    parts.append(view[start:])
    return b"".join(parts)


def _boundary(view: memoryview, body: int, cut: int) -> int:
    """The last place at or before ``cut`` where a JSON string's body (from ``body``) may end:
    not inside an escape, not between the halves of an escaped surrogate pair, not inside a
    UTF-8 sequence."""

    def escape_starts_at(p: int) -> bool:  # a backslash not itself escaped
        run = p
        while run > body and view[run - 1] == 0x5C:
            run -= 1
        return view[p] == 0x5C and (p - run) % 2 == 0

    def escape_length(p: int) -> int:
        return 6 if p + 1 < len(view) and view[p + 1] == 0x75 else 2  # \uXXXX, or \n and its kind

    # the last escape that begins in the 11 bytes before the cut (escapes are 2 or 6 bytes)
    for p in range(cut - 1, max(body, cut - 11) - 1, -1):
        if escape_starts_at(p):
            if p + escape_length(p) > cut:
                cut = p
            break
    # the first half of a surrogate pair (\ud800-\udbff) just before the cut goes too
    p = cut - 6
    if p >= body and escape_starts_at(p) and escape_length(p) == 6 and bytes(view[p + 2:p + 4]).lower() in (b"d8", b"d9", b"da", b"db"):
        cut = p
    # a UTF-8 sequence the cut would split: back over its continuation bytes and its lead
    j = cut
    while j > body and 0x80 <= view[j - 1] < 0xC0:
        j -= 1
    if j > body and view[j - 1] >= 0xC0:
        lead = view[j - 1]
        size = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        if (j - 1) + size > cut:
            return j - 1
    return cut


def _read_line(fh, line_no: int, limit: int) -> bytes | bytearray | None:
    """The next line (None at the end): a short line as the buffered reader gives it, a long
    one gathered a megabyte at a time into one buffer (reading it whole at once holds it twice),
    and one longer than ``limit`` refused before it is all in memory."""
    raw = fh.readline(_CHUNK)
    if not raw:
        return None
    if len(raw) < _CHUNK or raw.endswith(b"\n"):
        return raw
    line = bytearray(raw)
    while True:
        part = fh.readline(_CHUNK)
        line += part
        if len(line) > limit:
            raise LineTooLarge(line_no, limit)
        if len(part) < _CHUNK or part.endswith(b"\n"):
            return line


def json_text(value: object) -> str | None:
    """A tool input or other payload as text: strings as they are, anything else as JSON with
    sorted keys (so the same input always gives the same text)."""
    if value is None or isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return str(value)


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
