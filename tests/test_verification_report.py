"""The verification report: its statistics, its memory between runs, its
thresholds as asset checks and its CLI."""

import json
import math
from datetime import date, datetime, timedelta, timezone

import dagster as dg
import duckdb

from claude_view_pipeline.store.migrate import available_migrations
import pytest
from helpers import run_cli

from assets.index import index_assets
from orchestration.resources import IndexSettings
from assets.verification import verification_report
from benchmarks.synth import generate
from claude_view_pipeline import pipeline
from claude_view_pipeline.sources import Source
from claude_view_pipeline.staging import StagingArea
from claude_view_pipeline.verification import build_report, psi, wilson_interval


def test_wilson_interval():
    # 95/100, z = 1.96: centre 0.969208/1.038416 = 0.93335, half 1.96*sqrt(0.00057104)/1.038416 = 0.04510
    lo, hi = wilson_interval(95, 100)
    assert (round(lo, 4), round(hi, 4)) == (0.8882, 0.9785)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0 and round(lo, 4) == 0.7225


def test_psi():
    # (0.6-0.5)ln(0.6/0.5) + (0.4-0.5)ln(0.4/0.5)
    assert math.isclose(psi({"a": 50, "b": 50}, {"a": 60, "b": 40}), 0.1 * math.log(1.2) + 0.1 * math.log(1.25))
    assert psi({}, {"a": 1}) is None and psi({"a": 3}, {"a": 7}) == 0.0


@pytest.fixture
def index_db(tmp_path):
    generate(tmp_path / "c", claude_sessions=6, codex_sessions=4, seed=81)
    db = tmp_path / "i.duckdb"
    roots = {Source.CLAUDE: [tmp_path / "c/claude/projects"], Source.CODEX: [tmp_path / "c/codex/sessions"]}
    staging = StagingArea.beside(db)
    for source, r in roots.items():
        pipeline.stage_session_files(source, r, db, staging)
        pipeline.stage_parsed_sessions(source, staging, workers=1)
        pipeline.load_session_index(source, staging, db)
    return db, roots


DAY1 = datetime(2026, 11, 25, 23, 0, tzinfo=timezone.utc)
DAY2 = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


def test_report_on_a_clean_index_and_its_baseline_of_an_earlier_day(index_db):
    db, _ = index_db
    first = build_report(db, now=DAY1)
    for name, n in (("claude", 6), ("codex", 4)):
        s = first.sources[name]
        assert (s.files_ok, s.files_expected, s.parse_success_rate, s.session_id_match_rate) == (n, n, 1.0, 1.0)
        assert (s.unknown_event_ratio, s.idempotency_diff_count, s.duplicate_identity_conflicts, s.kind_psi) == (0.0, 0, 0, None)
        assert s.failed() == [] and s.warnings() == []
    later_that_day = build_report(db, now=DAY1 + timedelta(minutes=30))
    assert later_that_day.baseline_day is None  # a report minutes old is no baseline
    assert [later_that_day.sources[s].kind_psi for s in ("claude", "codex")] == [None, None]
    second = build_report(db, now=DAY2)
    assert second.baseline_day == date(2026, 11, 25)
    assert [second.sources[s].kind_psi for s in ("claude", "codex")] == [0.0, 0.0]
    assert "| claude | 100.00% (6/6;" in second.markdown()
    assert "Drift and idempotency compare with the report of 2026-11-25." in second.markdown()


def test_idempotency_diff_catches_content_that_changed_under_an_unchanged_file(index_db):
    db, _ = index_db
    build_report(db, now=DAY1)
    con = duckdb.connect(str(db))
    con.execute("UPDATE sessions SET user_prompt_count = user_prompt_count + 1 WHERE source = 'codex' AND id = (SELECT min(id) FROM sessions WHERE source = 'codex')")
    con.close()
    for hour in (0, 5):  # the second report of the day still compares with yesterday's
        report = build_report(db, now=DAY2 + timedelta(hours=hour))
        assert report.sources["codex"].idempotency_diff_count == 1
        assert report.sources["codex"].failed() == ["idempotency_diff_count"]
        assert report.sources["claude"].idempotency_diff_count == 0


