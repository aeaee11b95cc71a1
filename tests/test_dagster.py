"""The Dagster layer: the code location loads cleanly, the job materializes one source
partition at a time or both in one run (`dagster dev` itself: test_e2e_dagster_dev.py)."""

import json
import logging
import os
import subprocess
import sys

import dagster as dg
import duckdb
import pytest
from helpers import REPO

from assets.definitions import defs
from assets.index import index_assets
from orchestration.resources import IndexSettings
from benchmarks.synth import generate
from checks.index_checks import index_checks
from claude_view_pipeline.integrity import CHECKS


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    generate(out, claude_sessions=5, codex_sessions=4, seed=11)
    return out


def settings(tmp_path, corpus):
    return IndexSettings(
        db_path=str(tmp_path / "i.duckdb"), dirs={"claude": str(corpus / "claude" / "projects"), "codex": str(corpus / "codex" / "sessions")})


def test_code_location_imports_without_warnings():
    code = (
        "import warnings, json\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    from assets.definitions import defs\n"
        "    defs.resolve_all_job_defs()\n"
        "print(json.dumps([f'{w.category.__name__}: {w.message} ({w.filename})' for w in caught]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_definitions_shape():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"session_files", "parsed_sessions", "session_index", "verification_report", "daily_usage", "usage_blocks",
                    "sessions", "messages", "indexed_files", "index_metrics", "rate_limits", "search_index"}
    job = defs.resolve_job_def("index_sessions")
    assert job.partitions_def.get_partition_keys() == ["claude", "codex", "gemini", "qwen", "copilot", "opencode"]
    index_checks_ = {c.name for c in graph.asset_check_keys if c.asset_key == dg.AssetKey("session_index")}
    assert {c.name for c in graph.asset_check_keys if c.asset_key == dg.AssetKey("rate_limits")} == {"codex_primary_window_has_room"}
    assert index_checks_ == {c.name for c in CHECKS} and len(CHECKS) == 8
    # upstream/downstream: session_files -> parsed_sessions -> session_index
    assert {k.to_user_string() for k in graph.get(dg.AssetKey("session_index")).parent_keys} == {"parsed_sessions"}
    assert {k.to_user_string() for k in graph.get(dg.AssetKey("parsed_sessions")).parent_keys} == {"session_files"}
    # session_index writes the four tables; the usage rollup reads two of them
    for table in ("sessions", "messages", "indexed_files", "index_metrics", "rate_limits"):
        assert {k.to_user_string() for k in graph.get(dg.AssetKey(table)).parent_keys} == {"session_index"}
    # ... and follows session_index, whose blocking checks its refresh waits for
    assert {k.to_user_string() for k in graph.get(dg.AssetKey("daily_usage")).parent_keys} == {"sessions", "messages", "session_index"}
    # the search index: per source, after that source's messages
    assert {k.to_user_string() for k in graph.get(dg.AssetKey("search_index")).parent_keys} == {"messages", "session_index"}
    assert graph.get(dg.AssetKey("search_index")).partitions_def.get_partition_keys() == job.partitions_def.get_partition_keys()


def test_table_assets_carry_their_column_schema_from_the_duckdb_schema():
    graph = defs.resolve_asset_graph()
    columns = {t: graph.get(dg.AssetKey(t)).metadata["dagster/column_schema"].columns
               for t in ("sessions", "messages", "indexed_files", "index_metrics", "rate_limits")}
    assert {t: len(c) for t, c in columns.items()} == {"sessions": 43, "messages": 29, "indexed_files": 14, "index_metrics": 7,
                                                      "rate_limits": 9}
    first = columns["sessions"][0]
    assert (first.name, first.type, first.description, first.constraints.nullable) == (
        "id", "VARCHAR", "Canonical id `<source>:<source_session_id>`; the primary key.", False)
    assert all(c.description for cols in columns.values() for c in cols)  # every column says what it holds


