"""What the command line prints. Text that comes from session files (a working directory, a
model or branch name, a file name, a repository URL) is written by whoever wrote the file, and
a terminal obeys control sequences: so every such text is shown escaped (an escape character
as ``\\x1b``), and long fields are cut in tables; ``--json`` keeps the full values, escaped the
JSON way."""

from __future__ import annotations

import re
import sys

import orjson

# C0 and C1 control characters and DEL (screen clears, window titles, OSC 52 clipboard writes,
# bells), and the characters that reorder text on screen (bidirectional overrides, line and
# paragraph separators)
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# what JSON leaves raw of those (it escapes C0 itself)
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
ELLIPSIS = "…"


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(value: object, width: int | None = None) -> str:
    """``value`` as text a terminal shows as it is: unsafe characters escaped, and cut to
    ``width`` characters (the last one an ellipsis) when longer."""
    text = _UNSAFE.sub(_escape, "" if value is None else str(value))
    if width is not None and len(text) > width:
        text = text[: max(width - 1, 0)] + ELLIPSIS
    return text


def json_text(value: object, indent: bool = True) -> str:
    """``value`` as JSON (orjson: dates as ISO text; other objects by ``str``) with every
    unsafe character escaped as ``\\uXXXX``."""
    option = orjson.OPT_INDENT_2 if indent else 0
    text = orjson.dumps(value, option=option | orjson.OPT_NON_STR_KEYS, default=str).decode()
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(value: object) -> None:
    sys.stdout.write(json_text(value) + "\n")


def err(message: str) -> None:
    """One line on stderr, the message escaped (it may quote a path or a name from a file)."""
    print(safe(message), file=sys.stderr)
