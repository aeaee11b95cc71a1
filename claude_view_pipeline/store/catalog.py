"""What the index's tables hold, read from the schema itself (the table and column comments
the migrations set), and how many rows each source has in them. The Dagster catalog and
the docs test read it here, so there is one description of every column."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import duckdb

from .db import connect
from .migrate import migrate

# the tables an index run writes, each partitioned by its `source` column
INDEX_TABLES = ("sessions", "messages", "indexed_files", "index_metrics", "rate_limits")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str | None
    nullable: bool


@dataclass(frozen=True)
class Table:
    name: str
    description: str | None
    columns: tuple[Column, ...]


@cache
def index_schema() -> dict[str, Table]:
    """Every table as the current schema version defines it (built in memory, not read from
    a user's index, which may be older until its next run migrates it)."""
    con = duckdb.connect()
    try:
        migrate(con)
        tables = con.execute("SELECT table_name, comment FROM duckdb_tables() ORDER BY table_name").fetchall()
        columns = con.execute(
            "SELECT table_name, column_name, data_type, comment, is_nullable FROM duckdb_columns() ORDER BY table_name, column_index"
        ).fetchall()
    finally:
        con.close()
    return {
        name: Table(name, comment, tuple(Column(c, t, d, nullable) for tn, c, t, d, nullable in columns if tn == name))
        for name, comment in tables
    }


def rows_per_source(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    if table not in INDEX_TABLES:
        raise ValueError(f"not an index table: {table}")
    return dict(con.execute(f"SELECT source, count(*) FROM {table} GROUP BY source ORDER BY source").fetchall())


def table_row_counts(db_path) -> dict[str, dict[str, int]]:
    """Rows per source of every index table, as committed."""
    con = connect(db_path, read_only=True)
    try:
        return {table: rows_per_source(con, table) for table in INDEX_TABLES}
    finally:
        con.close()


def row_count_metadata(counts: dict[str, int], written: list[str]) -> dict:
    """A table's row count for the catalog (Dagster's metadata keys), and the partition's when
    a run wrote one source (a run of several sources gives each source's rows by name)."""
    metadata: dict = {"dagster/row_count": sum(counts.values())}
    if len(written) == 1:
        metadata["dagster/partition_row_count"] = counts.get(written[0], 0)
    else:
        metadata.update({f"{source}/rows": counts.get(source, 0) for source in written})
    return metadata
