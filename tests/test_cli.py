"""The `claude-view-pipeline index` command end to end, in a real subprocess."""

import json

import duckdb
import pytest

from benchmarks.synth import generate

from helpers import CORPUS, FIXTURES, assert_matches_ground_truth, requires_corpus, run_cli


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    truth = generate(out, claude_sessions=300, codex_sessions=300, seed=7)
    return out, truth


def test_index_300_sessions_per_source_matches_ground_truth(tmp_path, synthetic):
    corpus, truth = synthetic
    db = tmp_path / "index.duckdb"
    args = ["index", "--db", str(db), "--claude-dir", str(corpus / "claude/projects"), "--codex-dir", str(corpus / "codex/sessions"), "--json"]
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["success"] is True and len(summary["checks"]) == 8 and all(summary["checks"].values())
    for source in ("claude", "codex"):
        s = summary["sources"][source]
        assert (s["files_scanned"], s["files_parsed"], s["sessions"], s["files_rejected"], s["lines_malformed"]) == (300, 300, 300, {}, 0)
        expected_total = sum(t["total_tokens"] for sid, t in truth["sessions"].items() if sid.startswith(source))
        assert s["tokens"]["total_tokens"] == expected_total
    assert_matches_ground_truth(db, truth["sessions"])

    # the same command again: incremental, nothing parsed, same content
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    assert [json.loads(again.stdout)["sources"][s]["files_parsed"] for s in ("claude", "codex")] == [0, 0]
    assert_matches_ground_truth(db, truth["sessions"])


def test_human_summary(tmp_path, synthetic):
    corpus, truth = synthetic
    db = tmp_path / "index.duckdb"
    proc = run_cli("index", "--db", str(db), "--sources", "codex", "--codex-dir", str(corpus / "codex/sessions"))
    assert proc.returncode == 0, proc.stderr
    codex_total = sum(t["total_tokens"] for sid, t in truth["sessions"].items() if sid.startswith("codex:"))
    lines = proc.stdout.splitlines()
    assert lines[0] == f"index: {db}"
    con = duckdb.connect(str(db), read_only=True)
    messages = con.execute("SELECT count(*) FROM messages").fetchone()[0]
    con.close()
    assert lines[1].split() == ["source", "files", "parsed", "rejected", "sessions", "messages", "tokens"]
    assert lines[2].split() == ["codex", "300", "300", "0", "300", str(messages), f"{codex_total:,}"]
    assert not any(line.strip().startswith("claude") for line in lines)  # only the chosen source
    assert lines[-1] == "checks: 8/8 passed"


def test_unknown_source_exits_2_before_any_work(tmp_path):
    db = tmp_path / "index.duckdb"
    proc = run_cli("index", "--sources", "nosuch", "--db", str(db))
    assert proc.returncode == 2
    assert "unknown source 'nosuch'; valid sources are: claude, codex, gemini, qwen, copilot, opencode" in proc.stderr
    assert not db.exists() and not (tmp_path / "index.duckdb.staging").exists()


def test_bad_flag_value_exits_2(tmp_path):
    proc = run_cli("index", "--db", str(tmp_path / "i.duckdb"), env={"ENABLE_CODEX_SOURCE": "flase"})
    assert proc.returncode == 2 and "ENABLE_CODEX_SOURCE='flase'" in proc.stderr


def test_disabled_source_requested_exits_2(tmp_path):
    proc = run_cli("index", "--sources", "codex", "--db", str(tmp_path / "i.duckdb"), env={"ENABLE_CODEX_SOURCE": "false"})
    assert proc.returncode == 2 and "codex is disabled (ENABLE_CODEX_SOURCE=false)" in proc.stderr
    assert not (tmp_path / "i.duckdb").exists()


def test_demo_when_no_sessions_are_found(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    proc = run_cli("index", "--demo-if-empty", "--json", env={"HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    assert "indexing the bundled demo sessions" in proc.stderr
    summary = json.loads(proc.stdout)
    demo_db = home / ".local/share/claude-view-pipeline/demo.duckdb"
    assert summary["demo"] is True and summary["db_path"] == str(demo_db)
    assert not (home / ".local/share/claude-view-pipeline/index.duckdb").exists()  # the real index stays clean
    truth = json.loads((FIXTURES / "demo" / "ground_truth.json").read_text())
    assert_matches_ground_truth(demo_db, truth["sessions"])


@requires_corpus
def test_every_real_corpus_file_is_indexed_or_rejected_with_a_reason(tmp_path):
    db = tmp_path / "index.duckdb"
    proc = run_cli("index", "--db", str(db), "--claude-dir", str(CORPUS), "--codex-dir", str(CORPUS), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    con = duckdb.connect(str(db), read_only=True)
    outcomes = con.execute("SELECT source, status, reason, count(*) FROM indexed_files GROUP BY ALL ORDER BY ALL").fetchall()
    con.close()
    for source in ("claude", "codex"):
        scanned = summary["sources"][source]["files_scanned"]
        assert scanned > 0 and sum(n for s, _, _, n in outcomes if s == source) == scanned
    known = {None, "empty", "not_a_session_log", "source_mismatch", "duplicate_session_id", "io_error"}
    assert {reason for _, _, reason, _ in outcomes} <= known
    assert all(reason is not None for _, status, reason, _ in outcomes if status == "rejected")


def test_demo_rows_never_go_into_a_named_index(tmp_path):
    # CLAUDE_VIEW_DB (or --db) names a real index; with no sessions found the demo goes beside it
    home = tmp_path / "home"
    home.mkdir()
    real = tmp_path / "data" / "index.duckdb"
    for extra_args, env in (([], {"HOME": str(home), "CLAUDE_VIEW_DB": str(real)}), (["--db", str(real)], {"HOME": str(home)})):
        proc = run_cli("index", "--demo-if-empty", "--json", *extra_args, env=env)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["db_path"] == str(real.with_name("demo.duckdb"))
        assert not real.exists()


def test_an_index_path_with_glob_characters_works(tmp_path):
    db = tmp_path / "odd [1] *name" / "index.duckdb"
    proc = run_cli("index", "--db", str(db), "--claude-dir", str(FIXTURES / "claude"), "--sources", "claude", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    # fixtures/claude: 14 files, one session each (subagent and resumed files included)
    assert summary["success"] and summary["sources"]["claude"]["sessions"] == 14
