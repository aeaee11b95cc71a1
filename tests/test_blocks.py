"""Five-hour usage blocks (`usage blocks`): where a block begins and ends, gaps, and the
active block's burn rate and projection, on fixtures whose call times are known. (Agreement
with ccusage on the synthetic corpus: tests/test_usage.py.)"""

import json
import shutil
from datetime import datetime, timezone

from claude_view_pipeline.blocks import usage_blocks

from helpers import FIXTURES, run_cli


def indexed(tmp_path, *files):
    root = tmp_path / "projects" / "-home-dev-app"
    root.mkdir(parents=True)
    for name, text in files:
        (root / name).write_text(text)
    db = tmp_path / "i.duckdb"
    proc = run_cli("index", "--db", str(db), "--sources", "claude", "--claude-dir", str(tmp_path / "projects"))
    assert proc.returncode == 0, proc.stderr
    return db


def test_the_active_block_has_a_burn_rate_and_a_projection(tmp_path):
    # tool_heavy.jsonl: three calls at 10:00:02, 10:00:06 and 10:00:09 UTC, 9,286 tokens
    db = indexed(tmp_path, ("tool_heavy.jsonl", (FIXTURES / "claude" / "tool_heavy.jsonl").read_text()))
    (block,) = usage_blocks(db, now=datetime(2026, 2, 2, 10, 30, tzinfo=timezone.utc))
    assert (block["start"], block["end"], block["is_active"], block["api_call_count"], block["total_tokens"]) == (
        "2026-02-02T10:00:00.000Z", "2026-02-02T15:00:00.000Z", True, 3, 9286)
    # 9,286 tokens over the 7 s from the first call to the last: 9286 * 3600 / 7 per hour;
    # 4.5 hours left at 10:30: 9286 + 4.5 * 9286 * 3600 / 7 = 21,499,743
    assert block["burn_rate"]["tokens_per_hour"] == 4775657.1
    assert block["projection"] == {"total_tokens": 21499743, "cost_usd": round(block["cost_usd"] * (1 + 4.5 * 3600 / 7), 4),
                                   "remaining_minutes": 270}
    # once the five hours are over, no block is active
    assert usage_blocks(db, now=datetime(2026, 2, 2, 15, 0, tzinfo=timezone.utc), active_only=True) == []


def test_a_pause_of_five_hours_is_a_gap_and_the_next_call_begins_a_block(tmp_path):
    minimal = (FIXTURES / "claude" / "minimal.jsonl").read_text()  # one call, 2026-02-01 09:00:02, 115 tokens
    later = (minimal.replace("5c1b0d2e-0001-4a5b", "5c1b0d2e-0011-4a5b").replace("msg_01MIN", "msg_01LATER")
             .replace("req_01MIN", "req_01LATER").replace("5c1b0d2e-000", "5c1b0d2e-110")
             .replace("2026-02-01T09:00:0", "2026-02-01T16:42:0"))  # 7 h 42 min later
    db = indexed(tmp_path, ("a.jsonl", minimal), ("b.jsonl", later))
    proc = run_cli("usage", "blocks", "--db", str(db), "--json", "--no-refresh")
    assert proc.returncode == 0, proc.stderr
    blocks = [(b["start"], b["end"], b["is_gap"], b["total_tokens"]) for b in json.loads(proc.stdout)]
    assert blocks == [
        ("2026-02-01T09:00:00.000Z", "2026-02-01T14:00:00.000Z", False, 115),
        ("2026-02-01T14:00:02.000Z", "2026-02-01T16:42:02.000Z", True, 0),  # 5 h after the last call, to the next
        ("2026-02-01T16:00:00.000Z", "2026-02-01T21:00:00.000Z", False, 115),
    ]
    shown = run_cli("usage", "blocks", "--db", str(db), "--no-refresh", "--timezone", "UTC").stdout.splitlines()
    assert shown[0] == "5-hour usage blocks (UTC)"
    assert shown[2].split() == ["claude", "2026-02-01", "09:00", "2026-02-01", "14:00", "1", "115", "0.00", "claude-sonnet-4-5-20250929"]
    assert shown[3].split() == ["claude", "2026-02-01", "14:00", "2026-02-01", "16:42", "(gap)"]
    # in another zone the same blocks are shown in its time, and --since/--until cut its days
    tokyo = run_cli("usage", "blocks", "--db", str(db), "--no-refresh", "--timezone", "Asia/Tokyo").stdout.splitlines()
    assert tokyo[0] == "5-hour usage blocks (Asia/Tokyo)" and tokyo[2].split()[:5] == ["claude", "2026-02-01", "18:00", "2026-02-01", "23:00"]
    # the block of 16:00 UTC began on 2 February in Tokyo
    only_2nd = json.loads(run_cli("usage", "blocks", "--db", str(db), "--no-refresh", "--json", "--timezone", "Asia/Tokyo",
                                  "--since", "2026-02-02").stdout)
    assert [(b["start"], b["is_gap"]) for b in only_2nd] == [("2026-02-01T16:00:00.000Z", False)]
