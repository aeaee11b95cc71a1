"""Which source a JSON line looks like it was written by, from its shape alone: each source's
``looks_like``, the sources whose lines also look like another's (``sniff_first``) asked first.

Used to confirm that a file under a source's root really is that source's log, so a file of
one agent dropped under another's root is rejected, never parsed by the wrong parser."""

from __future__ import annotations

from functools import lru_cache

from ..sources import ALL_SOURCES, Source, module
from .base import REJECT_EMPTY, REJECT_NOT_A_SESSION_LOG, REJECT_SOURCE_MISMATCH, iter_json_lines


@lru_cache(maxsize=1)
def _order() -> tuple[tuple[Source, object], ...]:
    line_sources = [s for s in ALL_SOURCES if hasattr(module(s), "looks_like")]
    ordered = sorted(line_sources, key=lambda s: not s.spec.sniff_first)  # stable: registry order within
    return tuple((s, module(s).looks_like) for s in ordered)


def sniff_line(obj: dict) -> Source | None:
    for source, looks_like in _order():
        if looks_like(obj):
            return source
    return None


class LineCounts:
    """How many lines of a file were its source's own, and the other source whose line came
    first, if one did (then the file is not this source's)."""

    __slots__ = ("own", "first_foreign")

    def __init__(self) -> None:
        self.own = 0
        self.first_foreign: tuple[Source, int] | None = None  # (source, line number)


def own_lines(path: str, result, source: Source, counts: LineCounts, accept=None):
    """The JSON lines of ``path`` that ``source`` wrote, as (line_no, line): those that look like
    its own, and those no source claims that ``accept(line)`` takes. The rest are counted into
    ``result`` (``foreign:<type>`` for another source's, ``line:<type>`` for unrecognised ones)
    and skipped; when the first recognisable line is another source's, reading stops there
    (``counts.first_foreign``) and nothing is yielded: a file is never parsed by the wrong
    parser."""
    for line_no, line in iter_json_lines(path, result):
        seen_as = sniff_line(line)
        if seen_as is not source and not (seen_as is None and accept is not None and accept(line)):
            if seen_as is not None and counts.own == 0:
                counts.first_foreign = (seen_as, line_no)
                return
            kind = line.get("type") if isinstance(line.get("type"), str) else None
            result.unknown_types[f"{'line' if seen_as is None else 'foreign'}:{kind}"] += 1
            result.lines_skipped += 1
            continue
        counts.own += 1
        yield line_no, line
        line = None  # not held while the next line is read (a long line's text)


def rejected_without_own_lines(result, counts: LineCounts, what: str) -> bool:
    """Whether the file had none of its source's lines, and so is rejected (unless something
    else rejected it already): as another source's (``source_mismatch``), or as in
    ``reject_unrecognised``."""
    if counts.own:
        return False
    if result.rejection is None:
        if counts.first_foreign is not None:
            other, line_no = counts.first_foreign
            result.rejection = REJECT_SOURCE_MISMATCH
            result.detail = f"first recognisable line is a {other.value} line (line {line_no})"
        else:
            reject_unrecognised(result, what)
    return True


def reject_unrecognised(result, what: str) -> None:
    """A file with no record of its source and none of another's: ``not_a_session_log`` when
    it had lines (malformed or unrecognised ones), else ``empty``."""
    if result.lines_malformed or result.unknown_types:
        result.rejection = REJECT_NOT_A_SESSION_LOG
        result.detail = f"{result.lines_malformed} malformed line(s), no {what}"
    else:
        result.rejection = REJECT_EMPTY
