"""One sensor per source: it compares the source's session files on disk with what the
index holds for them (claude_view_pipeline.freshness) and, when they differ, asks for one
run of the index job for that source's partition.

Because the comparison is with the index, not with what the sensor asked for last time, a
run that fails is retried without any file changing: the first retry at the next look,
later ones after 2, 4, 8 ... sensor intervals (at most MAX_RETRY_WAIT_S), each under its
own run key. While any run that writes the index is queued or running (a sensor run, a
Catalog launch, a backfill, a daily_usage refresh) or another process holds the index (a
CLI run), the sensor waits; the next look covers everything that changed meanwhile."""

import json
import time

import dagster as dg

from claude_view_pipeline.config import ConfigError, flag_as_set, sensor_interval
from claude_view_pipeline.freshness import source_drift
from claude_view_pipeline.sources import ALL_SOURCES, Source
from claude_view_pipeline.store import IndexLockedError
from orchestration.resources import IndexSettings

from .index import index_assets, index_job
from .usage import daily_usage
from .verification import verification_report

# How often a sensor looks: the floor of the lag from a file write to its rows.
SENSOR_INTERVAL_S = sensor_interval()  # a bad value stops the code location loading, naming it
MAX_RETRY_WAIT_S = 15 * 60
# runs that materialize any of these write the index file
INDEX_WRITERS = frozenset(key for a in (*index_assets, daily_usage, verification_report) for key in a.keys)
_ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def _index_writer_run(context: dg.SensorEvaluationContext) -> dg.DagsterRun | None:
    """An active run of any kind that writes the index: a job run, or a run whose asset
    selection (Catalog launches, backfills, automation) holds one of its writer assets."""
    for run in context.instance.get_runs(filters=dg.RunsFilter(statuses=_ACTIVE), limit=100):
        if run.job_name == index_job.name or (run.asset_selection and run.asset_selection & INDEX_WRITERS):
            return run
    return None


def _retry_wait_s(attempt: int) -> float:
    return 0 if attempt <= 2 else min(MAX_RETRY_WAIT_S, SENSOR_INTERVAL_S * 2 ** (attempt - 2))


def evaluate(context: dg.SensorEvaluationContext, source: Source, index: IndexSettings, now: float | None = None):
    """The sensor's decision, kept apart from the decorator so tests can call it. The
    cursor remembers the disk state last asked for, the attempt and when."""
    try:
        settings = index.settings()
    except ConfigError as exc:
        return dg.SkipReason(f"not indexing {source.value}: {exc}")
    if not settings.enabled.get(source, True):
        return dg.SkipReason(f"{source.value} is disabled ({flag_as_set(source)}): its indexed rows are kept, nothing new is indexed")
    try:
        drift = source_drift(source, index.roots(source), index.resolved_db_path())
    except IndexLockedError:
        return dg.SkipReason(f"another process is writing the index; {source.value} is compared again at the next look")
    summary = drift.summary()  # an unreadable index is a difference too: the run says why it fails
    if drift.in_sync:
        context.update_cursor(None)
        return dg.SkipReason(f"the index holds all {drift.watched} {source.value} session files as they are on disk")
    busy = _index_writer_run(context)
    if busy is not None:
        return dg.SkipReason(f"run {busy.run_id[:8]} writes the index; {source.value} changes ({summary}) follow it")
    last = _read_cursor(context.cursor)
    attempt = last["attempt"] + 1 if last.get("digest") == drift.digest else 1
    now = time.time() if now is None else now
    wait = _retry_wait_s(attempt) - (now - last.get("at", 0))
    if attempt > 1 and wait > 0:
        return dg.SkipReason(
            f"the last {attempt - 1} run(s) for these {source.value} changes ({summary}) left the index behind; "
            f"retrying in {wait:.0f}s"
        )
    context.update_cursor(json.dumps({"digest": drift.digest, "attempt": attempt, "at": now}))
    return dg.RunRequest(
        run_key=f"{source.value}-{drift.digest}-{attempt}",
        partition_key=source.value,
        tags={"claude_view/trigger": "sensor", "claude_view/attempt": str(attempt), "claude_view/changes": summary},
    )


def _read_cursor(cursor: str | None) -> dict:
    try:
        value = json.loads(cursor) if cursor else {}
    except ValueError:  # a cursor from an older release: start over
        return {}
    return value if isinstance(value, dict) and isinstance(value.get("attempt"), int) else {}


def _sensor_for(source: Source) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{source.value}_session_files_sensor",
        job=index_job,
        minimum_interval_seconds=SENSOR_INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Compares the {source.value} session files on disk with the index and requests a run of the "
            f"'{source.value}' partition when they differ (new, grown, changed or removed files), "
            "retrying a failed run without waiting for another change."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext, index: IndexSettings):
        return evaluate(context, source, index)

    return _sensor


session_file_sensors = [_sensor_for(s) for s in ALL_SOURCES]
