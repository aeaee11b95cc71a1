"""The per-source sensors: a run when files appear, grow or a new date folder arrives;
none when nothing changed; one for a burst; a skip, with the reason, for a disabled
source. And a live file's half-written last line is no parse error."""

import shutil

import dagster as dg
import duckdb
import pytest

from assets.resources import IndexSettings
from assets.sensors import evaluate, session_file_sensors
from claude_view_pipeline import pipeline
from claude_view_pipeline.sources import Source
from claude_view_pipeline.staging import StagingArea

from helpers import FIXTURES

SENSORS = {s.name: s for s in session_file_sensors}


@pytest.fixture
def codex_root(tmp_path):
    root = tmp_path / "sessions"
    day = root / "2026" / "01" / "10"
    day.mkdir(parents=True)
    shutil.copy(FIXTURES / "codex" / "minimal.jsonl", day / "rollout-2026-01-10T09-00-00-0199a000-0000-7000-8000-000000000001.jsonl")
    return root


def tick(root, cursor, instance, source=Source.CODEX):
    index = IndexSettings(db_path="/nonexistent/i.duckdb", codex_dir=str(root), claude_dir=str(root))
    ctx = dg.build_sensor_context(cursor=cursor, instance=instance, resources={"index": index})
    result = evaluate(ctx, source, index)
    return result, ctx.cursor


def test_sensor_requests_a_run_only_when_files_change(codex_root):
    with dg.DagsterInstance.ephemeral() as instance:
        first, cursor = tick(codex_root, None, instance)
        assert isinstance(first, dg.RunRequest) and first.partition_key == "codex"
        assert first.tags["claude_view/trigger"] == "sensor"

        same, cursor2 = tick(codex_root, cursor, instance)
        assert isinstance(same, dg.SkipReason) and "no new or changed codex session files (1 watched)" in same.skip_message
        assert cursor2 == cursor

        # lines appended to a live file
        live = next(codex_root.rglob("rollout-*.jsonl"))
        with open(live, "a") as fh:
            fh.write('{"timestamp":"2026-01-10T09:05:00.000Z","type":"event_msg","payload":{"type":"user_message","message":"more"}}\n')
        grown, cursor3 = tick(codex_root, cursor, instance)
        assert isinstance(grown, dg.RunRequest) and grown.run_key != first.run_key

        # a burst: a new date folder, a new file and more appends, all before the next look
        nxt = codex_root / "2026" / "01" / "11"
        nxt.mkdir(parents=True)
        shutil.copy(FIXTURES / "codex" / "tool_heavy.jsonl", nxt / "rollout-2026-01-11T14-00-00-0199a000-0000-7000-8000-000000000002.jsonl")
        for i in range(20):
            with open(live, "a") as fh:
                fh.write('{"timestamp":"2026-01-10T09:06:%02d.000Z","type":"event_msg","payload":{"type":"agent_message","message":"x"}}\n' % i)
        burst, cursor4 = tick(codex_root, cursor3, instance)
        assert isinstance(burst, dg.RunRequest)  # one request for all of it
        again, _ = tick(codex_root, cursor4, instance)
        assert isinstance(again, dg.SkipReason)


def test_sensor_waits_while_a_run_of_its_partition_is_active(codex_root):
    with dg.DagsterInstance.ephemeral() as instance:
        from assets.definitions import defs

        job = defs.resolve_job_def("index_sessions")
        instance.create_run_for_job(job_def=job, tags={"dagster/partition": "codex"}, status=dg.DagsterRunStatus.STARTED)
        result, cursor = tick(codex_root, None, instance)
        assert isinstance(result, dg.SkipReason) and "already queued or running" in result.skip_message
        assert cursor is None  # the change is still pending for the next look


def test_disabled_source_sensor_says_why(codex_root, monkeypatch):
    monkeypatch.setenv("ENABLE_CODEX_SOURCE", "false")
    with dg.DagsterInstance.ephemeral() as instance:
        result, cursor = tick(codex_root, None, instance)
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message.startswith("codex is disabled (ENABLE_CODEX_SOURCE=false)")
    assert cursor is None


def test_sensors_are_defined_per_source_and_running_by_default():
    assert sorted(SENSORS) == ["claude_session_files_sensor", "codex_session_files_sensor"]
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
