"""Integrity checks of the index, as pandera (polars) schemas over frames read from DuckDB.

Each check is a query that yields the rows to validate and a schema they must satisfy. This
module has no Dagster import: tests and tools run the checks on any index file, and
checks/index_checks.py turns each into a Dagster asset check."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandera.errors
import pandera.polars as pa
import polars as pl

from claude_view_pipeline.sources import SOURCE_NAMES

TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens")


@dataclass(frozen=True)
class IndexCheck:
    name: str
    description: str
    query: str  # may use $run_id and $sources (the partitions the run wrote)
    schema: pa.DataFrameSchema
    blocking: bool = True  # a failure means corruption: stop downstream work


@dataclass
class CheckOutcome:
    passed: bool
    rows_checked: int
    failures: pl.DataFrame  # pandera's failure cases (column, check, failing value, row index)
    failing_rows: pl.DataFrame  # the offending rows themselves


def _frame_check(name: str, fn) -> pa.Check:
    return pa.Check(lambda data: data.lazyframe.select(fn()), name=name)


CHECKS: tuple[IndexCheck, ...] = (
    IndexCheck(
        "sessions_source_valid",
        "Every session's source is set and is one of: " + ", ".join(SOURCE_NAMES) + ".",
        "SELECT id, source FROM sessions",
        pa.DataFrameSchema({"source": pa.Column(str, pa.Check.isin(list(SOURCE_NAMES)), nullable=False)}),
    ),
    IndexCheck(
        "sessions_source_session_id_present",
        "Every session has a source_session_id that is neither NULL nor blank.",
        "SELECT id, source_session_id FROM sessions",
        pa.DataFrameSchema({
            "source_session_id": pa.Column(str, pa.Check(lambda d: d.lazyframe.select(pl.col(d.key).str.strip_chars().str.len_chars() > 0), name="not_blank"), nullable=False),
        }),
    ),
    IndexCheck(
        "sessions_id_canonical",
        "Every session id equals source || ':' || source_session_id.",
        "SELECT id, source, source_session_id FROM sessions",
        pa.DataFrameSchema(
            {"id": pa.Column(str, nullable=False)},
            checks=[_frame_check("id_equals_source_colon_source_session_id",
                                 lambda: pl.col("id") == pl.concat_str([pl.col("source"), pl.lit(":"), pl.col("source_session_id")]))],
        ),
    ),
    IndexCheck(
        "sessions_id_unique",
        "No two sessions share an id.",
        "SELECT id FROM sessions",
        pa.DataFrameSchema({"id": pa.Column(str, unique=True, nullable=False)}),
    ),
    IndexCheck(
        "sessions_source_session_id_unique",
        "No two sessions share (source, source_session_id).",
        "SELECT id, source, source_session_id FROM sessions",
        pa.DataFrameSchema({"source": pa.Column(str, nullable=True), "source_session_id": pa.Column(str, nullable=True)},
                           unique=["source", "source_session_id"]),
    ),
    IndexCheck(
        "sessions_tokens_consistent",
        "Token columns are non-negative and total_tokens = input + cache_read + cache_creation + output.",
        "SELECT id, " + ", ".join(TOKEN_COLUMNS) + ", total_tokens FROM sessions",
        pa.DataFrameSchema(
            {c: pa.Column(pl.Int64, pa.Check.ge(0), nullable=False) for c in (*TOKEN_COLUMNS, "total_tokens")},
            checks=[_frame_check("total_tokens_equals_sum_of_parts",
                                 lambda: pl.col("total_tokens") == pl.sum_horizontal([pl.col(c) for c in TOKEN_COLUMNS]))],
        ),
    ),
    IndexCheck(
        "messages_reference_sessions",
        "Every message's session_id is a session in the index (no orphaned messages).",
        "SELECT m.session_id, count(*) AS messages, bool_or(s.id IS NOT NULL) AS session_exists"
        " FROM messages m LEFT JOIN sessions s ON s.id = m.session_id GROUP BY m.session_id",
        pa.DataFrameSchema({"session_exists": pa.Column(bool, pa.Check.eq(True), nullable=False)}),
    ),
    IndexCheck(
        "partition_writes_own_source",
        "Rows this run wrote to sessions and messages belong to the source partitions it materialized.",
        "SELECT 'sessions' AS tbl, id AS row_id, source FROM sessions WHERE run_id = $run_id"
        " UNION ALL SELECT 'messages', session_id || '#' || ordinal, source FROM messages WHERE run_id = $run_id",
        pa.DataFrameSchema({"source": pa.Column(str, nullable=False)}),  # the isin check is added per run
    ),
)
CHECKS_BY_NAME = {c.name: c for c in CHECKS}


def validate(check: IndexCheck, frame: pl.DataFrame, sources: list[str] | None = None) -> CheckOutcome:
    schema = check.schema
    if check.name == "partition_writes_own_source":
        schema = schema.update_column("source", checks=[pa.Check.isin(list(sources or []))])
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as err:
        cases = err.failure_cases
        rows = sorted({i for i in cases["index"].to_list() if i is not None})
        return CheckOutcome(False, frame.height, cases, frame[rows])
    return CheckOutcome(True, frame.height, frame.head(0), frame.head(0))


def run_check(check: IndexCheck, con: duckdb.DuckDBPyConnection, run_id: str = "", sources: list[str] | None = None) -> CheckOutcome:
    """Read the check's frame from the index and validate it."""
    params = [run_id] * check.query.count("$run_id")
    frame = con.sql(check.query.replace("$run_id", "?"), params=params or None).pl()
    return validate(check, frame, sources)
