"""The CLI runs the stages and checks directly: no Dagster run, no Dagster (nor pyarrow) import
on the no-op path; with DAGSTER_HOME set, a run that changed the index is recorded in that instance (the
UI shows CLI runs), a run that changed nothing adds nothing. After a changing run the
daily_usage table is current."""

import json
import shutil
import subprocess
import sys

import dagster as dg
import duckdb
from helpers import FIXTURES, REPO, run_cli

from claude_view_pipeline.config import environ_without_settings
from claude_view_pipeline.integrity import CHECKS, CHECKS_BY_NAME, run_check

# fixtures/claude: minimal.jsonl totals 115 tokens, tool_heavy.jsonl 9,286 (their contract tests)
MINIMAL, TOOL_HEAVY = 115, 9286


def claude_dir(tmp_path, *names):
    d = tmp_path / "projects" / "-home-dev-app"
    d.mkdir(parents=True)
    for name in names:
        shutil.copy(FIXTURES / "claude" / name, d / name)
    return d.parent


def test_a_noop_index_imports_no_dagster_pandera_polars_pyarrow_or_numpy(tmp_path):
    root = claude_dir(tmp_path, "minimal.jsonl")
    db = tmp_path / "i.duckdb"
    args = ["index", "--db", str(db), "--sources", "claude", "--claude-dir", str(root), "--json"]
    assert run_cli(*args).returncode == 0
    code = ("import sys, json; from claude_view_pipeline.cli import main; rc = main(sys.argv[1:]);"
            " print(json.dumps([rc, sorted(m for m in ('dagster', 'pandera', 'polars', 'pyarrow', 'numpy') if m in sys.modules)]))")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO,
                          env=environ_without_settings({"DAGSTER_HOME": str(tmp_path / "dagster_home")}))
    assert proc.returncode == 0, proc.stderr
    summary, last = proc.stdout.rsplit("\n", 2)[0], proc.stdout.strip().splitlines()[-1]
    assert json.loads(last) == [0, []]
    assert '"files_parsed": 0' in summary


def test_cli_runs_are_recorded_in_dagster_home_and_noops_add_nothing(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    root = claude_dir(tmp_path, "minimal.jsonl", "tool_heavy.jsonl")
    db = tmp_path / "i.duckdb"
    args = ["index", "--db", str(db), "--sources", "claude", "--claude-dir", str(root), "--json"]
    first = run_cli(*args, env={"DAGSTER_HOME": str(home)})
    assert first.returncode == 0, first.stderr
    run_id = json.loads(first.stdout)["run_id"]
    assert run_cli(*args, env={"DAGSTER_HOME": str(home)}).returncode == 0  # nothing changed

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        for key in ("session_files", "parsed_sessions", "session_index", "sessions", "messages", "indexed_files", "index_metrics",
                    "rate_limits", "daily_usage", "search_index"):
            records = instance.fetch_materializations(dg.AssetKey(key), limit=10).records
            assert len(records) == 1, key  # the no-op added none
            mat = records[0].asset_materialization
            assert mat.tags["claude_view/trigger"] == "cli" and mat.tags["claude_view/run_id"] == run_id
            assert mat.partition == (None if key == "daily_usage" else "claude")
        (index_mat,) = instance.fetch_materializations(dg.AssetKey("session_index"), limit=1).records
        meta = index_mat.asset_materialization.metadata
        assert (meta["sessions_in_index"].value, meta["total_tokens"].value) == (2, MINIMAL + TOOL_HEAVY)
        (search_mat,) = instance.fetch_materializations(dg.AssetKey("search_index"), limit=1).records
        # the two sessions' messages that carry text, all of them written by this run
        written = search_mat.asset_materialization.metadata
        con = duckdb.connect(str(db), read_only=True)
        with_text = con.execute("SELECT count(*) FROM messages WHERE length(text) > 0").fetchone()[0]
        con.close()
        assert (written["sessions_written"].value, written["documents_written"].value, written["dagster/row_count"].value) == (2, with_text, with_text)
        assert with_text > 0
        (sessions_mat,) = instance.fetch_materializations(dg.AssetKey("sessions"), limit=1).records
        assert sessions_mat.asset_materialization.metadata["dagster/partition_row_count"].value == 2
        keys = [dg.AssetCheckKey(dg.AssetKey("session_index"), c.name) for c in CHECKS]
        latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
        assert sorted(k.name for k in latest) == sorted(c.name for c in CHECKS)
        assert all(r.event.asset_check_evaluation.passed for r in latest.values())


def test_index_leaves_daily_usage_current(tmp_path):
    root = claude_dir(tmp_path, "minimal.jsonl")
    db = tmp_path / "i.duckdb"
    args = ["index", "--db", str(db), "--sources", "claude", "--claude-dir", str(root)]
    assert run_cli(*args).returncode == 0
    shutil.copy(FIXTURES / "claude" / "tool_heavy.jsonl", root / "-home-dev-app" / "tool_heavy.jsonl")
    assert run_cli(*args).returncode == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT sum(total_tokens) FROM daily_usage").fetchall() == [(MINIMAL + TOOL_HEAVY,)]
    con.close()


def test_row_checks_read_only_the_rows_the_run_wrote_while_invariants_see_the_whole_index(tmp_path):
    root = claude_dir(tmp_path, "minimal.jsonl")
    db = tmp_path / "i.duckdb"
    assert run_cli("index", "--db", str(db), "--sources", "claude", "--claude-dir", str(root)).returncode == 0
    con = duckdb.connect(str(db))
    con.execute("UPDATE sessions SET total_tokens = total_tokens + 1")  # corruption outside any run
    row_check = run_check(CHECKS_BY_NAME["sessions_id_canonical"], con, run_id="a-run-that-wrote-nothing")
    invariant = run_check(CHECKS_BY_NAME["sessions_tokens_consistent"], con, run_id="a-run-that-wrote-nothing")
    con.close()
    assert (row_check.passed, row_check.rows_checked) == (True, 0)
    assert (invariant.passed, invariant.rows_checked, invariant.failing_rows.height) == (False, 1, 1)
