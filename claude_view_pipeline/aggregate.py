"""Session counters and token totals from messages: one SQL definition
(``store/sql/session_aggregates.sql``) for the index writer and for anything that wants a
parsed file's numbers without an index (tests, tools)."""

from __future__ import annotations

from importlib import resources

import duckdb

from .parsers.base import FileParse

AGGREGATE_COLUMNS = (
    "message_count", "user_prompt_count", "api_call_count", "tool_call_count", "input_tokens",
    "cache_read_tokens", "cache_creation_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "output_tokens", "reasoning_tokens", "total_tokens",
    "agent_cost_usd", "primary_model", "model_assumed", "models", "compaction_count", "microcompaction_count", "aborted_turn_count",
    "inherited_records",
)


def aggregates_sql() -> str:
    """SELECT over relations ``sess`` and ``msgs``; one row per session in ``sess``."""
    from .sources import specs

    reasoning = "[" + ", ".join(f"'{s.name}'" for s in specs() if s.reports_reasoning) + "]::VARCHAR[]"
    sql = resources.files("claude_view_pipeline.store").joinpath("sql/session_aggregates.sql").read_text()
    return sql.replace("$reasoning_sources", reasoning)


def summarize(*results: FileParse) -> dict[str, dict]:
    """session id -> its aggregate columns, for parsed files (no index needed)."""
    from .staging import parsed_tables

    sessions, messages, _ = parsed_tables([(None, r) for r in results])
    con = duckdb.connect()
    try:
        con.register("sess", sessions)
        con.register("msgs", messages)
        rows = con.execute(aggregates_sql()).fetchall()
        cols = [d[0] for d in con.description]
    finally:
        con.close()
    out = {}
    for row in rows:
        d = dict(zip(cols, row))
        out[d.pop("session_id")] = d
    return out
