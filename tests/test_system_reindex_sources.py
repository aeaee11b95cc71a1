"""One source-scope contract for every entry point: omitted means
every enabled source, an unknown source is refused before any work, and a codex-only
reindex leaves every Claude row as it was. CLI and Dagster launches alike."""

import json
import shutil

import duckdb
import pytest

from assets.definitions import defs
from orchestration.resources import IndexSettings
from benchmarks.synth import generate
from claude_view_pipeline.sources import SOURCE_NAMES

from helpers import run_cli, source_rows


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("scope-corpus")
    generate(out, claude_sessions=8, codex_sessions=6, seed=31)
    return out


def counts(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute("SELECT source, count(*) FROM sessions GROUP BY source").fetchall())
    finally:
        con.close()


def dirs(corpus):
    return ["--claude-dir", str(corpus / "claude/projects"), "--codex-dir", str(corpus / "codex/sessions")]


# --- CLI -----------------------------------------------------------------------------------

def test_cli_omitted_means_every_enabled_source(tmp_path, corpus):
    db = tmp_path / "i.duckdb"
    proc = run_cli("index", "--db", str(db), *dirs(corpus), "--json")
    assert proc.returncode == 0, proc.stderr
    assert list(json.loads(proc.stdout)["sources"]) == list(SOURCE_NAMES)
    assert counts(db) == {"claude": 8, "codex": 6}
    # with Codex switched off, "all" means Claude only
    db2 = tmp_path / "j.duckdb"
    proc = run_cli("index", "--db", str(db2), *dirs(corpus), "--json", env={"ENABLE_CODEX_SOURCE": "false"})
    assert proc.returncode == 0, proc.stderr
    assert counts(db2) == {"claude": 8}


@pytest.mark.parametrize("spec", ["nosuch", "claude,nosuch", "", "codex;claude"])
def test_cli_unknown_source_is_refused_before_any_work(tmp_path, corpus, spec):
    db = tmp_path / "i.duckdb"
    proc = run_cli("index", "--db", str(db), "--sources", spec, *dirs(corpus))
    assert proc.returncode == 2
    assert "valid sources are: claude, codex, gemini, qwen, copilot, opencode" in proc.stderr
    assert not db.exists()


def test_cli_codex_only_leaves_claude_rows_identical(tmp_path, corpus):
    db = tmp_path / "i.duckdb"
    assert run_cli("index", "--db", str(db), *dirs(corpus)).returncode == 0
    claude_before, codex_before = source_rows(db, "claude"), source_rows(db, "codex")
    proc = run_cli("index", "--db", str(db), "--sources", "codex", "--full", *dirs(corpus), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert list(summary["sources"]) == ["codex"] and summary["sources"]["codex"]["files_parsed"] == 6
    assert source_rows(db, "claude") == claude_before  # bookkeeping columns included: not even rewritten
    assert source_rows(db, "codex")[0] != codex_before[0]  # the codex rows were rewritten (new run_id)


# --- Dagster launches -----------------------------------------------------------------------

def config(tmp_path, corpus):
    return {"db_path": str(tmp_path / "i.duckdb"), "dirs": {"claude": str(corpus / "claude/projects"), "codex": str(corpus / "codex/sessions")}}


def settings(tmp_path, corpus):
    return IndexSettings(**config(tmp_path, corpus))


def launch(tmp_path, corpus, **kwargs):
    """The job as the UI / launchpad runs it, configured through run config."""
    job = defs.resolve_job_def("index_sessions")
    run_config = {"resources": {"index": {"config": config(tmp_path, corpus)}}}
    return job.execute_in_process(run_config=run_config, raise_on_error=False, **kwargs)


def test_dagster_all_sources_is_one_run_over_both_partitions(tmp_path, corpus):
    result = launch(tmp_path, corpus, tags={"dagster/asset_partition_range_start": "claude", "dagster/asset_partition_range_end": "codex"})
    assert result.success
    assert counts(tmp_path / "i.duckdb") == {"claude": 8, "codex": 6}


def test_dagster_unknown_partition_is_refused_before_any_work(tmp_path, corpus):
    with pytest.raises(Exception, match="nosuch"):
        launch(tmp_path, corpus, partition_key="nosuch")
    assert not (tmp_path / "i.duckdb").exists()


def test_dagster_step_refuses_an_unknown_source_that_got_through(tmp_path, corpus):
    """GraphQL launchRun accepts any partition tag and fails only at step time (DESIGN.md):
    the first asset reads the launch's tags and refuses, with the CLI's message, before
    any work. (tests/test_e2e_dagster_dev.py launches such a run through `dagster dev`.)"""
    result = launch(tmp_path, corpus, tags={"dagster/partition": "nosuch"})
    assert not result.success
    failures = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
    assert len(failures) == 1 and "unknown source 'nosuch'; valid sources are: claude, codex, gemini, qwen, copilot, opencode" in failures[0]
    assert not (tmp_path / "i.duckdb").exists() and not (tmp_path / "i.duckdb.staging").exists()


def test_dagster_codex_only_leaves_claude_rows_identical(tmp_path, corpus):
    assert launch(tmp_path, corpus, tags={"dagster/asset_partition_range_start": "claude", "dagster/asset_partition_range_end": "codex"}).success
    db = tmp_path / "i.duckdb"
    claude_before = source_rows(db, "claude")
    extra = corpus / "codex/sessions/2026/12/31"
    extra.mkdir(parents=True, exist_ok=True)
    src = sorted((corpus / "codex/sessions").rglob("rollout-*.jsonl"))[0]
    shutil.copy(src, extra / src.name.replace("rollout-", "rollout-copy-"))
    try:
        result = launch(tmp_path, corpus, partition_key="codex")
        assert result.success
    finally:
        shutil.rmtree(extra)
    assert source_rows(db, "claude") == claude_before
    con = duckdb.connect(str(db), read_only=True)
    rejected = con.execute("SELECT reason FROM indexed_files WHERE path LIKE '%rollout-copy-%'").fetchall()
    con.close()
    assert rejected == [("duplicate_session_id",)]  # the copy names an indexed thread
