"""The index's integrity checks: name, description, the rows each one guards, and the SQL
that narrows those rows to the ones breaking its rule. Light to import (no pandera or
polars): the pandera schemas that declare and judge each rule are in ``schemas.py``,
imported only when a run wrote rows or a check has offending rows to judge.

A check costs what changed, not what the index holds:
- a *row* check guards the rows the run wrote (every row when no run is named), and its
  pandera schema judges every one of them (in batches, so a huge run stays in bounded
  memory): pandera decides, not a SQL filter in front of it;
- an *invariant* (uniqueness, orphans, totals that must add up) is a SQL aggregate inside
  DuckDB over the whole index, and pandera judges the rows it finds;
- a run that wrote nothing (a no-op) judges nothing and never loads pandera or polars.
A test holds each SQL rule equal to its pandera schema on the rows it guards. The CLI and
the Dagster asset checks run the same definitions (``run_check``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from claude_view_pipeline.sources import SOURCE_NAMES

if TYPE_CHECKING:
    import duckdb

TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens")

# $written: the rows the run wrote (every row when no run is named); $run_id: the run;
# $sources: the source partitions the run materialized
WRITTEN = "$written"


@dataclass(frozen=True)
class IndexCheck:
    name: str
    description: str
    rows: str  # the rows it guards, as a query
    offending: str  # the same rows, narrowed to those that break the rule
    blocking: bool = True  # a failure means corruption: stop downstream work

    @property
    def judges_every_row(self) -> bool:
        """A row check: pandera judges every row the run wrote (its rows are the run's)."""
        return WRITTEN in self.rows or "$run_id" in self.rows


_TOKENS = ", ".join(TOKEN_COLUMNS)
_PARTS_SUM = " + ".join(TOKEN_COLUMNS)
_SOURCES = "[" + ", ".join(f"'{s}'" for s in SOURCE_NAMES) + "]"
_WRITTEN_ROWS = ("SELECT 'sessions' AS tbl, id AS row_id, source FROM sessions WHERE run_id = $run_id"
                 " UNION ALL SELECT 'messages', session_id || '#' || ordinal, source FROM messages WHERE run_id = $run_id")
_ORPHANS = ("SELECT m.session_id, count(*) AS messages, bool_or(s.id IS NOT NULL) AS session_exists"
            " FROM messages m LEFT JOIN sessions s ON s.id = m.session_id GROUP BY m.session_id")

CHECKS: tuple[IndexCheck, ...] = (
    IndexCheck("sessions_source_valid",
               "Every session's source is set and is one of: " + ", ".join(SOURCE_NAMES) + ".",
               f"SELECT id, source FROM sessions WHERE {WRITTEN}",
               f"SELECT id, source FROM sessions WHERE {WRITTEN} AND NOT coalesce(list_contains({_SOURCES}, source), false)"),
    IndexCheck("sessions_source_session_id_present",
               "Every session has a source_session_id that is neither NULL nor blank.",
               f"SELECT id, source_session_id FROM sessions WHERE {WRITTEN}",
               f"SELECT id, source_session_id FROM sessions WHERE {WRITTEN}"
               " AND (source_session_id IS NULL OR regexp_matches(source_session_id, '^\\s*$'))"),
    IndexCheck("sessions_id_canonical",
               "Every session id equals source || ':' || source_session_id.",
               f"SELECT id, source, source_session_id FROM sessions WHERE {WRITTEN}",
               f"SELECT id, source, source_session_id FROM sessions WHERE {WRITTEN}"
               " AND (id IS NULL OR id IS DISTINCT FROM source || ':' || source_session_id)"),
    IndexCheck("sessions_id_unique",
               "No two sessions share an id.",
               "SELECT id FROM sessions",
               "SELECT id FROM sessions WHERE id IN (SELECT id FROM sessions GROUP BY id HAVING count(*) > 1)"),
    IndexCheck("sessions_source_session_id_unique",
               "No two sessions share (source, source_session_id).",
               "SELECT id, source, source_session_id FROM sessions",
               "SELECT id, source, source_session_id FROM sessions WHERE (source, source_session_id) IN"
               " (SELECT (source, source_session_id) FROM sessions GROUP BY ALL HAVING count(*) > 1)"),
    IndexCheck("sessions_tokens_consistent",
               "Token columns are non-negative and, where all are known, total_tokens = input + cache_read + cache_creation + output.",
               f"SELECT id, {_TOKENS}, total_tokens FROM sessions",
               f"SELECT id, {_TOKENS}, total_tokens FROM sessions"
               f" WHERE least({_TOKENS}, total_tokens) < 0 OR total_tokens <> {_PARTS_SUM}"),
    IndexCheck("messages_reference_sessions",
               "Every message's session_id is a session in the index (no orphaned messages).",
               _ORPHANS,
               f"SELECT * FROM ({_ORPHANS}) WHERE NOT session_exists"),
    IndexCheck("partition_writes_own_source",
               "Rows this run wrote to sessions and messages belong to the source partitions it materialized.",
               _WRITTEN_ROWS,
               f"SELECT * FROM ({_WRITTEN_ROWS}) WHERE NOT coalesce(list_contains($sources, source), false)"),
)
CHECKS_BY_NAME = {c.name: c for c in CHECKS}


def check_sql(query: str, run_id: str = "", sources: list[str] | None = None) -> tuple[str, list]:
    """A check's query with its scope filled in, and its parameters (in order)."""
    sql = query.replace(WRITTEN, "run_id = $run_id" if run_id else "true")
    values = {"run_id": run_id, "sources": list(sources or [])}
    params = [values[name] for name in re.findall(r"\$(run_id|sources)", sql)]
    return sql.replace("$run_id", "?").replace("$sources", "?::VARCHAR[]"), params


@dataclass
class CheckOutcome:
    passed: bool
    rows_checked: int
    failures: Any = None  # polars frame of pandera's failure cases (column, check, value, row); None when passed
    failing_rows: Any = None  # polars frame of the offending rows themselves; None when passed


BATCH_ROWS = 100_000  # rows handed to pandera at a time


def run_check(check: IndexCheck, con: "duckdb.DuckDBPyConnection", run_id: str = "", sources: list[str] | None = None) -> CheckOutcome:
    """Run one check on an index: pandera judges every row a row check guards (the rows the
    run wrote), and the rows DuckDB finds breaking an invariant."""
    rows, rows_params = check_sql(check.rows, run_id, sources)
    offending, params = check_sql(check.offending, run_id, sources)
    # fetchall, not fetchone: duckdb 2.0 keeps a partly fetched result open on the connection
    rows_checked = con.execute(f"SELECT count(*) FROM ({rows})", rows_params).fetchall()[0][0]
    judged, judged_params = (rows, rows_params) if check.judges_every_row else (offending, params)
    if check.judges_every_row and rows_checked == 0 or not check.judges_every_row and \
            con.execute(f"SELECT count(*) FROM ({offending})", params).fetchall()[0][0] == 0:
        return CheckOutcome(True, rows_checked)
    from .schemas import validate_batches

    outcome = validate_batches(check, con.sql(judged, params=judged_params).to_arrow_reader(BATCH_ROWS), sources)
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
