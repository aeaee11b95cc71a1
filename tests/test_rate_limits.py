"""Codex's plan windows (the rate_limits table, `usage limits`, and the Dagster check that
warns while the active short window is nearly full), from real session files of the shared
corpus (values checked by hand against the lines) and from fixtures/rate_limits/, one line per
shape Codex has written."""

import json
import shutil
from datetime import datetime, timedelta, timezone

import dagster as dg
import duckdb

from assets.index import index_assets
from orchestration.resources import IndexSettings
from checks.index_checks import codex_primary_window_has_room
from claude_view_pipeline.parsers import parse_file
from claude_view_pipeline.sources import Source

from helpers import CORPUS, FIXTURES, requires_corpus, run_cli

UTC = timezone.utc


def windows(path):
    (session,) = parse_file(Source.CODEX, str(path)).sessions
    return [(r.at, r.window, r.used_percent, r.window_minutes, r.resets_at, r.line_no) for r in session.rate_limits]


@requires_corpus
def test_nested_shape_with_reset_times_and_the_update_event():
    # codex_053: two token_count events (resets_at, epoch seconds) and one
    # account/rateLimits/updated event (reset_at)
    got = windows(CORPUS / "jazzyalex+agent-sessions/Resources/Fixtures/codex_053_rate_limit.jsonl")
    t = datetime(2025, 10, 31, 17, 0, tzinfo=UTC)
    assert got == [
        (t + timedelta(seconds=5), "primary", 0.0, 300, datetime.fromtimestamp(1761950218, UTC), 2),
        (t + timedelta(seconds=5), "secondary", 7.0, 10080, datetime.fromtimestamp(1762458353, UTC), 2),
        (t + timedelta(seconds=10), "primary", 1.0, 300, datetime.fromtimestamp(1761950223, UTC), 3),
        (t + timedelta(seconds=10), "secondary", 7.0, 10080, datetime.fromtimestamp(1762458353, UTC), 3),
        (t + timedelta(seconds=20), "primary", 85.0, 300, datetime.fromtimestamp(1730393112, UTC), 5),
        (t + timedelta(seconds=20), "secondary", 12.0, 10080, datetime.fromtimestamp(1730900712, UTC), 5),
    ]


@requires_corpus
def test_newer_shape_with_plan_fields_and_a_missing_secondary():
    # small.jsonl line 22: limit_id/plan_type beside primary; secondary null. Its lines with a
    # "[trimmed for fixture]" timestamp cannot be placed in time and give no row.
    got = windows(CORPUS / "jazzyalex+agent-sessions/Resources/Fixtures/stage0/agents/codex/small.jsonl")
    assert got == [(datetime(2026, 8, 3, 10, 48, 56, tzinfo=UTC), "primary", 1.0, 10080, datetime.fromtimestamp(1785958530, UTC), 22)]


def test_flat_shape_seconds_to_reset_and_unknown_lengths():
    got = windows(FIXTURES / "rate_limits" / "rollout-2026-01-12T08-00-00-0199a000-0000-7000-8000-0000000000a1.jsonl")
    t = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
    assert got == [
        (t + timedelta(seconds=5), "primary", 12.5, 299, None, 3),  # the old flat fields
        (t + timedelta(seconds=5), "secondary", 3.0, 10079, None, 3),
        (t + timedelta(minutes=90), "primary", 40.0, 300, t + timedelta(minutes=150), 4),  # 09:30 + 3600 s
        (t + timedelta(minutes=90), "secondary", 5.0, 10080, t + timedelta(minutes=90, seconds=432000), 4),
        (t + timedelta(minutes=105), "primary", 35.0, None, None, 5),  # 0 minutes, 0 s: not reported
    ]  # line 6, "redacted": no row


