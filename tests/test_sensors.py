"""The per-source sensors: a run while the files on disk differ from the index (new, grown,
removed files, a new date folder; one run for a burst), none when the index holds them;
a failed run retried without any file change, with back-off; a wait while any run or
process writes the index; a skip, with the reason, for a disabled source. And a live
file's half-written last line is no parse error."""

import shutil
import subprocess
import sys

import dagster as dg
import duckdb
import pytest
from helpers import FIXTURES

from assets import sensors
from orchestration.resources import IndexSettings
from assets.sensors import evaluate, session_file_sensors
from claude_view_pipeline import pipeline
from claude_view_pipeline.indexing import run_index
from claude_view_pipeline.sources import Source
from claude_view_pipeline.staging import StagingArea

SENSORS = {s.name: s for s in session_file_sensors}


@pytest.fixture
def codex_root(tmp_path):
    root = tmp_path / "sessions"
    day = root / "2026" / "01" / "10"
    day.mkdir(parents=True)
    shutil.copy(FIXTURES / "codex" / "minimal.jsonl", day / "rollout-2026-01-10T09-00-00-0199a000-0000-7000-8000-000000000001.jsonl")
    return root


def tick(root, cursor, instance, db="/nonexistent/i.duckdb", source=Source.CODEX, now=None):
    index = IndexSettings(db_path=str(db), dirs={"claude": str(root), "codex": str(root)})
    ctx = dg.build_sensor_context(cursor=cursor, instance=instance, resources={"index": index})
    result = evaluate(ctx, source, index, now=now)
    return result, ctx.cursor


def index_codex(root, db) -> None:
    run = run_index([Source.CODEX], db, {Source.CODEX: [root]}, workers=1)
    assert run.error is None, run.error


def test_sensor_requests_a_run_until_the_index_holds_the_files(tmp_path, codex_root):
    db = tmp_path / "i.duckdb"
    with dg.DagsterInstance.ephemeral() as instance:
        first, cursor = tick(codex_root, None, instance, db)
        assert isinstance(first, dg.RunRequest) and first.partition_key == "codex"
        assert first.tags == {"claude_view/trigger": "sensor", "claude_view/attempt": "1", "claude_view/changes": "1 new"}

        index_codex(codex_root, db)
        same, cursor = tick(codex_root, cursor, instance, db)
        assert isinstance(same, dg.SkipReason)
        assert same.skip_message == "the index holds all 1 codex session files as they are on disk"
        assert cursor is None

        # lines appended to a live file
        live = next(codex_root.rglob("rollout-*.jsonl"))
        with open(live, "a") as fh:
            fh.write('{"timestamp":"2026-01-10T09:05:00.000Z","type":"event_msg","payload":{"type":"user_message","message":"more"}}\n')
        grown, cursor = tick(codex_root, cursor, instance, db)
        assert isinstance(grown, dg.RunRequest) and grown.run_key != first.run_key
        assert grown.tags["claude_view/changes"] == "1 changed"

        # a burst before the run: a new date folder, a new file and more appends
        nxt = codex_root / "2026" / "01" / "11"
        nxt.mkdir(parents=True)
        shutil.copy(FIXTURES / "codex" / "tool_heavy.jsonl", nxt / "rollout-2026-01-11T14-00-00-0199a000-0000-7000-8000-000000000002.jsonl")
        for i in range(20):
            with open(live, "a") as fh:
                fh.write('{"timestamp":"2026-01-10T09:06:%02d.000Z","type":"event_msg","payload":{"type":"agent_message","message":"x"}}\n' % i)
        burst, cursor = tick(codex_root, cursor, instance, db)
        assert isinstance(burst, dg.RunRequest) and burst.tags["claude_view/changes"] == "1 new, 1 changed"
        assert burst.tags["claude_view/attempt"] == "1"  # a new disk state, a first attempt
        index_codex(codex_root, db)
        assert isinstance(tick(codex_root, cursor, instance, db)[0], dg.SkipReason)

        live.unlink()
        gone, _ = tick(codex_root, None, instance, db)
        assert isinstance(gone, dg.RunRequest) and gone.tags["claude_view/changes"] == "1 gone"
        index_codex(codex_root, db)  # the file's rows stay, marked missing: in sync again
        assert isinstance(tick(codex_root, None, instance, db)[0], dg.SkipReason)


def test_a_failed_run_is_retried_without_any_file_change(tmp_path, codex_root, monkeypatch):
    """The failure is real: the index file is garbage for the first run (as after a disk
    error), and the run's own step fails on it."""
    from assets.definitions import defs

    db = tmp_path / "i.duckdb"
    db.write_bytes(b"this is not a DuckDB database" * 100)
    monkeypatch.setenv("CLAUDE_VIEW_DB", str(db))
    monkeypatch.setenv("CODEX_SESSIONS_DIR", str(codex_root))
    job = defs.resolve_job_def("index_sessions")
    with dg.DagsterInstance.ephemeral() as instance:
        first, cursor = tick(codex_root, None, instance, db)
        assert isinstance(first, dg.RunRequest)
        failed = job.execute_in_process(instance=instance, partition_key="codex", tags=first.tags, raise_on_error=False)
        assert not failed.success
        failure = next(e for e in failed.all_events if e.is_step_failure)
        assert failure.step_failure_data.error.message.startswith(
            f"dagster._core.definitions.events.Failure: the index {db} is not a readable DuckDB database")

        db.unlink()  # the operator moves the broken file away; no session file changes
        retry, cursor = tick(codex_root, cursor, instance, db)
        assert isinstance(retry, dg.RunRequest)
        assert retry.run_key != first.run_key and retry.tags["claude_view/attempt"] == "2"
        assert job.execute_in_process(instance=instance, partition_key="codex", tags=retry.tags).success

        done, cursor = tick(codex_root, cursor, instance, db)
        assert isinstance(done, dg.SkipReason) and cursor is None
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT id FROM sessions").fetchall() == [("codex:0199a000-0000-7000-8000-000000000001",)]
    finally:
        con.close()


