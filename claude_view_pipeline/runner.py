"""Running the Dagster index job in process for the CLI.

This is the one core module that touches Dagster, and only when called (the CLI imports
it lazily): it hands the chosen source partitions to the same job the UI launches.
"""

from __future__ import annotations

import os
from pathlib import Path

from .report import run_summary
from .sources import ALL_SOURCES, Source


def _partition_tags(sources: list[Source]) -> tuple[str | None, dict[str, str]]:
    ordered = [s for s in ALL_SOURCES if s in sources]
    if len(ordered) == 1:
        return ordered[0].value, {}
    # a contiguous range of the static partitions: one run, one DuckDB writer
    return None, {
        "dagster/asset_partition_range_start": ordered[0].value,
        "dagster/asset_partition_range_end": ordered[-1].value,
    }


def run_index_job(
    sources: list[Source],
    db_path: Path,
    claude_dir: Path | None = None,
    codex_dir: Path | None = None,
    full: bool = False,
    show_progress: bool = False,
) -> dict:
    import dagster as dg

    from assets.definitions import defs

    resource_config: dict = {"db_path": str(db_path), "show_progress": show_progress}
    if claude_dir:
        resource_config["claude_dir"] = str(claude_dir)
    if codex_dir:
        resource_config["codex_dir"] = str(codex_dir)
    run_config = {
        "ops": {"parsed_sessions": {"config": {"full_reindex": full}}},
        "resources": {"index": {"config": resource_config}},
        "loggers": {"console": {"config": {"log_level": os.environ.get("CLAUDE_VIEW_DAGSTER_LOG_LEVEL", "ERROR")}}},
    }
    partition_key, tags = _partition_tags(sources)
    # With DAGSTER_HOME set, CLI runs are recorded where `dagster dev` shows them.
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("index_sessions")
    with instance:
        result = job.execute_in_process(
            run_config=run_config, instance=instance, partition_key=partition_key, tags=tags, raise_on_error=False
        )
    error = None
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        error = "; ".join(
            (e.step_failure_data.error.message.strip() if e.step_failure_data.error else e.message or "step failed")
            for e in failures
        ) or "the run failed"
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    summary = {"db_path": str(db_path), "run_id": result.run_id, "sources": {}}
    if Path(db_path).exists():
        try:
            summary = run_summary(db_path, sources, result.run_id)
        except FileNotFoundError:
            pass  # a stage never ran (the run failed before it); the error says why
    summary["checks"] = checks
    summary["success"] = result.success and all(checks.values())
    if error:
        summary["error"] = error
    return {"success": summary["success"], "error": error, "summary": summary}
