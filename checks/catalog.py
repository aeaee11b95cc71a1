"""What the index's integrity checks are: name, description, and the query that reads the
rows each one validates. Light to import (no pandera or polars), so the Dagster code
location loads fast; the pandera schemas that do the validating are in schemas.py."""

from __future__ import annotations

from dataclasses import dataclass

from claude_view_pipeline.sources import SOURCE_NAMES

TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens")


@dataclass(frozen=True)
class IndexCheck:
    name: str
    description: str
    query: str  # may use $run_id (the run that wrote)
    blocking: bool = True  # a failure means corruption: stop downstream work


CHECKS: tuple[IndexCheck, ...] = (
    IndexCheck("sessions_source_valid",
               "Every session's source is set and is one of: " + ", ".join(SOURCE_NAMES) + ".",
               "SELECT id, source FROM sessions"),
    IndexCheck("sessions_source_session_id_present",
               "Every session has a source_session_id that is neither NULL nor blank.",
               "SELECT id, source_session_id FROM sessions"),
    IndexCheck("sessions_id_canonical",
               "Every session id equals source || ':' || source_session_id.",
               "SELECT id, source, source_session_id FROM sessions"),
    IndexCheck("sessions_id_unique",
               "No two sessions share an id.",
               "SELECT id FROM sessions"),
    IndexCheck("sessions_source_session_id_unique",
               "No two sessions share (source, source_session_id).",
               "SELECT id, source, source_session_id FROM sessions"),
    IndexCheck("sessions_tokens_consistent",
               "Token columns are non-negative and, where all are known, total_tokens = input + cache_read + cache_creation + output.",
               "SELECT id, " + ", ".join(TOKEN_COLUMNS) + ", total_tokens FROM sessions"),
    IndexCheck("messages_reference_sessions",
               "Every message's session_id is a session in the index (no orphaned messages).",
               "SELECT m.session_id, count(*) AS messages, bool_or(s.id IS NOT NULL) AS session_exists"
               " FROM messages m LEFT JOIN sessions s ON s.id = m.session_id GROUP BY m.session_id"),
    IndexCheck("partition_writes_own_source",
               "Rows this run wrote to sessions and messages belong to the source partitions it materialized.",
               "SELECT 'sessions' AS tbl, id AS row_id, source FROM sessions WHERE run_id = $run_id"
               " UNION ALL SELECT 'messages', session_id || '#' || ordinal, source FROM messages WHERE run_id = $run_id"),
)
CHECKS_BY_NAME = {c.name: c for c in CHECKS}
