"""The index's integrity checks (claude_view_pipeline.integrity) as Dagster asset checks on
session_index.

They run after every materialization of the index, as one step (one connection; eight steps
cost seconds of run overhead); the blocking ones fail the run when the index is corrupt, and
every failure shows the offending rows in its metadata. The CLI runs the same checks."""

import dagster as dg

from assets.index import SESSION_INDEX
from assets.resources import IndexSettings
from claude_view_pipeline.dagster_events import check_result_metadata
from claude_view_pipeline.integrity import CHECKS, run_check
from claude_view_pipeline.store import connect


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(name=c.name, asset=SESSION_INDEX, description=c.description, blocking=c.blocking) for c in CHECKS],
)
def index_integrity_checks(context: dg.AssetCheckExecutionContext, index: IndexSettings):
    # the source partitions this run wrote (row checks read only their rows)
    sources = list(context.partition_keys) if context.has_partition_key or context.has_partition_key_range else []
    con = connect(index.resolved_db_path(), read_only=True)
    try:
        for check in CHECKS:
            outcome = run_check(check, con, run_id=context.run.run_id, sources=sources)
            if not outcome.passed:
                bad = 0 if outcome.failing_rows is None else len(outcome.failing_rows)
                context.log.error(f"check {check.name} failed on {bad} of {outcome.rows_checked} rows: {check.description}")
            yield dg.AssetCheckResult(asset_key=SESSION_INDEX, check_name=check.name, passed=outcome.passed,
                                      severity=dg.AssetCheckSeverity.ERROR, metadata=check_result_metadata(outcome))
    finally:
        con.close()


index_checks = [index_integrity_checks]
