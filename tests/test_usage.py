"""Usage analytics: per-call cost from genai-prices, days cut in a chosen timezone, the
daily_usage asset and chart, the `usage` command, and agreement with ccusage (npm
ccusage@20.0.24) on the synthetic corpus: per-day per-model tokens exactly, cost within 2%."""

import base64
import json
import os
import shutil
import subprocess
from collections import defaultdict
from decimal import Decimal

import dagster as dg
import duckdb
import pytest
from genai_prices import Usage, calc_price
from helpers import FIXTURES, run_cli

from assets.index import index_assets
from orchestration.resources import IndexSettings
from assets.usage import daily_usage
from benchmarks.synth import generate
from claude_view_pipeline import usage

TOKENS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens")


def index(tmp_path, claude_dir, codex_dir):
    db = tmp_path / "i.duckdb"
    proc = run_cli("index", "--db", str(db), "--claude-dir", str(claude_dir), "--codex-dir", str(codex_dir))
    assert proc.returncode == 0, proc.stderr
    return db


def test_days_are_cut_in_the_chosen_timezone_and_unpriced_is_null(tmp_path):
    codex = tmp_path / "codex" / "2026" / "01" / "10"
    codex.mkdir(parents=True)
    text = (FIXTURES / "codex" / "minimal.jsonl").read_text()
    # the call is reported at 23:30 UTC: 2026-01-10 in UTC, 2026-01-11 in Tokyo
    text = text.replace("2026-01-10T09:00:02.600Z", "2026-01-10T23:30:00.000Z").replace('"model":"gpt-5-codex"', '"model":"acme-model-1"')
    (codex / "rollout-2026-01-10T09-00-00-0199a000-0000-7000-8000-000000000001.jsonl").write_text(text)
    db = index(tmp_path, tmp_path / "none", tmp_path / "codex")
    utc = usage.rollup(db, "daily", "UTC")
    tokyo = usage.rollup(db, "daily", "Asia/Tokyo")
    assert [str(r["day"]) for r in utc] == ["2026-01-10"] and [str(r["day"]) for r in tokyo] == ["2026-01-11"]
    assert utc[0]["cost_usd"] is None and usage.unpriced_models(utc) == ["codex:acme-model-1"]
    proc = run_cli("usage", "daily", "--db", str(db), "--timezone", "UTC")
    # the total says what has no price, never a priced part shown as the whole
    assert proc.returncode == 0 and proc.stdout.splitlines()[-1] == (
        "total: 2,030 tokens, 0.00 USD estimated for the priced part; 2,030 tokens have no price (codex:acme-model-1 2,030)")
    assert run_cli("usage", "daily", "--db", str(db), "--timezone", "Mars/Olympus").returncode == 2
    by_session = run_cli("usage", "session", "--db", str(db), "--timezone", "UTC", "--no-refresh")
    assert by_session.returncode == 0
    # the whole canonical id, not its first 12 characters
    assert by_session.stdout.splitlines()[2].startswith("codex:0199a000-0000-7000-8000-000000000001 codex ")


def test_one_hour_cache_writes_are_priced_at_their_own_rate(tmp_path):
    # fixtures/claude/cache_lifetimes, the shape Claude Code 2.1 writes: a main session whose
    # writes live an hour, and a subagent whose writes live 5 minutes. Per million tokens,
    # claude-sonnet-4-5: input $3, cache read $0.30, 5-minute write $3.75, 1-hour write $6,
    # output $15; claude-haiku-4-5: $1, $0.10, $1.25, $2, $5. Per call, in millionths of a USD:
    #   main  msg_01A 3*3 + 12000*6 + 310*15 = 76659 (one response over two lines, max output)
    #         msg_01B 1*3 + 12000*0.3 + 800*6 + 95*15 = 9828
    #         msg_01C 1*3 + 12800*0.3 + 150*6 + 60*15 = 5643      -> 0.092130
    #   agent msg_01D 4*1 + 5000*1.25 + 120*5 = 6854
    #         msg_01E 2*1 + 5000*0.1 + 300*1.25 + 80*5 = 1277      -> 0.008131
    # (every write priced as 5-minute, as before, gave 0.0629925 for the main session: 32% low)
    db = index(tmp_path, FIXTURES / "claude" / "cache_lifetimes", tmp_path / "none")
    rows = {r["session_id"]: r for r in json.loads(run_cli("usage", "session", "--db", str(db), "--json", "--no-refresh").stdout)}
    main, agent = rows["claude:c1a5e0de-7d2f-4b6a-9e01-5a3f0c9b1d01"], rows["claude:agent-a1b2c3d"]
    assert (main["cache_creation_5m_tokens"], main["cache_creation_1h_tokens"], main["cache_creation_tokens"]) == (0, 12950, 12950)
    assert (main["input_tokens"], main["cache_read_tokens"], main["output_tokens"], main["total_tokens"]) == (5, 24800, 465, 38220)
    assert (agent["cache_creation_5m_tokens"], agent["cache_creation_1h_tokens"], agent["total_tokens"]) == (5300, 0, 10506)
    assert round(main["cost_usd"], 9) == 0.09213 and round(agent["cost_usd"], 9) == 0.008131
    assert (main["price_provider"], main["price_model"], agent["price_model"]) == ("anthropic", "claude-sonnet-4-5", "claude-haiku-4-5")


