"""Every registered source works the way Claude and Codex do, through the same code: indexed
exactly (the generators' ground truth), counted by usage, switched off and back on without
loss, one Dagster partition each, all of them in one run, and a source that is not installed
materializes empty."""

import json
import shutil

import dagster as dg
import duckdb
import pytest

from assets.index import index_assets
from orchestration.resources import IndexSettings
from benchmarks.synth import generate, source_dir
from checks.index_checks import index_checks
from claude_view_pipeline.sources import SOURCE_NAMES, Source

from helpers import assert_matches_ground_truth, run_cli, source_rows

# the sources the registry added to Claude and Codex
NEWER = SOURCE_NAMES[2:]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("every-source")
    truth = generate(out, claude_sessions=3, codex_sessions=3, seed=61, more=dict.fromkeys(NEWER, 6))
    return out, truth["sessions"]


def dir_args(out) -> list[str]:
    return [a for name in SOURCE_NAMES for a in (f"--{name}-dir", str(source_dir(out, name)))]


def truth_of(truth: dict, source: str) -> dict:
    return {sid: t for sid, t in truth.items() if sid.startswith(f"{source}:")}


@pytest.fixture(scope="module")
def indexed(corpus, tmp_path_factory):
    out, truth = corpus
    db = tmp_path_factory.mktemp("every-source-db") / "i.duckdb"
    proc = run_cli("index", "--db", str(db), *dir_args(out), "--json")
    assert proc.returncode == 0, proc.stderr
    return db, json.loads(proc.stdout)


def test_every_source_is_indexed_exactly(corpus, indexed):
    (_, truth), (db, summary) = corpus, indexed
    assert summary["success"] is True and all(summary["checks"].values())
    assert list(summary["sources"]) == list(SOURCE_NAMES)
    for name in SOURCE_NAMES:
        s = summary["sources"][name]
        assert (s["sessions"], s["files_rejected"], s["lines_malformed"]) == (len(truth_of(truth, name)), {}, 0), name
        assert len(truth_of(truth, name)) >= 3, name
    assert_matches_ground_truth(db, truth)
    con = duckdb.connect(str(db), read_only=True)
    # each agent's own record of the project directory names the session's project
    assert con.execute("SELECT source, id FROM sessions WHERE project IS NULL OR project = ''").fetchall() == []
    con.close()


@pytest.mark.parametrize("period", ["daily", "monthly", "session"])
def test_usage_counts_every_source_as_its_sessions_say(corpus, indexed, period):
    (_, truth), (db, _) = corpus, indexed
    proc = run_cli("usage", period, "--db", str(db), "--no-refresh", "--json", "--timezone", "UTC")
    assert proc.returncode == 0, proc.stderr
    got: dict[str, int] = {}
    for row in json.loads(proc.stdout):
        got[row["source"]] = got.get(row["source"], 0) + row["total_tokens"]
    # a session whose input its log does not all give (a Copilot process that never wrote its
    # shutdown) has no total; usage counts what is known of its calls
    unknown = sorted(sid for sid, t in truth.items() if t["total_tokens"] is None)
    assert unknown and all(sid.startswith("copilot:") for sid in unknown)
    con = duckdb.connect(str(db), read_only=True)
    known = dict(con.execute(
        "SELECT session_id, sum(coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0) + coalesce(cache_creation_tokens, 0)"
        " + coalesce(output_tokens, 0)) FROM messages WHERE api_call AND NOT inherited AND list_contains(?, session_id)"
        " GROUP BY session_id", [unknown]).fetchall())
    con.close()
    assert got == {name: sum(known[sid] if t["total_tokens"] is None else t["total_tokens"]
                             for sid, t in truth_of(truth, name).items()) for name in SOURCE_NAMES}


def test_status_and_the_daily_usage_table_name_every_source(indexed):
    db, _ = indexed
    status = json.loads(run_cli("status", "--db", str(db), "--json").stdout)
    assert list(status["sources"]) == list(SOURCE_NAMES)
    con = duckdb.connect(str(db), read_only=True)
    assert [r[0] for r in con.execute("SELECT DISTINCT source FROM daily_usage ORDER BY source").fetchall()] == sorted(SOURCE_NAMES)
    con.close()


