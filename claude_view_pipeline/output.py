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


class Col:
    """A table column: its title, how a row gives its cell, right-aligned (numbers) or not,
    and the width a text cell is cut to (the full value stays in --json)."""

    __slots__ = ("title", "cell", "right", "width")

    def __init__(self, title: str, cell, right: bool = False, width: int | None = None):
        self.title, self.cell, self.right, self.width = title, cell, right, width


def number(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def table(columns: list[Col], rows: list, out=None) -> None:
    """Rows as a table: drawn by rich on a terminal, plain text padded with spaces when piped
    (what scripts and tests read). Every cell is escaped and cut to its column's width."""
    out = out or sys.stdout
    cells = [[safe(c.cell(r), c.width) for c in columns] for r in rows]
    if out.isatty():
        _rich_table(columns, cells, out)
        return
    widths = [max([len(c.title), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return " ".join(v.rjust(w) if c.right else v.ljust(w) for v, w, c in zip(values, widths, columns)).rstrip()

    out.write("\n".join([line([c.title for c in columns]), *(line(row) for row in cells)]) + "\n")


def _rich_table(columns: list[Col], cells: list[list[str]], out) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    view = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for c in columns:
        view.add_column(c.title, justify="right" if c.right else "left", no_wrap=True)
    for row in cells:
        view.add_row(*(Text(v) for v in row))  # Text: no markup is read from a session's text
    Console(file=out, highlight=False, soft_wrap=True).print(view)


def progress_bar():
    """A progress callback ``(label, done, total)`` that draws a bar on stderr, or None when
    stderr is not a terminal (a log, a pipe: nothing to redraw). Use as a context manager."""
    if not sys.stderr.isatty():
        return _NoProgress()
    return _Progress()


class _NoProgress:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None


class _Progress:
    def __enter__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                             console=Console(file=sys.stderr), transient=True)
        self._bar.start()
        self._tasks: dict[str, int] = {}
        return self.report

    def report(self, label: object, done: int, total: int) -> None:
        key = str(label)
        if key not in self._tasks:
            self._tasks[key] = self._bar.add_task(f"parsing {safe(key)}", total=total)
        self._bar.update(self._tasks[key], completed=done, total=total)

    def __exit__(self, *exc) -> None:
        self._bar.stop()
