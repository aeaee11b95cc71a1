"""The team deployment's assets: the store's rows per (source, host) partition, a sensor
that adds a host's partition when it first pushes and records every push, and
team_daily_usage, kept current by automation. The store is written by `team push` on each
machine; these assets record and roll up what arrived (claude_view_pipeline.team)."""

import dagster as dg

from claude_view_pipeline import team
from claude_view_pipeline.output import safe
from claude_view_pipeline.config import sensor_interval, usage_timezone
from orchestration.keys import host_partitions, host_source, team_partitions
from orchestration.resources import TeamStore

TEAM_GROUP = "team"

# Rebuild the team's daily usage after every recorded push, unless a blocking check of the
# store failed; a (host, source) partition never pushed holds nothing back (the team
# deployment's own condition: it watches the store, not a local index).
REFRESH_AFTER_PUSH = (
    dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())
    & dg.AutomationCondition.any_deps_match(~dg.AutomationCondition.missing())
    & ~dg.AutomationCondition.any_deps_match(
        dg.AutomationCondition.any_checks_match(dg.AutomationCondition.check_failed(), blocking_only=True))
).with_label("eager, once any machine pushed and while no blocking check of the store failed")
@dg.asset(
    partitions_def=team_partitions,
    group_name=TEAM_GROUP,
    kinds={"iceberg"},
    description=(
        "The team store's rows of one machine and source (table claude_view.team_sessions), as that "
        "machine's last `team push` left them: materialized by the push sensor for every push."
    ),
)
def team_sessions(context: dg.AssetExecutionContext, store: TeamStore) -> dg.MaterializeResult:
    host, source = host_source(context)
    sessions, tokens = team.partition_totals(store.env(), host, source)
    return dg.MaterializeResult(metadata={"dagster/partition_row_count": sessions, "total_tokens": tokens})


@dg.asset(
    deps=[team_sessions],
    group_name=TEAM_GROUP,
    kinds={"iceberg", "duckdb"},
    automation_condition=REFRESH_AFTER_PUSH,
    description=(
        "Tokens and estimated cost per day x host x source x model x project for the whole team (a "
        "session pushed by several machines counts once, by its most complete copy), written to the Iceberg table "
        "claude_view.team_daily_usage."
    ),
)
def team_daily_usage(store: TeamStore) -> dg.MaterializeResult:
    rows = team.write_team_daily_usage(store.env(), usage_timezone())
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(rows),
        "hosts": len({r["host"] for r in rows}),
        "total_tokens": sum(r["total_tokens"] for r in rows),
    })


team_job = dg.define_asset_job("record_team_push", selection=dg.AssetSelection.assets(team_sessions))


@dg.sensor(job=team_job, minimum_interval_seconds=sensor_interval(), default_status=dg.DefaultSensorStatus.RUNNING,
           description="Adds a machine's partition when it first pushes, and records each push as a run of its partition.")
def team_push_sensor(context: dg.SensorEvaluationContext, store: TeamStore):
    try:
        pushes = team.latest_pushes(store.env())
    except Exception as exc:  # noqa: BLE001 - the store is not reachable yet: say so, look again
        return dg.SkipReason(f"the team store cannot be read: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    # a host name no partition can carry (pushed by a release that did not check names) is
    # passed over and said, never the reason no push of anyone is recorded
    unusable = sorted({host for host, _ in pushes if not team.HOST_NAME.match(host)})
    for host in unusable:
        context.log.warning(f"the team store holds pushes of the host {safe(host, 80)!r}, which cannot name a partition; they are not recorded")
    pushes = {key: push for key, push in pushes.items() if key[0] not in unusable}
    known = set(context.instance.get_dynamic_partitions(host_partitions.name))
    new_hosts = sorted({host for host, _ in pushes} - known)
    requests = [
        dg.RunRequest(run_key=f"{host}-{source}-{push.push_id}",
                      partition_key=dg.MultiPartitionKey({"host": host, "source": source}))
        for (host, source), push in sorted(pushes.items())
    ]
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=[host_partitions.build_add_request(new_hosts)])