def test_usage_limits_latest_state_and_daily_peaks(tmp_path):
    day = tmp_path / "sessions" / "2026" / "01" / "12"
    day.mkdir(parents=True)
    shutil.copy(next((FIXTURES / "rate_limits").glob("*.jsonl")), day)
    db = tmp_path / "i.duckdb"
    assert run_cli("index", "--db", str(db), "--sources", "codex", "--codex-dir", str(tmp_path / "sessions")).returncode == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT session_id) FROM rate_limits").fetchall() == [(5, 1)]
    con.close()
    chart = tmp_path / "windows.png"
    proc = run_cli("usage", "limits", "--db", str(db), "--json", "--timezone", "UTC", "--no-refresh", "--plot", str(chart))
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(proc.stdout) == {
        "windows": [
            {"window": "primary", "used_percent": 35.0, "window_minutes": None, "reported_at": "2026-01-12T09:45:00Z", "resets_at": None},
            {"window": "secondary", "used_percent": 5.0, "window_minutes": 10080, "reported_at": "2026-01-12T09:30:00Z",
             "resets_at": "2026-01-17T09:30:00Z"},
        ],
        "days": [{"day": "2026-01-12", "window": "primary", "peak_used_percent": 40.0},
                 {"day": "2026-01-12", "window": "secondary", "peak_used_percent": 5.0}],
    }


def nearly_full_now(root, used_percent):
    """A Codex session of ten minutes ago whose primary window is still open (an hour to go)."""
    now = datetime.now(UTC)
    stamp = (now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    day = root / now.strftime("%Y/%m/%d")
    day.mkdir(parents=True)
    lines = [
        {"timestamp": stamp, "type": "session_meta", "payload": {"id": "0199a000-0000-7000-8000-0000000000b1", "cwd": "/home/dev/proj",
                                                                  "originator": "codex_cli_rs", "cli_version": "0.77.0"}},
        {"timestamp": stamp, "type": "event_msg", "payload": {"type": "user_message", "message": "go"}},
        {"timestamp": stamp, "type": "event_msg", "payload": {"type": "token_count", "info": None, "rate_limits": {
            "primary": {"used_percent": used_percent, "window_minutes": 300, "resets_in_seconds": 4200}}}},
    ]
    (day / "rollout-2026-01-01T00-00-00-0199a000-0000-7000-8000-0000000000b1.jsonl").write_text(
        "".join(json.dumps(x) + "\n" for x in lines))


def test_the_check_warns_while_the_active_primary_window_is_nearly_full(tmp_path, monkeypatch):
    nearly_full_now(tmp_path / "sessions", 95.0)
    index = IndexSettings(db_path=str(tmp_path / "i.duckdb"), dirs={"codex": str(tmp_path / "sessions")})
    result = dg.materialize([*index_assets, codex_primary_window_has_room], resources={"index": index}, partition_key="codex")
    assert result.success  # a warning, not a failure
    (check,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "codex_primary_window_has_room"]
    assert (check.passed, check.severity, check.metadata["used_percent"].value, check.metadata["threshold_percent"].value) == (
        False, dg.AssetCheckSeverity.WARN, 95.0, 90.0)
    monkeypatch.setenv("CLAUDE_VIEW_RATE_LIMIT_WARN_PERCENT", "96")
    again = dg.materialize([*index_assets, codex_primary_window_has_room], resources={"index": index}, partition_key="codex")
    (check,) = [e for e in again.get_asset_check_evaluations() if e.check_name == "codex_primary_window_has_room"]
    assert check.passed


def test_an_index_from_before_rate_limits_reads_its_codex_files_again(tmp_path):
    day = tmp_path / "sessions" / "2026" / "01" / "12"
    day.mkdir(parents=True)
    shutil.copy(next((FIXTURES / "rate_limits").glob("*.jsonl")), day)
    db = tmp_path / "i.duckdb"
    args = ["index", "--db", str(db), "--sources", "codex", "--codex-dir", str(tmp_path / "sessions"), "--json"]
    assert run_cli(*args).returncode == 0
    con = duckdb.connect(str(db))  # as the previous release left it: schema 9, no rate_limits
    con.execute("DROP TABLE rate_limits")
    con.execute("DELETE FROM schema_migrations WHERE version = 10")
    con.close()
    upgraded = run_cli(*args)
    assert upgraded.returncode == 0, upgraded.stderr
    assert json.loads(upgraded.stdout)["sources"]["codex"]["files_parsed"] == 1  # read again, though unchanged
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM rate_limits").fetchall() == [(5,)]
    con.close()
    assert json.loads(run_cli(*args).stdout)["sources"]["codex"]["files_parsed"] == 0  # and then settled
