"""Usage analytics as an asset downstream of the index: the daily_usage table (tokens and
estimated cost per day x source x model x project) and a PNG chart of it."""

import dagster as dg

from claude_view_pipeline import usage
from claude_view_pipeline.config import usage_timezone
from orchestration.keys import SESSION_INDEX
from orchestration.resources import IndexSettings

from .index import WRITER_POOL, column_schema


# Refresh whenever the index changed, unless a blocking check of the index failed (a run whose
# blocking check fails has written the tables before the check ran: their rows are not rolled
# up until a run passes again). "No dependency with a failed check" rather than "every
# dependency's checks passed": a dependency partition never written (a disabled source) then
# does not hold the refresh back. Plain eager() also waits until every dependency partition
# exists; instead this waits only until some source has been indexed at all.
INDEX_CHECKS_PASSED = ~dg.AutomationCondition.any_deps_match(
    dg.AutomationCondition.any_checks_match(dg.AutomationCondition.check_failed(), blocking_only=True)
).with_label("no blocking check of the index failed")
REFRESH_AFTER_INDEX = (
    dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())
    & dg.AutomationCondition.any_deps_match(~dg.AutomationCondition.missing())
    & INDEX_CHECKS_PASSED
).with_label("eager, once any source is indexed and while no blocking check failed")


@dg.asset(
    deps=["sessions", "messages", SESSION_INDEX],  # the tables it rolls up; the checks hang on session_index
    group_name="usage",
    automation_condition=REFRESH_AFTER_INDEX,
    kinds={"duckdb", "python"},
    pool=WRITER_POOL,
    description=(
        "daily_usage: tokens and estimated cost (genai-prices) per day x source x model x project, days cut "
        "in the usage timezone (CLAUDE_VIEW_TIMEZONE, else the machine's) by when each call's usage was reported; unpriced models have NULL "
        "cost. Its page shows the last month's chart; the whole history is written as a PNG beside the index."
    ),
    metadata={"dagster/column_schema": column_schema("daily_usage")},
)
def daily_usage(index: IndexSettings) -> dg.MaterializeResult:
    # the zone of the setting the command line uses too: the table means one thing
    tz = usage_timezone()
    db = index.resolved_db_path()
    daily = usage.write_daily_usage(db, tz)
    chart = usage.plot(daily, db.parent / "daily_usage.png") if daily else None
    totals = usage.totals(daily)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(daily),
        "chart": dg.MetadataValue.md(usage.chart_markdown(daily)) if daily else "no usage yet",
        "chart_file": dg.MetadataValue.path(str(chart)) if chart else "no usage yet",
        "days": len({r["day"] for r in daily}),
        "total_tokens": totals["total_tokens"],
        # the priced part only; the tokens with no price are beside it, by model
        "estimated_cost_usd": float(totals["priced_cost_usd"]),
        "unpriced_tokens": totals["unpriced_tokens"],
        "unpriced_tokens_by_model": dg.MetadataValue.json(totals["unpriced_tokens_by_model"]),
        "totals": usage.totals_line(daily),
        "timezone": tz,
        "price_data_version": usage.price_data_version(),
        "unpriced_models": ", ".join(usage.unpriced_models(daily)) or "none",
    })


@dg.asset(
    deps=["sessions", "messages", SESSION_INDEX],
    group_name="usage",
    automation_condition=REFRESH_AFTER_INDEX,
    kinds={"duckdb", "python"},
    description=(
        "5-hour usage blocks per source, as Claude Code plans count them (a block begins at the hour of its "
        "first call and lasts five hours; gaps between them), with the active block's burn rate and its "
        "projection to the block's end. The same rows as `usage blocks --json`."
    ),
)
def usage_blocks(index: IndexSettings) -> dg.MaterializeResult:
    from claude_view_pipeline.blocks import usage_blocks as blocks_of

    blocks = [b for b in blocks_of(index.resolved_db_path()) if not b["is_gap"]]
    metadata: dict = {"blocks": len(blocks), "recent": dg.MetadataValue.md(_blocks_markdown(blocks[-12:]))}
    for b in blocks:
        if b["is_active"]:
            prefix = f"{b['source']}/active"
            metadata[f"{prefix}_total_tokens"] = b["total_tokens"]
            if b["burn_rate"]:
                metadata[f"{prefix}_tokens_per_hour"] = b["burn_rate"]["tokens_per_hour"]
                metadata[f"{prefix}_projected_tokens"] = b["projection"]["total_tokens"]
    return dg.MaterializeResult(metadata=metadata)


def _blocks_markdown(blocks: list[dict]) -> str:
    rows = ["| source | start (UTC) | end (UTC) | calls | tokens | cost USD | active |", "|---|---|---|---|---|---|---|"]
    for b in blocks:
        rows.append(f"| {b['source']} | {b['start'][:16]} | {b['end'][:16]} | {b['api_call_count']} | {b['total_tokens']:,} | "
                    f"{usage.format_cost(b['cost_usd'])} | "
                    f"{'yes' if b['is_active'] else ''} |")
    return "\n".join(rows)
