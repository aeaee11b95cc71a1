"""A Dagster index run that fails at the load, re-executed from failure, loads the parse its
original run staged, even after another run of the same source staged and loaded its own."""

import dagster as dg
import duckdb

from benchmarks.synth import generate, source_dir
from helpers import assert_matches_ground_truth


def index_job():
    """The code location's index job, as `dagster dev` serves it (reconstructable by name)."""
    from assets.definitions import defs

    return defs.resolve_job_def("index_sessions")


def _sessions(db) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute("SELECT source, count(*) FROM sessions GROUP BY source").fetchall())
    finally:
        con.close()


def test_a_load_that_failed_succeeds_when_re_executed_from_failure(tmp_path, home, monkeypatch):
    corpus = tmp_path / "corpus"
    truth = generate(corpus, claude_sessions=3, codex_sessions=0, seed=77)["sessions"]
    db = tmp_path / "i.duckdb"
    monkeypatch.setenv("CLAUDE_VIEW_DB", str(db))
    monkeypatch.setenv("CLAUDE_PROJECTS_DIR", str(source_dir(corpus, "claude")))
    job = dg.reconstructable(index_job)
    (tmp_path / "dagster_home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        monkeypatch.setenv("CLAUDE_VIEW_FAIL_AT", "before_commit")
        failed = dg.execute_job(job, instance=instance, tags={"dagster/partition": "claude"}, raise_on_error=False)
        assert not failed.success
        steps = {e.step_key: e.event_type_value for e in failed.all_events if e.is_step_success or e.is_step_failure}
        assert steps == {"session_files": "STEP_SUCCESS", "parsed_sessions": "STEP_SUCCESS", "session_index": "STEP_FAILURE"}
        assert not db.exists() or _sessions(db) == {}  # the load rolled back: nothing written
        monkeypatch.delenv("CLAUDE_VIEW_FAIL_AT")

        # meanwhile, a session of a later file arrives and another run stages and loads it:
        # the re-executed load must still load what its own run parsed
        extra = generate(tmp_path / "more", claude_sessions=1, codex_sessions=0, seed=78)["sessions"]
        for f in source_dir(tmp_path / "more", "claude").rglob("*.jsonl"):
            target = source_dir(corpus, "claude") / "later" / f.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.read_bytes())
        other = dg.execute_job(job, instance=instance, tags={"dagster/partition": "claude"})
        assert other.success and _sessions(db) == {"claude": len(truth) + len(extra)}

        # as the UI's "Re-execute from failure" does: the failed run's partition, its failed steps
        again = dg.execute_job(job, instance=instance, raise_on_error=False, tags={"dagster/partition": "claude"},
                               reexecution_options=dg.ReexecutionOptions.from_failure(failed.run_id, instance))
        assert again.success
        ran = sorted(e.step_key for e in again.all_events if e.is_step_success)
        # the load and the checks that hang on it; discovery and parse were not run again
        assert ran == ["index_integrity_checks", "rate_limits_codex_primary_window_has_room", "session_index"]
        run = instance.get_run_by_id(again.run_id)
        assert run.root_run_id == failed.run_id
        # it loaded the three sessions its original run parsed (a reload of the same files),
        # and kept the later one
        assert _sessions(db) == {"claude": len(truth) + len(extra)}
        assert_matches_ground_truth(db, {**truth, **extra})
        con = duckdb.connect(str(db), read_only=True)
        loaded = con.execute("SELECT count(*) FROM indexed_files WHERE run_id = ?", [again.run_id]).fetchone()[0]
        con.close()
        assert loaded == len(truth)  # exactly the files the original run discovered
