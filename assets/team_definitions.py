"""The team deployment's code location (docs/team.md): served by its own gRPC code server
beside a webserver and a daemon that keep their state in PostgreSQL (deploy/team/)."""

import dagster as dg

from checks.team_checks import team_checks
from orchestration.resources import TeamStore

from .team import team_daily_usage, team_job, team_push_sensor, team_sessions

defs = dg.Definitions(
    assets=[team_sessions, team_daily_usage],
    asset_checks=team_checks,
    jobs=[team_job],
    sensors=[
        team_push_sensor,
        dg.AutomationConditionSensorDefinition("team_automation_sensor", target=dg.AssetSelection.all(),
                                               default_status=dg.DefaultSensorStatus.RUNNING),
    ],
    resources={"store": TeamStore()},
    executor=dg.in_process_executor,
)