def test_every_codex_call_is_priced_by_its_provider_or_its_assumed_model(tmp_path):
    codex = tmp_path / "codex" / "2026" / "03" / "02"
    codex.mkdir(parents=True)
    for name in ("no_model.jsonl", "other_provider.jsonl"):
        shutil.copy(FIXTURES / "codex" / name, codex / f"rollout-2026-03-02T08-00-00-{name}")
    db = index(tmp_path, tmp_path / "none", tmp_path / "codex")
    rows = {r["session_id"]: r for r in json.loads(run_cli("usage", "session", "--db", str(db), "--json", "--no-refresh").stdout)}
    # 0.34.0 named no model: assumed gpt-5 ($1.25 input, $0.125 cache read, $10 output per
    # million): 8000*1.25 + 4000*0.125 + 200*10 = 12500, 700*1.25 + 11800*0.125 + 60*10 = 2950
    old = rows["codex:0199b111-0000-7000-8000-000000000034"]
    assert (old["model"], old["model_assumed"], old["price_model"], round(old["cost_usd"], 9)) == ("gpt-5", True, "gpt-5", 0.01545)
    # kimi-k2.5:cloud through ollama-launch, a provider genai-prices does not know: priced as
    # moonshotai's kimi-k2.5 ($0.60, $0.10, $3): 10000*0.6 + 30000*0.1 + 1500*3 = 13500
    kimi = rows["codex:019c2222-0000-7000-8000-00000000aa11"]
    assert (kimi["model"], kimi["model_assumed"], kimi["price_provider"], kimi["price_model"]) == ("kimi-k2.5:cloud", False, "moonshotai", "kimi-k2.5")
    assert round(kimi["cost_usd"], 9) == 0.0135 and kimi["unpriced_tokens"] == 0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("usage-corpus")
    generate(out, claude_sessions=60, codex_sessions=60, seed=91)
    return out


