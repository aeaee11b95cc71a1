"""Asset checks on the indexed tables, run after each session_index materialization."""


import dagster as dg
import pandera.errors
import polars as pl

from assets.index import session_index
from assets.resources import IndexSettings
from claude_view_pipeline.store import connect

from .schemas import sessions_identity_schema


@dg.asset_check(
    asset=session_index,
    blocking=True,
    description=(
        "Source identity of every session row (pandera): source in {claude, codex}; "
        "source_session_id non-empty; id = source || ':' || source_session_id; id and "
        "(source, source_session_id) unique; token columns non-negative and total_tokens = "
        "input + cache_read + cache_creation + output. A failure means the index is corrupt."
    ),
)
def sessions_identity(index: IndexSettings) -> dg.AssetCheckResult:
    con = connect(index.resolved_db_path(), read_only=True)
    try:
        frame = con.sql(
            "SELECT id, source, source_session_id, input_tokens, cache_read_tokens, cache_creation_tokens,"
            " output_tokens, total_tokens FROM sessions"
        ).pl()
    finally:
        con.close()
    try:
        sessions_identity_schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as err:
        failures = err.failure_cases
        return dg.AssetCheckResult(
            passed=False,
            metadata={
                "rows_checked": frame.height,
                "failure_count": failures.height,
                "failing_cases": dg.MetadataValue.md(_markdown(failures.head(20))),
            },
        )
    return dg.AssetCheckResult(passed=True, metadata={"rows_checked": frame.height})


def _markdown(frame: pl.DataFrame) -> str:
    cols = frame.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)


index_checks = [sessions_identity]
