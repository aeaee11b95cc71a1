"""One sensor per source: when that source's session files change (a new file, lines
appended, a new date folder, a file removed) it asks for one run of the index job for
that source's partition. Changes between two evaluations, or while a run for the
partition is still queued or running, are picked up together by the next run."""

import dagster as dg

from claude_view_pipeline.config import ConfigError, enable_flag, sensor_interval
from claude_view_pipeline.discovery import discover, fingerprint_digest
from claude_view_pipeline.sources import ALL_SOURCES, Source

from .index import index_job
from .resources import IndexSettings

# How often a sensor looks: the floor of the lag from a file write to its rows.
SENSOR_INTERVAL_S = sensor_interval()  # a bad value stops the code location loading, naming it
_ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def _partition_busy(context: dg.SensorEvaluationContext, source: Source) -> bool:
    runs = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=index_job.name, statuses=_ACTIVE, tags={"dagster/partition": source.value}), limit=1
    )
    return bool(runs)


def evaluate(context: dg.SensorEvaluationContext, source: Source, index: IndexSettings):
    """The sensor's decision, kept apart from the decorator so tests can call it."""
    try:
        settings = index.settings()
    except ConfigError as exc:
        return dg.SkipReason(f"not indexing {source.value}: {exc}")
    if not settings.enabled.get(source, True):
        flag = enable_flag(source)
        return dg.SkipReason(f"{source.value} is disabled ({flag}=false): its indexed rows are kept, nothing new is indexed")
    files = discover(source, index.roots(source))
    digest = fingerprint_digest(files)
    if digest == context.cursor:
        return dg.SkipReason(f"no new or changed {source.value} session files ({len(files)} watched)")
    if _partition_busy(context, source):
        # leave the cursor: the next evaluation after that run asks again, for everything
        return dg.SkipReason(f"a {source.value} index run is already queued or running; changes will follow it")
    context.update_cursor(digest)
    return dg.RunRequest(run_key=f"{source.value}-{digest}", partition_key=source.value, tags={"claude_view/trigger": "sensor"})


def _sensor_for(source: Source) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{source.value}_session_files_sensor",
        job=index_job,
        minimum_interval_seconds=SENSOR_INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Watches the {source.value} session roots and requests one run of the "
            f"'{source.value}' partition when files appear, grow or change."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext, index: IndexSettings):
        return evaluate(context, source, index)

    return _sensor


session_file_sensors = [_sensor_for(s) for s in ALL_SOURCES]
