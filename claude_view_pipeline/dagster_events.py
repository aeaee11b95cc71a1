"""Recording a CLI index run in a Dagster instance (``$DAGSTER_HOME``), so the UI shows what
the command line did: one materialization per asset (the tables with their row counts) and
source partition, the integrity
check results, the daily_usage refresh and the search index, as runless events (Dagster records asset events
made outside a run).

The one core module that imports Dagster, and only when called: the CLI imports it when
DAGSTER_HOME is set and the run changed something.
"""

from __future__ import annotations

from .indexing import IndexRun
from .integrity import MARKDOWN_KEYS, CheckOutcome, outcome_metadata
from .store.catalog import row_count_metadata, table_row_counts

TRIGGER_TAG = "claude_view/trigger"


def check_result_metadata(outcome: CheckOutcome) -> dict:
    """A check outcome's metadata with its tables as Dagster markdown (asset checks use it too)."""
    import dagster as dg

    return {k: dg.MetadataValue.md(v) if k in MARKDOWN_KEYS else v for k, v in outcome_metadata(outcome).items()}


def record_run(run: IndexRun) -> None:
    import dagster as dg

    tags = {TRIGGER_TAG: "cli", "claude_view/run_id": run.run_id}
    with dg.DagsterInstance.get() as instance:
        for source, r in run.sources.items():
            for key, metadata in (("session_files", r.discovery.as_metadata()),
                                  ("parsed_sessions", r.parse.as_metadata()),
                                  ("session_index", r.index.as_metadata())):
                instance.report_runless_asset_event(
                    dg.AssetMaterialization(asset_key=key, partition=source.value, metadata=metadata, tags=tags))
        written = [s.value for s in run.sources]
        for table, counts in table_row_counts(run.db_path).items():
            for source in written:
                instance.report_runless_asset_event(dg.AssetMaterialization(
                    asset_key=table, partition=source, metadata=row_count_metadata(counts, [source]), tags=tags))
        for name, outcome in run.checks.items():
            instance.report_runless_asset_event(dg.AssetCheckEvaluation(
                asset_key=dg.AssetKey("session_index"), check_name=name, passed=outcome.passed,
                metadata=check_result_metadata(outcome), severity=dg.AssetCheckSeverity.ERROR))
        if run.daily_usage_rows is not None:
            instance.report_runless_asset_event(
                dg.AssetMaterialization(asset_key="daily_usage", metadata={"dagster/row_count": run.daily_usage_rows}, tags=tags))
        if run.search_index is not None:  # the run kept the search index current: the asset need not run again
            report = run.search_index
            for source in written:
                instance.report_runless_asset_event(dg.AssetMaterialization(
                    asset_key="search_index", partition=source, tags=tags,
                    metadata={"dagster/row_count": report["documents"], "sessions_written": report["sessions_written"],
                              "documents_written": report["documents_written"], "rebuilt": report["rebuilt"]}))