def test_drift_warns_and_does_not_fail_the_report(index_db, tmp_path):
    db, _ = index_db
    build_report(db, now=DAY1)
    con = duckdb.connect(str(db))
    # the logs are now all of one kind: the kind distribution drifts far from DAY1's
    con.execute("UPDATE messages SET kind = 'tool_result' WHERE source = 'claude'")
    con.close()
    out = tmp_path / "report.md"
    proc = run_cli("report", "--db", str(db), "--json", "--out", str(out))  # today, compared with DAY1
    assert proc.returncode == 0, proc.stdout + proc.stderr  # a warning, as in the Dagster check
    claude = json.loads(proc.stdout)["claude"]
    assert claude["kind_psi"] > 0.25 and (claude["failed"], claude["warnings"]) == ([], ["kind_psi"])
    assert "| warn: kind_psi |" in out.read_text()


def test_failures_below_threshold_and_the_cli(index_db, tmp_path):
    db, roots = index_db
    (roots[Source.CLAUDE][0] / "-junk").mkdir()
    (roots[Source.CLAUDE][0] / "-junk" / "debug.jsonl").write_text("DEBUG not a transcript\n")
    staging = StagingArea.beside(db)
    pipeline.stage_session_files(Source.CLAUDE, roots[Source.CLAUDE], db, staging)
    pipeline.stage_parsed_sessions(Source.CLAUDE, staging, workers=1)
    pipeline.load_session_index(Source.CLAUDE, staging, db)
    out = tmp_path / "docs" / "verification-report.md"
    proc = run_cli("report", "--db", str(db), "--out", str(out))
    assert proc.returncode == 1  # a threshold failed
    assert "| claude | 85.71% (6/7;" in proc.stdout and "FAIL: parse_success_rate" in proc.stdout
    assert out.read_text() == proc.stdout


def test_asset_and_its_threshold_checks(tmp_path):
    generate(tmp_path / "c", claude_sessions=3, codex_sessions=2, seed=82)
    index = IndexSettings(db_path=str(tmp_path / "i.duckdb"), dirs={"claude": str(tmp_path / "c/claude/projects"), "codex": str(tmp_path / "c/codex/sessions")})
    assert dg.materialize(index_assets, resources={"index": index},
                          tags={"dagster/asset_partition_range_start": "claude", "dagster/asset_partition_range_end": "codex"}).success
    result = dg.materialize([verification_report], resources={"index": index})
    assert result.success
    (mat,) = result.asset_materializations_for_node("verification_report")
    assert mat.metadata["claude/parse_success_rate"].value == 1.0 and "Index verification report" in mat.metadata["summary"].value
    assert sorted((e.check_name, e.passed) for e in result.get_asset_check_evaluations()) == [
        ("verify_duplicate_identity_conflicts", True), ("verify_idempotency_diff_count", True), ("verify_kind_psi", True),
        ("verify_parse_success_rate", True), ("verify_unknown_event_ratio", True)]


def test_migration_dates_existing_snapshots_by_the_last_report(tmp_path):
    from claude_view_pipeline.store import migrate

    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    migrate(con, target=6)
    con.execute("INSERT INTO verification_reports VALUES ('r1', TIMESTAMPTZ '2026-11-20 22:00:00+00', 'claude', 'sessions', 3), "
                "('r2', TIMESTAMPTZ '2026-11-24 23:30:00+00', 'claude', 'sessions', 3)")
    con.execute("INSERT INTO verification_kind_snapshot VALUES ('claude', 'user', 4), ('claude', 'assistant', 4)")
    report = migrate(con)
    assert report.applied == [v for v, _, _ in available_migrations() if v >= 7] and report.backup is not None
    assert con.execute("SELECT DISTINCT taken_on FROM verification_kind_snapshot").fetchall() == [(date(2026, 11, 24),)]
    con.close()
    # the next day's report compares with it
    assert build_report(db, now=DAY2).baseline_day == date(2026, 11, 24)
