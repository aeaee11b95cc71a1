"""The integrity checks of checks/schemas.py as Dagster asset checks on session_index.

Each runs after every materialization of the index; the blocking ones fail the run when
the index is corrupt, and every failure shows the offending rows in its metadata."""

import dagster as dg

from assets.index import partition_keys_from_tags, session_index
from assets.resources import IndexSettings
from claude_view_pipeline.store import connect

from .catalog import CHECKS, IndexCheck

MAX_ROWS_SHOWN = 20


def _markdown(frame) -> str:
    cols = frame.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)


def _asset_check(check: IndexCheck) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=session_index, name=check.name, description=check.description, blocking=check.blocking)
    def _run(context: dg.AssetCheckExecutionContext, index: IndexSettings) -> dg.AssetCheckResult:
        from .schemas import run_check  # pandera loads when a check runs, not with the code location

        con = connect(index.resolved_db_path(), read_only=True)
        try:
            outcome = run_check(check, con, run_id=context.run.run_id, sources=partition_keys_from_tags(context.run.tags))
        finally:
            con.close()
        metadata: dict = {"rows_checked": outcome.rows_checked}
        if not outcome.passed:
            metadata["failing_rows"] = outcome.failing_rows.height
            metadata["failing_rows_sample"] = dg.MetadataValue.md(_markdown(outcome.failing_rows.head(MAX_ROWS_SHOWN)))
            metadata["failure_cases"] = dg.MetadataValue.md(_markdown(outcome.failures.head(MAX_ROWS_SHOWN)))
        return dg.AssetCheckResult(passed=outcome.passed, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)

    return _run


index_checks = [_asset_check(c) for c in CHECKS]
