"""What the index writes is readable by its owner only. The session logs it reads are
private (Claude Code and Codex keep them 0600 in 0700 directories); the index, its
backups, the staging hand-off and the metrics file carry the same prompts and names, so
they are created 0600 (directories 0700) whatever the user's umask, and files an older
release created more open are tightened when they are next opened for writing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

OWNER_ONLY_UMASK = 0o077


def owner_only_umask() -> None:
    """From now on, this process creates files 0600 and directories 0700 at most (DuckDB
    creates its files itself, so the umask is what governs them). Never loosens a umask."""
    os.umask(os.umask(OWNER_ONLY_UMASK) | OWNER_ONLY_UMASK)


def tighten(path: Path, directory: bool = False) -> None:
    """Remove group and other access from a file or directory of ours, if it exists."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if st.st_uid == os.getuid() and st.st_mode & 0o077:
        os.chmod(path, stat.S_IMODE(st.st_mode) & (0o700 if directory else 0o600))


def tighten_index(db_path: Path) -> None:
    """The index file, its write-ahead log, and the directories we keep beside it."""
    db_path = Path(db_path)
    tighten(db_path)
    tighten(Path(f"{db_path}.wal"))
    tighten(Path(f"{db_path}.staging"), directory=True)
    tighten(db_path.parent / "backups", directory=True)
