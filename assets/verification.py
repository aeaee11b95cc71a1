"""The verification report as an asset downstream of the index, with its thresholds as
asset checks and its markdown summary shown in the UI. Automation materializes it once a
day, so its drift figures compare day with day."""

import dagster as dg

from claude_view_pipeline import verification
from orchestration.resources import IndexSettings

from .index import GROUP, WRITER_POOL

_CHECKS = {
    "parse_success_rate": "At least 99.5% of the files that should parse yield a session (per source).",
    "unknown_event_ratio": "At most 1% of parsed lines are of a type the parsers do not know (per source).",
    "idempotency_diff_count": "No session changed since the previous report while its file stayed the same.",
    "duplicate_identity_conflicts": "No canonical id is held twice or disagrees with source:source_session_id.",
    "kind_psi": "The message-kind distribution drifted no more than PSI 0.25 since the last report of an earlier day (a warning).",
}


# Once a day, at the start of the UTC day the report's baselines are cut by.
DAILY_AT_MIDNIGHT_UTC = (
    dg.AutomationCondition.cron_tick_passed("0 0 * * *", cron_timezone="UTC").since_last_handled()
    & ~dg.AutomationCondition.in_progress()
)


@dg.asset(
    deps=["sessions", "messages", "indexed_files"],  # the tables it measures
    automation_condition=DAILY_AT_MIDNIGHT_UTC,
    group_name=GROUP,
    kinds={"duckdb"},
    pool=WRITER_POOL,  # it records its baseline in the index file
    description=verification.__doc__.split("\n\n")[0] + " Thresholds are the asset checks; the table is in the metadata.",
    check_specs=[
        dg.AssetCheckSpec(name=f"verify_{m}", asset="verification_report", description=d, blocking=False) for m, d in _CHECKS.items()
    ],
)
def verification_report(index: IndexSettings):
    report = verification.build_report(index.resolved_db_path())
    metadata: dict = {"summary": dg.MetadataValue.md(report.markdown()),
                      "baseline_day": str(report.baseline_day) if report.baseline_day else "none yet"}
    for s in report.sources.values():
        for m in ("parse_success_rate", "session_id_match_rate", "unknown_event_ratio", "idempotency_diff_count",
                  "duplicate_identity_conflicts", "kind_psi"):
            value = getattr(s, m)
            if value is not None:
                metadata[f"{s.source}/{m}"] = float(value)
    yield dg.MaterializeResult(metadata=metadata)
    for m in _CHECKS:
        values = {s.source: getattr(s, m) for s in report.sources.values()}
        failed = [src for src, v in values.items() if not verification.passes(m, v)]
        op, limit = verification.THRESHOLDS[m]
        yield dg.AssetCheckResult(
            check_name=f"verify_{m}",
            passed=not failed,
            severity=dg.AssetCheckSeverity.WARN if m in verification.WARNING_METRICS else dg.AssetCheckSeverity.ERROR,
            metadata={"threshold": f"{op} {limit}", **{src: ("n/a" if v is None else float(v)) for src, v in values.items()},
                      "failing_sources": ", ".join(failed) or "none"},
        )


verify_job = dg.define_asset_job(
    name="verify_index", selection=dg.AssetSelection.assets(verification_report),
    description="Compute the verification report of the index and check its thresholds.",
)
