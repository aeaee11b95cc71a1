"""The index's integrity checks (claude_view_pipeline.integrity) as Dagster asset checks on
session_index, and the warning when Codex's plan window is nearly full (on rate_limits).

They run after every materialization of the index, as one step (one connection; eight steps
cost seconds of run overhead); the blocking ones fail the run when the index is corrupt, and
every failure shows the offending rows in its metadata. The CLI runs the same checks."""

import dagster as dg

from claude_view_pipeline.config import rate_limit_warn_percent
from claude_view_pipeline.dagster_events import check_result_metadata
from claude_view_pipeline.integrity import CHECKS, run_check
from claude_view_pipeline.limits import active_primary_window
from claude_view_pipeline.store import connect
from orchestration.keys import SESSION_INDEX
from orchestration.resources import IndexSettings


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


@dg.asset_check(
    asset="rate_limits",
    blocking=False,
    description=(
        "Warns while the active Codex primary (short) plan window is fuller than "
        "CLAUDE_VIEW_RATE_LIMIT_WARN_PERCENT (default 90)."
    ),
)
def codex_primary_window_has_room(index: IndexSettings) -> dg.AssetCheckResult:
    threshold = rate_limit_warn_percent()
    active = active_primary_window(index.resolved_db_path())
    metadata = {"threshold_percent": threshold}
    if active is None:
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN,
                                   metadata={**metadata, "active_window": "none (no report, or the window has reset)"})
    return dg.AssetCheckResult(
        passed=active["used_percent"] <= threshold,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={**metadata, "used_percent": active["used_percent"], "resets_at": active["resets_at"],
                  "reported_at": active["reported_at"]},
    )


index_checks = [index_integrity_checks, codex_primary_window_has_room]
