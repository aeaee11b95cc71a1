"""Pass 1: find each source's session files and fingerprint them (path, size, mtime_ns).

Each source's module decides which files belong to it (``find_files``); this module holds
the shared walk and the record type. Discovery only stats files, it never opens them.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..paths import text_path
from ..sources import Source


@dataclass(frozen=True, slots=True)
class SessionFile:
    source: Source
    path: str
    size: int
    mtime_ns: int
    # "main", "subagent" (a subagent's transcript) or "archived" (an archived copy), as its
    # source's discovery says
    kind: str = "main"

    @property
    def fingerprint(self) -> tuple[int, int]:
        return (self.size, self.mtime_ns)


def walk_files(root: Path, accept: Callable[[str, str], bool]) -> Iterable[tuple[str, os.stat_result]]:
    """Yield (path, stat) for regular files under root whose (dirpath, name) is accepted,
    each path as the index stores it (paths.text_path: a name that is not UTF-8 escaped).

    A missing root yields nothing: not having Codex installed is not an error. Unreadable
    sub-directories are skipped (their files cannot be indexed anyway); symlinked
    directories are not followed, so a loop cannot hang discovery.
    """
    stack = [str(root)]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as it:
                entries = list(it)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif accept(current, entry.name):
                    try:
                        st = entry.stat()
                    except OSError:
                        # a dangling link: listed, so pass 2 counts it as an io_error
                        yield text_path(entry.path), entry.stat(follow_symlinks=False)
                        continue
                    if not _is_regular(st):
                        continue
                    yield text_path(entry.path), st
            except OSError:
                continue


def _is_regular(st: os.stat_result) -> bool:
    return stat.S_ISREG(st.st_mode)


def fingerprint_digest(files: list[SessionFile]) -> str:
    """One short digest of every file's (path, size, mtime_ns): it changes when a file
    appears, grows, is rewritten or goes away. Sensors keep it as their cursor."""
    import hashlib

    h = hashlib.sha1()
    for f in files:
        h.update(f"{f.path}\0{f.size}\0{f.mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def discover(source: Source, roots: list[Path]) -> list[SessionFile]:
    """All session files of one source under its roots, sorted by path (deterministic)."""
    from ..sources import module

    find_files = module(source).find_files
    files: dict[str, SessionFile] = {}
    for root in roots:
        for f in find_files(root):
            files.setdefault(f.path, f)
    return [files[p] for p in sorted(files)]
