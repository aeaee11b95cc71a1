"""Looking after the index file: `migrate`, `backup`, `restore`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..output import safe
from .common import db_path, fail, options


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("migrate", parents=[options(db=True)],
                   help="apply pending schema migrations (backing the index up first)").set_defaults(run=cmd_migrate)
    bk = sub.add_parser("backup", parents=[options(db=True)], help="write a consistent copy of the index")
    bk.add_argument("--to", type=Path, help="backup file to create (default: <db dir>/backups/<name>.manual-<time>.duckdb)")
    bk.set_defaults(run=cmd_backup)
    rs = sub.add_parser("restore", parents=[options(db=True)], help="put a backup in place of the index (the replaced file is kept)")
    rs.add_argument("backup", type=Path, help="a backup file (e.g. one the migration runner took)")
    rs.set_defaults(run=cmd_restore)


def cmd_migrate(args: argparse.Namespace) -> int:
    from ..store import connect, migrate

    db = db_path(args)
    con = connect(db)
    try:
        report = migrate(con)
    finally:
        con.close()
    if not report.applied:
        print(f"{safe(db)}: schema up to date")
    else:
        print(f"{safe(db)}: applied migration(s) {', '.join(f'{v:03d}' for v in report.applied)}")
    if report.backup:
        print(f"backup of the previous schema: {safe(report.backup)}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from ..store.backup import backup, describe

    db = db_path(args)
    try:
        dest = backup(db, args.to)
    except (FileNotFoundError, FileExistsError) as exc:
        return fail(str(exc))
    info = describe(dest)
    print(f"backup of {safe(db)} written to {safe(dest)} (schema v{max(info['schema_versions'], default=0)}, "
          f"sessions {info['sessions_by_source']})")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from ..store.backup import describe, restore

    db = db_path(args)
    try:
        info = describe(args.backup)
        kept = restore(args.backup, db)
    except (FileNotFoundError, ValueError) as exc:
        return fail(str(exc))
    print(f"restored {safe(args.backup)} to {safe(db)} (schema v{max(info['schema_versions'], default=0)}, "
          f"sessions {info['sessions_by_source']})")
    if kept:
        print(f"the replaced index is kept at {safe(kept)}")
    return 0
