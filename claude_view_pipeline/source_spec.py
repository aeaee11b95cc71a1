"""What a source is: one module per agent (``parsers/<name>.py``) holds its ``SPEC``, its
discovery and its parser; ``sources.py`` lists the modules, in one place. Everything else
(settings, the CLI's flags, Dagster's partitions and sensors, checks, usage, the team store,
metrics, the verification report) follows from the list; adding an agent is a module and a
fixture folder.

Kept free of heavy imports: the CLI reads every source's settings on each call."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

Roots = Callable[[Mapping[str, str]], list[Path]]


@dataclass(frozen=True)
class SourceSpec:
    """A source's definition. Its module also defines ``find_files(root)`` (discovery: the
    session files under one root), ``parse_file(path, sink=None)`` (the parser) and, for a
    source whose files are JSON lines, ``looks_like(line)`` (is this line one of ours)."""

    name: str  # the source's id: partition key, `source` column, canonical id prefix
    label: str  # the agent's name, for people
    roots: Roots  # the directories it is read from, by default and from its settings
    settings: tuple[str, ...]  # the environment variables `roots` reads, for docs and messages
    roots_for_dir: Callable[[Path], list[Path]] = lambda d: [d]  # roots for a directory given explicitly
    provider: str | None = None  # genai-prices provider its calls are priced under when they record none
    reports_reasoning: bool = False  # its logs say how much of the output was reasoning (else NULL)
    plan_blocks: bool = False  # its plans limit use by 5-hour blocks (usage blocks, the windows chart)
    colour: str = "#888888"  # in charts
    # the session id a file is named by, where a file names one (the verification report's
    # session-id match); None for a file that holds many sessions
    id_from_path: Callable[[str], str | None] = lambda path: Path(path).stem
    sniff_first: bool = False  # its lines also look like another source's: asked before the others
    # where a corpus (the demo, the synthetic benchmark corpus) keeps this source's sessions,
    # under <corpus>/<name>/: the directory a user would point --<name>-dir at
    corpus_dir: str = "sessions"

    @property
    def enable_flag(self) -> str:
        return f"ENABLE_{self.name.upper()}_SOURCE"

    @property
    def dir_flag(self) -> str:
        return f"--{self.name}-dir"


def home() -> Path:
    return Path.home()


def env_dir(env: Mapping[str, str], name: str) -> Path | None:
    """A directory setting (``~`` expanded), or None when unset or empty."""
    value = env.get(name, "").strip()
    return Path(value).expanduser() if value else None


def dedupe(paths: list[Path]) -> list[Path]:
    """The same directory named twice (a symlink, a repeated setting) is scanned once."""
    seen: set[str] = set()
    out: list[Path] = []
    for p in paths:
        key = os.path.realpath(p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