@pytest.mark.parametrize("name", NEWER)
def test_a_source_switched_off_and_on_keeps_its_rows(corpus, tmp_path, name):
    out, _ = corpus
    db = tmp_path / "i.duckdb"
    assert run_cli("index", "--db", str(db), *dir_args(out)).returncode == 0
    before = source_rows(db, name)
    flag = Source(name).spec.enable_flag
    off = run_cli("index", "--db", str(db), *dir_args(out), "--full", "--json", env={flag: "false"})
    assert off.returncode == 0, off.stderr
    assert name not in json.loads(off.stdout)["sources"]  # not discovered, not parsed
    assert source_rows(db, name) == before
    on = run_cli("index", "--db", str(db), *dir_args(out), "--json")
    assert on.returncode == 0, on.stderr
    assert json.loads(on.stdout)["sources"][name]["files_parsed"] == 0  # nothing to do: nothing was lost
    assert source_rows(db, name) == before


def test_all_partitions_in_one_run(corpus, tmp_path, home):
    out, truth = corpus
    index = IndexSettings(db_path=str(tmp_path / "i.duckdb"), dirs={name: str(source_dir(out, name)) for name in SOURCE_NAMES})
    result = dg.materialize(index_assets + index_checks, resources={"index": index},
                            tags={"dagster/asset_partition_range_start": SOURCE_NAMES[0],
                                  "dagster/asset_partition_range_end": SOURCE_NAMES[-1]})
    assert result.success
    mats = result.asset_materializations_for_node("session_index")
    assert sorted(m.partition for m in mats if m.asset_key == dg.AssetKey("session_index")) == sorted(SOURCE_NAMES)
    assert all(e.passed for e in result.get_asset_check_evaluations())
    con = duckdb.connect(index.db_path, read_only=True)
    assert dict(con.execute("SELECT source, count(*) FROM sessions GROUP BY source").fetchall()) == {
        name: len(truth_of(truth, name)) for name in SOURCE_NAMES}
    con.close()


@pytest.mark.parametrize("name", NEWER)
def test_a_source_that_is_not_installed_materializes_empty(tmp_path, home, name):
    # an empty HOME: none of the agent's default directories exist
    index = IndexSettings(db_path=str(tmp_path / "i.duckdb"))
    result = dg.materialize(index_assets + index_checks, resources={"index": index}, partition_key=name)
    assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
    mat = next(m for m in result.asset_materializations_for_node("session_index") if m.asset_key == dg.AssetKey("session_index"))
    assert (mat.partition, mat.metadata["sessions_in_index"].value) == (name, 0)


def test_a_source_not_installed_costs_the_command_line_no_stage_until_it_appears(corpus, tmp_path):
    """Its first run records the roots it looked in; after that, while none of them exists,
    no stage runs for it (no hand-off is written), its zero metrics are still recorded, and
    the run that finds its directory indexes all of it."""
    out, truth = corpus
    db = tmp_path / "i.duckdb"
    later = tmp_path / "later"  # the gemini directory, not there yet
    args = ["index", "--db", str(db), "--sources", "claude,gemini", "--claude-dir", str(source_dir(out, "claude")),
            "--gemini-dir", str(later), "--json"]
    assert run_cli(*args).returncode == 0
    staging = db.parent / f"{db.name}.staging"
    shutil.rmtree(staging / "gemini", ignore_errors=True)
    second = run_cli(*args)
    assert second.returncode == 0, second.stderr
    s = json.loads(second.stdout)
    assert s["success"] is True
    assert (s["sources"]["gemini"]["files_scanned"], s["sources"]["gemini"]["sessions"]) == (0, 0)
    assert not (staging / "gemini").exists()
    con = duckdb.connect(str(db), read_only=True)
    metrics = con.execute("SELECT stage, result, metric, value FROM index_metrics WHERE source = 'gemini' AND run_id = ? ORDER BY ALL",
                          [s["run_id"]]).fetchall()
    con.close()
    assert metrics == sorted([("pass1", "ok", "files_scanned", 0.0), ("pass2", "ok", "lines", 0.0),
                              ("pass2", "parse_error", "lines", 0.0), ("pass2", "ok", "sessions_indexed", 0.0)])
    shutil.copytree(source_dir(out, "gemini"), later)
    third = json.loads(run_cli(*args).stdout)
    assert third["sources"]["gemini"]["sessions"] == len(truth_of(truth, "gemini"))
