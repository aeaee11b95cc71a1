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
    """How many lines of a file were its source's own, and how many another source's."""

    __slots__ = ("own", "foreign")

    def __init__(self) -> None:
        self.own = 0
        self.foreign = 0


def own_lines(path: str, result, source: Source, counts: LineCounts, accept=None):
    """The JSON lines of ``path`` that ``source`` wrote, as (line_no, line): those that look like
    its own, and those no source claims that ``accept(line)`` takes. The rest are counted into
    ``result`` (``foreign:<type>`` for another source's, ``line:<type>`` for unrecognised ones)
    and skipped; when the first recognisable line is another source's, the file is rejected as
    ``source_mismatch`` and nothing is yielded: a file is never parsed by the wrong parser."""
    for line_no, line in iter_json_lines(path, result):
        seen_as = sniff_line(line)
        if seen_as is not source and not (seen_as is None and accept is not None and accept(line)):
            kind = line.get("type") if isinstance(line.get("type"), str) else None
            if seen_as is not None:
                counts.foreign += 1
                if counts.own == 0:
                    result.rejection = REJECT_SOURCE_MISMATCH
                    result.detail = f"first recognisable line is a {seen_as.value} line (line {line_no})"
                    return
            result.unknown_types[f"{'line' if seen_as is None else 'foreign'}:{kind}"] += 1
            result.lines_skipped += 1
            continue
        counts.own += 1
        yield line_no, line
        line = None  # not held while the next line is read (a long line's text)


def rejected_without_own_lines(result, counts: LineCounts, what: str) -> bool:
    """Whether the file had none of its source's lines, and so is rejected: as another source's
    (``source_mismatch``, set when that line was read), as lines none of which is a session
    record (``not_a_session_log``), or as ``empty``."""
    if counts.own:
        return False
    if result.rejection is None:
        if result.lines_malformed or result.unknown_types:
            result.rejection = REJECT_NOT_A_SESSION_LOG
            result.detail = f"{result.lines_malformed} malformed line(s), no {what}"
        else:
            result.rejection = REJECT_EMPTY
    return True