def test_one_partition_writes_only_its_source(tmp_path, corpus):
    index = settings(tmp_path, corpus)
    result = dg.materialize(index_assets + index_checks, resources={"index": index}, partition_key="codex")
    assert result.success
    con = duckdb.connect(index.db_path, read_only=True)
    assert con.execute("SELECT source, count(*) FROM sessions GROUP BY source").fetchall() == [("codex", 4)]
    con.close()
    mats = {m.asset_key.to_user_string(): m for m in result.asset_materializations_for_node("session_index")}
    assert sorted(mats) == ["index_metrics", "indexed_files", "messages", "rate_limits", "session_index", "sessions"]
    assert mats["session_index"].partition == "codex" and mats["session_index"].metadata["sessions_in_index"].value == 4
    assert (mats["sessions"].metadata["dagster/row_count"].value, mats["sessions"].metadata["dagster/partition_row_count"].value) == (4, 4)
    assert mats["indexed_files"].metadata["dagster/partition_row_count"].value == 4
    assert [e.passed for e in result.get_asset_check_evaluations()] == [True] * 9  # eight integrity checks, the plan-window one


def test_both_partitions_in_one_run(tmp_path, corpus):
    index = settings(tmp_path, corpus)
    result = dg.materialize(
        index_assets + index_checks,
        resources={"index": index},
        tags={"dagster/asset_partition_range_start": "claude", "dagster/asset_partition_range_end": "codex"},
    )
    assert result.success
    mats = [m for m in result.asset_materializations_for_node("session_index")]
    assert sorted(m.partition for m in mats if m.asset_key == dg.AssetKey("session_index")) == ["claude", "codex"]
    sessions = next(m for m in mats if m.asset_key == dg.AssetKey("sessions"))
    assert {k: sessions.metadata[k].value for k in ("dagster/row_count", "claude/rows", "codex/rows")} == {
        "dagster/row_count": 9, "claude/rows": 5, "codex/rows": 4}
    con = duckdb.connect(index.db_path, read_only=True)
    assert con.execute("SELECT source, count(*) FROM sessions GROUP BY source ORDER BY source").fetchall() == [("claude", 5), ("codex", 4)]
    con.close()


def test_disabled_source_fails_the_step_and_writes_nothing(tmp_path, corpus, monkeypatch):
    monkeypatch.setenv("ENABLE_CODEX_SOURCE", "false")
    index = settings(tmp_path, corpus)
    result = dg.materialize(index_assets, resources={"index": index}, partition_key="codex", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "ENABLE_CODEX_SOURCE=false" in failure.step_failure_data.error.message
    assert not os.path.exists(index.db_path)


def test_rejected_files_are_logged_in_the_run_event_log(tmp_path):
    """Each rejection (source, path, reason) shows in the run's event log, not only on stderr."""
    import shutil

    root = tmp_path / "projects"
    (root / "-home-dev-app").mkdir(parents=True)
    shutil.copy(REPO / "fixtures" / "claude" / "minimal.jsonl", root / "-home-dev-app" / "minimal.jsonl")
    junk = root / "-home-dev-app" / "debug.jsonl"
    junk.write_text("DEBUG not a transcript\n")
    index = IndexSettings(db_path=str(tmp_path / "i.duckdb"), dirs={"claude": str(root)})
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(index_assets, resources={"index": index}, partition_key="claude", instance=instance)
        warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING]
    assert result.success
    assert [m for m in warnings if "file rejected" in m] == [
        f"[claude/pass2] file rejected result=not_a_session_log file_path={junk} (1 malformed line(s), no Claude Code line)"]


def test_session_index_can_be_selected_without_its_tables(tmp_path, corpus):
    """As `dg launch --assets session_files,parsed_sessions,session_index` does: the write is
    whole (all four tables), and only the selected assets report a materialization."""
    index = settings(tmp_path, corpus)
    result = dg.materialize(index_assets, selection=["session_files", "parsed_sessions", "session_index"],
                            resources={"index": index}, partition_key="codex")
    assert result.success
    materialized = sorted(e.materialization.asset_key.to_user_string() for e in result.get_asset_materialization_events())
    assert materialized == ["parsed_sessions", "session_files", "session_index"]
    con = duckdb.connect(index.db_path, read_only=True)
    assert con.execute("SELECT source, count(*) FROM sessions GROUP BY source").fetchall() == [("codex", 4)]
    con.close()
