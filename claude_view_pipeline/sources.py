"""The sources we index and the canonical session id ``<source>:<source_session_id>``."""

from __future__ import annotations

from enum import Enum


class Source(str, Enum):
    CLAUDE = "claude"
    CODEX = "codex"

    def __str__(self) -> str:  # so f-strings and logs show "codex", not "Source.CODEX"
        return self.value


ALL_SOURCES: tuple[Source, ...] = (Source.CLAUDE, Source.CODEX)
SOURCE_NAMES: tuple[str, ...] = tuple(s.value for s in ALL_SOURCES)


class UnknownSourceError(ValueError):
    """A source name that is not one of SOURCE_NAMES."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(
            f"unknown source {name!r}; valid sources are: {', '.join(SOURCE_NAMES)}"
        )


def parse_source(name: str) -> Source:
    try:
        return Source(name.strip().lower())
    except ValueError:
        raise UnknownSourceError(name) from None


def parse_sources(spec: str | list[str] | tuple[str, ...] | None) -> list[Source] | None:
    """Parse ``claude,codex`` (or a list of names) into sources in canonical order.

    ``None`` means "not given" and is returned as ``None`` so callers can apply their
    default (every enabled source). An empty selection is an error, not "all".
    """
    if spec is None:
        return None
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise UnknownSourceError("")
    chosen = {parse_source(n) for n in names}
    return [s for s in ALL_SOURCES if s in chosen]


def canonical_id(source: Source | str, source_session_id: str) -> str:
    src = source if isinstance(source, Source) else parse_source(source)
    if source_session_id is None or not str(source_session_id).strip():
        raise ValueError(f"empty source_session_id for source {src.value!r}")
    return f"{src.value}:{source_session_id}"


def split_canonical_id(session_id: str) -> tuple[Source, str]:
    """Inverse of canonical_id. Only the first ':' separates (ids may contain ':')."""
    head, sep, tail = (session_id or "").partition(":")
    if not sep:
        raise ValueError(f"not a canonical session id (no source prefix): {session_id!r}")
    src = parse_source(head)
    if not tail.strip():
        raise ValueError(f"empty source_session_id in {session_id!r}")
    return src, tail
