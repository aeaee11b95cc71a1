"""The index's integrity checks (claude_view_pipeline.integrity) as Dagster asset checks on
session_index.

They run after every materialization of the index, as one step (one connection; eight steps
cost seconds of run overhead); the blocking ones fail the run when the index is corrupt, and
every failure shows the offending rows in its metadata. The CLI runs the same checks."""

import dagster as dg

from assets.index import partition_keys_from_tags, session_index
from assets.resources import IndexSettings
from claude_view_pipeline.integrity import CHECKS, run_check
from claude_view_pipeline.store import connect

MAX_ROWS_SHOWN = 20


def _markdown(frame) -> str:
    cols = frame.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(name=c.name, asset=session_index, description=c.description, blocking=c.blocking) for c in CHECKS],
)
def index_integrity_checks(context: dg.AssetCheckExecutionContext, index: IndexSettings):
    sources = partition_keys_from_tags(context.run.tags)
    con = connect(index.resolved_db_path(), read_only=True)
    try:
        for check in CHECKS:
            outcome = run_check(check, con, run_id=context.run.run_id, sources=sources)
            metadata: dict = {"rows_checked": outcome.rows_checked}
            if not outcome.passed:
                metadata["failing_rows"] = outcome.failing_rows.height
                metadata["failing_rows_sample"] = dg.MetadataValue.md(_markdown(outcome.failing_rows.head(MAX_ROWS_SHOWN)))
                metadata["failure_cases"] = dg.MetadataValue.md(_markdown(outcome.failures.head(MAX_ROWS_SHOWN)))
            yield dg.AssetCheckResult(asset_key=session_index.key, check_name=check.name, passed=outcome.passed,
                                      severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)
    finally:
        con.close()


index_checks = [index_integrity_checks]