def test_retries_of_a_run_that_keeps_failing_back_off(tmp_path, codex_root):
    db = tmp_path / "i.duckdb"
    db.write_bytes(b"garbage" * 100)
    interval = sensors.SENSOR_INTERVAL_S
    with dg.DagsterInstance.ephemeral() as instance:
        r1, cursor = tick(codex_root, None, instance, db, now=1000.0)
        r2, cursor = tick(codex_root, cursor, instance, db, now=1000.0)  # the first retry goes at once
        assert [r1.tags["claude_view/attempt"], r2.tags["claude_view/attempt"]] == ["1", "2"]
        wait, cursor = tick(codex_root, cursor, instance, db, now=1000.0 + interval)
        assert isinstance(wait, dg.SkipReason)
        assert wait.skip_message.endswith(f"left the index behind; retrying in {interval:.0f}s")
        r3, cursor = tick(codex_root, cursor, instance, db, now=1000.0 + 2 * interval)
        assert r3.tags["claude_view/attempt"] == "3" and r3.run_key.endswith("-3")


@pytest.mark.parametrize("kind", ["index_job", "catalog_launch_of_daily_usage"])
def test_sensor_waits_while_any_run_that_writes_the_index_is_active(codex_root, kind):
    from assets.definitions import defs

    with dg.DagsterInstance.ephemeral() as instance:
        if kind == "index_job":  # even one for the other source
            job = defs.resolve_job_def("index_sessions")
            run = instance.create_run_for_job(job_def=job, tags={"dagster/partition": "claude"}, status=dg.DagsterRunStatus.STARTED)
        else:
            job = defs.resolve_implicit_global_asset_job_def()
            run = instance.create_run_for_job(job_def=job, asset_selection=frozenset({dg.AssetKey("daily_usage")}),
                                              status=dg.DagsterRunStatus.STARTING)
        result, cursor = tick(codex_root, None, instance)
        assert isinstance(result, dg.SkipReason)
        assert result.skip_message == f"run {run.run_id[:8]} writes the index; codex changes (1 new) follow it"
        assert cursor is None  # the change is still pending for the next look


def test_sensor_waits_while_another_process_holds_the_index(tmp_path, codex_root):
    db = tmp_path / "i.duckdb"
    index_codex(codex_root, db)
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb,sys,time; c=duckdb.connect({str(db)!r}); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with dg.DagsterInstance.ephemeral() as instance:
            result, cursor = tick(codex_root, None, instance, db)
        assert isinstance(result, dg.SkipReason)
        assert result.skip_message == "another process is writing the index; codex is compared again at the next look"
    finally:
        holder.kill()
        holder.wait()


def test_disabled_source_sensor_says_why(codex_root, monkeypatch):
    monkeypatch.setenv("ENABLE_CODEX_SOURCE", "false")
    with dg.DagsterInstance.ephemeral() as instance:
        result, cursor = tick(codex_root, None, instance)
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message.startswith("codex is disabled (ENABLE_CODEX_SOURCE=false)")
    assert cursor is None


def test_sensors_are_defined_per_source_and_running_by_default():
    assert list(SENSORS) == ["claude_session_files_sensor", "codex_session_files_sensor", "gemini_session_files_sensor",
                             "qwen_session_files_sensor", "copilot_session_files_sensor", "opencode_session_files_sensor"]
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in SENSORS.values())


def test_half_written_last_line_is_completed_later_without_a_parse_error(tmp_path, codex_root):
    live = next(codex_root.rglob("rollout-*.jsonl"))
    db = tmp_path / "i.duckdb"
    staging = StagingArea.beside(db)

    def index():
        pipeline.stage_session_files(Source.CODEX, [codex_root], db, staging)
        pipeline.stage_parsed_sessions(Source.CODEX, staging, workers=1)
        pipeline.load_session_index(Source.CODEX, staging, db)
        con = duckdb.connect(str(db), read_only=True)
        try:
            prompts = con.execute("SELECT user_prompt_count, message_count, malformed_lines FROM sessions").fetchone()
            errors = con.execute("SELECT coalesce(sum(value), 0) FROM index_metrics WHERE result = 'parse_error'").fetchone()[0]
        finally:
            con.close()
        return prompts, errors

    line = '{"timestamp":"2026-01-10T09:10:00.000Z","type":"event_msg","payload":{"type":"user_message","message":"and then?"}}'
    with open(live, "a") as fh:
        fh.write(line[:40])  # the writer is mid-line
    assert index() == ((1, 5, 0), 0)
    with open(live, "a") as fh:
        fh.write(line[40:] + "\n")
    assert index() == ((2, 6, 0), 0)
