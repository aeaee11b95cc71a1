"""The code location: the one Definitions object workspace.yaml points at."""

from __future__ import annotations

import dagster as dg

from checks.index_checks import index_checks
from orchestration.resources import IndexSettings

from .index import index_assets, index_job
from .search import search_index
from .sensors import SENSOR_INTERVAL_S, session_file_sensors
from .usage import daily_usage, usage_blocks
from .verification import verification_report, verify_job

# Evaluates the assets' automation conditions (daily_usage and search_index after each index change, the
# verification report daily); on by default, looking as often as the file sensors do.
automation_sensor = dg.AutomationConditionSensorDefinition(
    "index_automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    description="Keeps daily_usage, usage_blocks and the search index current after every index change and runs the verification report once a day.",
)

defs = dg.Definitions(
    assets=[*index_assets, verification_report, daily_usage, usage_blocks, search_index],
    asset_checks=index_checks,
    jobs=[index_job, verify_job],
    sensors=[*session_file_sensors, automation_sensor],
    resources={"index": IndexSettings()},
    # One process per run: the steps are short, and a process per step (the default
    # multiprocess executor) costs seconds each on a small machine.
    executor=dg.in_process_executor,
)
