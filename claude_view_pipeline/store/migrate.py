"""Versioned schema migrations: ``migrations/NNN_name.sql``, each applied once, in order,
inside its own transaction, and recorded in ``schema_migrations``.

Before migrating a database that already holds data, a full copy of it is written to
``<db dir>/backups/<name>.pre-v<N>-<UTC time>.duckdb`` (``claude-view-pipeline restore``
puts it back)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import duckdb

_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Bridge:
    """An index that the numbered migrations do not describe: the first release's migration
    001 lacked columns that 001 gained before the next release (it was edited in place; a
    migration that has shipped is no longer edited, tests/test_upgrades.py holds each one to
    its hash). A bridge brings such an index to the schema migration ``before`` expects; it
    runs, in that migration's transaction, only where ``table`` lacks ``column``."""

    before: int
    table: str
    column: str
    sql_file: str

    def needed(self, con: duckdb.DuckDBPyConnection) -> bool:
        return has_table(con, self.table) and not con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE table_name = ? AND column_name = ?", [self.table, self.column]).fetchone()[0]

    def sql(self) -> str:
        return resources.files(__package__).joinpath("migrations", "bridges", self.sql_file).read_text()


BRIDGES = (
    Bridge(4, "messages", "api_call", "004_first_release_messages.sql"),
    Bridge(11, "rate_limits", "at", "011_rate_limits_event_at.sql"),
)


@dataclass
class MigrationReport:
    applied: list[int] = field(default_factory=list)
    backup: Path | None = None


def available_migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration file shipped with the package."""
    out = []
    for entry in resources.files(__package__).joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            out.append((int(m.group(1)), m.group(2), entry.read_text()))
    return sorted(out)


def _ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the index has this table (an older schema may not)."""
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()[0][0] > 0


def applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    if not has_table(con, "schema_migrations"):
        return set()
    return {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}


def pending_migrations(con: duckdb.DuckDBPyConnection, target: int | None = None) -> list[tuple[int, str, str]]:
    done = applied_versions(con)
    return [m for m in available_migrations() if m[0] not in done and (target is None or m[0] <= target)]


def database_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    return Path(path) if path else None


def backup_database(con: duckdb.DuckDBPyConnection, dest: Path) -> Path:
    """A consistent full copy of the connected database into a new file ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        raise FileExistsError(f"backup target {dest} already exists")
    escaped = str(dest).replace("'", "''")
    con.execute(f"ATTACH '{escaped}' AS cvp_backup")
    try:
        con.execute(f'COPY FROM DATABASE "{con.execute("SELECT current_database()").fetchone()[0]}" TO cvp_backup')
    finally:
        con.execute("DETACH cvp_backup")
    return dest


def migrate(con: duckdb.DuckDBPyConnection, target: int | None = None) -> MigrationReport:
    """Apply pending migrations (up to ``target``); a no-op when up to date."""
    report = MigrationReport()
    pending = pending_migrations(con, target)
    if not pending:
        return report
    db_file = database_file(con)
    if applied_versions(con) and db_file is not None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        report.backup = backup_database(con, db_file.parent / "backups" / f"{db_file.stem}.pre-v{pending[0][0]:03d}-{stamp}.duckdb")
    _ensure_table(con)
    for version, name, sql in pending:
        con.execute("BEGIN TRANSACTION")
        try:
            for bridge in BRIDGES:
                if bridge.before == version and bridge.needed(con):
                    con.execute(bridge.sql())
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        report.applied.append(version)
    return report


def upgrade(db_path: Path) -> MigrationReport:
    """Bring an index file to the current schema before it is read (every command that opens
    the index does): a cheap read-only look first, the write (with a backup) only when a
    migration is pending."""
    from .db import connect

    con = connect(db_path, read_only=True)
    try:
        if not pending_migrations(con):
            return MigrationReport()
    finally:
        con.close()
    con = connect(db_path)
    try:
        return migrate(con)
    finally:
        con.close()