def test_asset_writes_daily_usage_and_a_chart(tmp_path, corpus, monkeypatch):
    # one timezone setting for the command line and the assets
    monkeypatch.setenv("CLAUDE_VIEW_TIMEZONE", "Europe/Berlin")
    index_settings = IndexSettings(db_path=str(tmp_path / "i.duckdb"), dirs={"claude": str(corpus / "claude/projects"), "codex": str(corpus / "codex/sessions")})
    assert dg.materialize(index_assets, resources={"index": index_settings},
                          tags={"dagster/asset_partition_range_start": "claude", "dagster/asset_partition_range_end": "codex"}).success
    result = dg.materialize([daily_usage], resources={"index": index_settings})
    assert result.success
    (mat,) = result.asset_materializations_for_node("daily_usage")
    assert mat.metadata["timezone"].value == "Europe/Berlin" and mat.metadata["unpriced_models"].value == "none"
    chart = tmp_path / "daily_usage.png"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert chart.stat().st_mode & 0o777 == 0o600  # a run writes nothing others can read
    con = duckdb.connect(index_settings.db_path, read_only=True)
    table = con.execute("SELECT sum(total_tokens), sum(api_call_count), min(timezone), count(*) FILTER (WHERE cost_usd IS NULL) FROM daily_usage").fetchone()
    sessions_total = con.execute("SELECT sum(total_tokens), sum(api_call_count) FROM sessions").fetchone()
    table_rows = con.execute("SELECT count(*) FROM daily_usage").fetchone()[0]
    con.close()
    assert table[:2] == sessions_total and table[2:] == ("Europe/Berlin", 0)
    assert mat.metadata["total_tokens"].value == sessions_total[0]
    assert mat.metadata["dagster/row_count"].value == table_rows
    # the chart inline on the asset page: a PNG in the markdown, small enough for every event
    inline = mat.metadata["chart"].value
    prefix = "![daily usage chart](data:image/png;base64,"
    assert inline.startswith(prefix) and inline.endswith(")")
    png = base64.b64decode(inline[len(prefix):-1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(inline) < 60_000
    # the command line rebuilds the same table, in the same zone
    from claude_view_pipeline.indexing import refresh_daily_usage

    con = duckdb.connect(index_settings.db_path, read_only=True)
    by_asset = con.execute("SELECT * FROM daily_usage ORDER BY ALL").fetchall()
    con.close()
    assert refresh_daily_usage(tmp_path / "i.duckdb") == table_rows
    con = duckdb.connect(index_settings.db_path, read_only=True)
    assert con.execute("SELECT * FROM daily_usage ORDER BY ALL").fetchall() == by_asset
    con.close()


def ccusage_daily(ccusage, corpus, timezone):
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(corpus / "claude"), "CODEX_HOME": str(corpus / "codex")}
    proc = subprocess.run([ccusage, "daily", "--json", "--offline", "--timezone", timezone], capture_output=True, text=True, env=env, check=True)
    out = {}
    for day in json.loads(proc.stdout)["daily"]:
        for m in day["modelBreakdowns"]:
            out[(day["period"], m["modelName"])] = ((m["inputTokens"], m["cacheReadTokens"], m["cacheCreationTokens"], m["outputTokens"]), m.get("cost"))
    return out


@pytest.mark.parametrize("timezone", ["UTC", "Asia/Tokyo"])
def test_agrees_with_ccusage_daily(tmp_path, corpus, ccusage, timezone):
    db = index(tmp_path, corpus / "claude/projects", corpus / "codex/sessions")
    ours = defaultdict(lambda: [0, 0, 0, 0, 0.0])
    for r in usage.rollup(db, "daily", timezone):
        acc = ours[(r["day"].isoformat(), r["model"])]
        for i, k in enumerate(TOKENS):
            acc[i] += r[k]
        acc[4] += r["cost_usd"]
    theirs = ccusage_daily(ccusage, corpus, timezone)
    assert sorted(ours) == sorted(theirs)
    assert {k: tuple(v[:4]) for k, v in ours.items()} == {k: v[0] for k, v in theirs.items()}
    for key, (_, cost) in theirs.items():
        if cost:  # both price it
            assert abs(ours[key][4] - cost) <= 0.02 * cost, (key, ours[key][4], cost)
    # days actually cross midnight differently in Tokyo: the test is not trivially UTC
    if timezone == "Asia/Tokyo":
        assert {d for d, _ in ours} != {d for d, _ in ccusage_daily(ccusage, corpus, "UTC")}


def test_deliberate_difference_forked_codex_replay(tmp_path, ccusage):
    """Where we differ from ccusage on purpose: a forked Codex session (fixtures/codex/forked.jsonl)
    replays its parent's history, two calls worth 9,000 input / 7,000 cached / 180 output,
    at the fork's creation. Those calls were spent by the parent, not the fork (ccusage
    #1349, #1370), so we count only the fork's own two calls; ccusage 20.0.24 counts the
    replay too. A resumed Claude session's copied response, by contrast, both count once."""
    codex = tmp_path / "codex" / "sessions" / "2026" / "01" / "14"
    codex.mkdir(parents=True)
    shutil.copy(FIXTURES / "codex" / "forked.jsonl", codex / "rollout-2026-01-14T11-00-00-0199a000-0000-7000-8000-000000000006.jsonl")
    claude = tmp_path / "claude" / "projects"
    shutil.copytree(FIXTURES / "claude" / "resumed", claude)
    db = index(tmp_path, claude, tmp_path / "codex" / "sessions")
    ours = {(r["day"].isoformat(), r["model"]): tuple(r[k] for k in TOKENS)
            for r in usage.rollup(db, "daily", "UTC")}
    theirs = {k: v[0] for k, v in ccusage_daily(ccusage, tmp_path, "UTC").items()}
    # the resumed Claude session: the copied answer counts once in both
    assert ours[("2026-02-08", "claude-opus-4-1-20250805")] == theirs[("2026-02-08", "claude-opus-4-1-20250805")] == (8, 32100, 16020, 64)
    # the fork: its own calls (1000+1000 input not cached, 5000+5000 cached, 80+40 output) ...
    assert ours[("2026-01-14", "gpt-5-codex")] == (2000, 10000, 0, 120)
    # ... and ccusage's, which adds the parent's replayed calls
    assert theirs[("2026-01-14", "gpt-5-codex")] == (7000, 29000, 0, 560)


@pytest.mark.parametrize("week_start,expected", [("monday", "2026-01-05"), ("saturday", "2026-01-10"), ("sunday", "2026-01-04")])
def test_weekly_usage_weeks_begin_on_the_chosen_day(tmp_path, week_start, expected):
    codex = tmp_path / "codex" / "2026" / "01" / "10"  # 2026-01-10 is a Saturday
    codex.mkdir(parents=True)
    shutil.copy(FIXTURES / "codex" / "minimal.jsonl", codex / "rollout-2026-01-10T09-00-00-0199a000-0000-7000-8000-000000000001.jsonl")
    db = index(tmp_path, tmp_path / "none", tmp_path / "codex")
    proc = run_cli("usage", "weekly", "--db", str(db), "--timezone", "UTC", "--week-start", week_start, "--json", "--no-refresh")
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert (row["week"], row["sessions"], row["total_tokens"]) == (expected, 1, usage.rollup(db, "daily", "UTC")[0]["total_tokens"])


def test_weekly_totals_are_the_daily_totals_of_their_weeks(tmp_path, corpus):
    from datetime import timedelta

    db = index(tmp_path, corpus / "claude/projects", corpus / "codex/sessions")
    weeks: dict = {}
    for r in usage.rollup(db, "daily", "Europe/Berlin"):
        monday = r["day"] - timedelta(days=r["day"].weekday())
        weeks[(monday, r["source"])] = weeks.get((monday, r["source"]), 0) + r["total_tokens"]
    weekly: dict = {}
    for r in usage.rollup(db, "weekly", "Europe/Berlin"):
        weekly[(r["week"], r["source"])] = weekly.get((r["week"], r["source"]), 0) + r["total_tokens"]
    assert weekly == weeks and len(weekly) > 2


def test_blocks_equal_ccusage_blocks(tmp_path, corpus, ccusage):
    """Five-hour blocks of the Claude calls equal `ccusage blocks --json --offline`: the same
    blocks and gaps in the same order, the same start and end of every block, the same
    calls, tokens and models. One deliberate difference: a streamed Claude response spans
    several lines, and we time it by its first line (when the answer began) where ccusage
    takes a later one (a few seconds on this corpus), so a gap, which runs from five hours
    after a block's last call to the next call, may begin and end those seconds apart. And
    ccusage counts as an entry each API-error line Claude Code writes itself (model
    `<synthetic>`, no tokens); we count model responses only, so its entries exceed our calls
    by exactly those lines."""
    from datetime import datetime

    from claude_view_pipeline.blocks import usage_blocks

    db = index(tmp_path, corpus / "claude/projects", corpus / "codex/sessions")
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(corpus / "claude"), "CODEX_HOME": str(corpus / "codex")}
    theirs = json.loads(subprocess.run([ccusage, "blocks", "--json", "--offline"], capture_output=True, text=True,
                                       env=env, check=True).stdout)["blocks"]
    ours = usage_blocks(db, ["claude"])
    assert len(ours) == len(theirs) > 10 and any(b["is_gap"] for b in ours)

    def t(iso):
        return datetime.fromisoformat(iso.replace("Z", "+00:00"))

    synthetic = sum(text.count('"model":"<synthetic>"') for text in
                    (p.read_text() for p in (corpus / "claude/projects").rglob("*.jsonl")))
    assert synthetic > 0  # the corpus has such lines: the difference below is exercised
    assert sum(b["entries"] for b in theirs) - sum(b["api_call_count"] for b in ours) == synthetic
    for mine, other in zip(ours, theirs):
        assert mine["is_gap"] == other["isGap"]
        if mine["is_gap"]:
            assert abs((t(mine["start"]) - t(other["startTime"])).total_seconds()) < 60
            assert abs((t(mine["end"]) - t(other["endTime"])).total_seconds()) < 60
            continue
        tc = other["tokenCounts"]
        assert (mine["start"], mine["end"], mine["total_tokens"], mine["models"]) == (
            other["startTime"], other["endTime"], other["totalTokens"], sorted(other["models"]))
        assert 0 <= other["entries"] - mine["api_call_count"] <= 2
        assert (mine["input_tokens"], mine["cache_read_tokens"], mine["cache_creation_tokens"], mine["output_tokens"]) == (
            tc["inputTokens"], tc["cacheReadInputTokens"], tc["cacheCreationInputTokens"], tc["outputTokens"])
