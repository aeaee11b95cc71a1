"""The index's integrity checks: name, description, and the query that reads the rows each
one validates. Light to import (no pandera or polars): the pandera schemas that judge the
rows are in ``schemas.py``, imported only when there are rows to judge.

A check costs what changed, not what the index holds:
- a *row* check reads only the rows the run wrote (every row when no run is named);
- an *invariant* (uniqueness, orphans, totals that must add up) is a SQL aggregate inside
  DuckDB that returns only the offending rows, so a healthy index hands nothing to pandera.
The CLI and the Dagster asset checks run the same definitions (``run_check``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from claude_view_pipeline.sources import SOURCE_NAMES

if TYPE_CHECKING:
    import duckdb

TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens")

# In row checks, $written selects the rows the run wrote (or every row when no run is named).
WRITTEN = "$written"


@dataclass(frozen=True)
class IndexCheck:
    name: str
    description: str
    table: str  # the table it guards: rows_checked counts its rows in scope
    query: str  # the rows to validate; may use $written and $run_id
    invariant: bool = False  # whole-index rule: the query returns only the offending rows
    blocking: bool = True  # a failure means corruption: stop downstream work


_TOKENS = ", ".join(TOKEN_COLUMNS)
_PARTS_SUM = " + ".join(TOKEN_COLUMNS)

CHECKS: tuple[IndexCheck, ...] = (
    IndexCheck("sessions_source_valid",
               "Every session's source is set and is one of: " + ", ".join(SOURCE_NAMES) + ".",
               "sessions", f"SELECT id, source FROM sessions WHERE {WRITTEN}"),
    IndexCheck("sessions_source_session_id_present",
               "Every session has a source_session_id that is neither NULL nor blank.",
               "sessions", f"SELECT id, source_session_id FROM sessions WHERE {WRITTEN}"),
    IndexCheck("sessions_id_canonical",
               "Every session id equals source || ':' || source_session_id.",
               "sessions", f"SELECT id, source, source_session_id FROM sessions WHERE {WRITTEN}"),
    IndexCheck("sessions_id_unique",
               "No two sessions share an id.",
               "sessions", "SELECT id FROM sessions WHERE id IN (SELECT id FROM sessions GROUP BY id HAVING count(*) > 1)",
               invariant=True),
    IndexCheck("sessions_source_session_id_unique",
               "No two sessions share (source, source_session_id).",
               "sessions",
               "SELECT id, source, source_session_id FROM sessions WHERE (source, source_session_id) IN"
               " (SELECT (source, source_session_id) FROM sessions GROUP BY ALL HAVING count(*) > 1)",
               invariant=True),
    IndexCheck("sessions_tokens_consistent",
               "Token columns are non-negative and, where all are known, total_tokens = input + cache_read + cache_creation + output.",
               "sessions",
               f"SELECT id, {_TOKENS}, total_tokens FROM sessions"
               f" WHERE least({_TOKENS}, total_tokens) < 0 OR total_tokens <> {_PARTS_SUM}",
               invariant=True),
    IndexCheck("messages_reference_sessions",
               "Every message's session_id is a session in the index (no orphaned messages).",
               "messages",
               "SELECT m.session_id, count(*) AS messages, false AS session_exists"
               " FROM messages m ANTI JOIN sessions s ON s.id = m.session_id GROUP BY m.session_id",
               invariant=True),
    IndexCheck("partition_writes_own_source",
               "Rows this run wrote to sessions and messages belong to the source partitions it materialized.",
               "sessions",
               "SELECT 'sessions' AS tbl, id AS row_id, source FROM sessions WHERE run_id = $run_id"
               " UNION ALL SELECT 'messages', session_id || '#' || ordinal, source FROM messages WHERE run_id = $run_id"),
)
CHECKS_BY_NAME = {c.name: c for c in CHECKS}


def check_sql(check: IndexCheck, run_id: str = "") -> tuple[str, list]:
    """The check's query with its scope filled in, and its parameters."""
    sql = check.query.replace(WRITTEN, "run_id = $run_id" if run_id else "true")
    params = [run_id] * sql.count("$run_id")
    return sql.replace("$run_id", "?"), params



@dataclass
class CheckOutcome:
    passed: bool
    rows_checked: int
    failures: Any = None  # polars frame of pandera's failure cases (column, check, value, row); None when passed
    failing_rows: Any = None  # polars frame of the offending rows themselves; None when passed


def run_check(check: IndexCheck, con: "duckdb.DuckDBPyConnection", run_id: str = "", sources: list[str] | None = None) -> CheckOutcome:
    """Run one check on an index: the rows the run wrote for a row check (every row without
    a run id), only the offending rows for an invariant. Rows to judge go to the check's
    pandera schema; with none, the check passes without loading pandera or polars."""
    sql, params = check_sql(check, run_id)
    # fetchall, not fetchone: duckdb 2.0 keeps a partly fetched result open on the connection
    in_query = con.execute(f"SELECT count(*) FROM ({sql})", params).fetchall()[0][0]
    rows_checked = con.execute(f"SELECT count(*) FROM {check.table}").fetchall()[0][0] if check.invariant else in_query
    if in_query == 0:
        return CheckOutcome(True, rows_checked)
    from .schemas import validate

    outcome = validate(check, con.sql(sql, params=params or None).pl(), sources)
    outcome.rows_checked = rows_checked
    return outcome


MAX_ROWS_SHOWN = 20
MARKDOWN_KEYS = ("failing_rows_sample", "failure_cases")  # metadata values that are markdown tables


def _markdown(frame) -> str:
    cols = frame.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)


def outcome_metadata(outcome: CheckOutcome) -> dict:
    """What a check result shows: rows checked and, on failure, the offending rows (the
    values under MARKDOWN_KEYS are markdown tables)."""
    metadata: dict = {"rows_checked": outcome.rows_checked}
    if not outcome.passed:
        metadata["failing_rows"] = outcome.failing_rows.height
        metadata["failing_rows_sample"] = _markdown(outcome.failing_rows.head(MAX_ROWS_SHOWN))
        metadata["failure_cases"] = _markdown(outcome.failures.head(MAX_ROWS_SHOWN))
    return metadata
