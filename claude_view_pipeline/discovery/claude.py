"""Claude Code layout: ``projects/<encoded-cwd>/<session>.jsonl`` plus subagent transcripts,
old style ``projects/<enc>/agent-<id>.jsonl`` and new style
``projects/<enc>/<session>/subagents/agent-<id>.jsonl`` (docs/parsing-rules.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from ..sources import Source
from . import SessionFile, walk_jsonl


def _accept(dirpath: str, name: str) -> bool:
    return True  # every *.jsonl under projects/ is a candidate; content decides the rest


def find_files(root: Path) -> Iterator[SessionFile]:
    for path, st in walk_jsonl(root, _accept):
        kind = "subagent" if os.path.basename(path).startswith("agent-") else "main"
        yield SessionFile(Source.CLAUDE, path, st.st_size, st.st_mtime_ns, kind)
