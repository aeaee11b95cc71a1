"""The sources we index, registered in one place, and the canonical session id
``<source>:<source_session_id>``.

A source is one module (its ``SPEC``, discovery and parser; see source_spec.py). The order
here is the order sources are shown and indexed in."""

from __future__ import annotations

from enum import Enum
from functools import lru_cache
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .source_spec import SourceSpec

# name -> the module that is the source
REGISTRY: dict[str, str] = {
    "claude": "claude_view_pipeline.parsers.claude",
    "codex": "claude_view_pipeline.parsers.codex",
    "gemini": "claude_view_pipeline.parsers.gemini",
    "qwen": "claude_view_pipeline.parsers.qwen",
    "copilot": "claude_view_pipeline.parsers.copilot",
    "opencode": "claude_view_pipeline.parsers.opencode",
}


class Source(str, Enum):
    """A registered source (members named after REGISTRY's keys, upper-cased)."""

    def __str__(self) -> str:  # so f-strings and logs show "codex", not "Source.CODEX"
        return self.value

    @property
    def spec(self) -> "SourceSpec":
        return module(self).SPEC


Source = Source("Source", {name.upper(): name for name in REGISTRY})  # type: ignore[misc]  # noqa: F811

ALL_SOURCES: tuple[Source, ...] = tuple(Source)
SOURCE_NAMES: tuple[str, ...] = tuple(REGISTRY)


@lru_cache(maxsize=None)
def module(source: "Source | str") -> ModuleType:
    """The source's module: its SPEC, ``find_files``, ``parse_file`` (and ``looks_like``)."""
    return import_module(REGISTRY[str(source)])


def specs() -> list["SourceSpec"]:
    return [s.spec for s in ALL_SOURCES]


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
