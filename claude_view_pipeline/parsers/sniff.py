"""Which source a JSON line looks like it was written by, from its shape alone: each source's
``looks_like``, the sources whose lines also look like another's (``sniff_first``) asked first.

Used to confirm that a file under a source's root really is that source's log, so a file of
one agent dropped under another's root is rejected, never parsed by the wrong parser."""

from __future__ import annotations

from functools import lru_cache

from ..sources import ALL_SOURCES, Source, module


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
