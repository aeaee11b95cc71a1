"""Codex CLI layout: ``sessions/YYYY/MM/DD/rollout-*.jsonl``, the flat layout of the
oldest builds, and ``archived_sessions/`` (docs/parsing-rules.md). Only ``rollout-*.jsonl``
files are sessions (``$CODEX_HOME/history.jsonl`` is not)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..sources import Source
from . import SessionFile, walk_jsonl


def _accept(dirpath: str, name: str) -> bool:
    return name.startswith("rollout-")


def find_files(root: Path) -> Iterator[SessionFile]:
    kind = "archived" if root.name == "archived_sessions" else "main"
    for path, st in walk_jsonl(root, _accept):
        yield SessionFile(Source.CODEX, path, st.st_size, st.st_mtime_ns, kind)
