"""`claude-view-pipeline mcp`: the server started as a subprocess and spoken to over stdio by
the official MCP Python SDK's own client, on a generated corpus with a planted phrase."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters, stdio_client

from benchmarks.synth import generate
from claude_view_pipeline.config import environ_without_settings

from helpers import REPO, run_cli
from test_search import PHRASE, dirs, plant

TOOLS = {"usage_report", "list_sessions", "read_session", "search_sessions", "codex_limits"}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    root = tmp_path_factory.mktemp("mcp")
    generate(root / "c", claude_sessions=6, codex_sessions=6, seed=11)
    planted = plant(root / "c")
    db = root / "i.duckdb"
    proc = run_cli("index", "--db", str(db), *dirs(root))
    assert proc.returncode == 0, proc.stderr
    return root, db, planted


def env_for(root: Path) -> dict[str, str]:
    return environ_without_settings({"CLAUDE_PROJECTS_DIR": str(root / "c/claude/projects"),
                                     "CODEX_SESSIONS_DIR": str(root / "c/codex/sessions"),
                                     "CLAUDE_VIEW_TIMEZONE": "UTC"})


def talk(db: Path, env: dict, calls: list[tuple[str, dict]], *flags: str) -> tuple[set[str], list]:
    """Start the server, list its tools and make the calls; (tool names, each call's result)."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "claude_view_pipeline", "mcp", "--db", str(db), *flags],
                                   env=env, cwd=str(REPO))

    async def session(errlog):
        # the server's stderr to a file of its own (the SDK's default, sys.stderr, may be a
        # capture with no file descriptor)
        async with Client(stdio_client(params, errlog=errlog), read_timeout_seconds=120) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            return tools, [await client.call_tool(name, args) for name, args in calls]

    with tempfile.TemporaryFile("w+") as errlog:
        return asyncio.run(asyncio.wait_for(session(errlog), 300))


def usage_json(db: Path, period: str) -> list[dict]:
    proc = run_cli("usage", period, "--db", str(db), "--no-refresh", "--json", "--timezone", "UTC")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_an_agent_lists_the_tools_searches_and_asks_for_usage(indexed):
    root, db, planted = indexed
    tools, (found, daily, monthly, blocks, listed, read, limits, bad) = talk(db, env_for(root), [
        ("search_sessions", {"query": f'"{PHRASE}"'}),
        ("usage_report", {"period": "daily", "timezone": "UTC", "limit": 3}),
        ("usage_report", {"period": "monthly", "timezone": "UTC", "sources": ["codex"]}),
        ("usage_report", {"period": "blocks", "timezone": "UTC", "since": "2026-03-03", "until": "2026-03-04", "limit": 1000}),
        ("list_sessions", {"limit": 5}),
        ("read_session", {"session_id": planted["claude"], "limit": 3, "roles": ["user"], "max_chars": 20}),
        ("codex_limits", {"timezone": "UTC"}),
        ("search_sessions", {"query": '"unclosed'}),
    ], "--no-refresh")
    assert tools == TOOLS
    # the planted phrase: exactly the two sessions it was planted in, as `search --json` finds them
    assert not found.is_error
    hits = found.structured_content["hits"]
    assert sorted(h["session_id"] for h in hits) == sorted(planted.values())
    cli = json.loads(run_cli("search", "--db", str(db), "--no-refresh", "--json", f'"{PHRASE}"').stdout)
    assert hits == cli

    # usage: the rows `usage daily|monthly --json` prints, paged, with totals over all of them
    all_daily = usage_json(db, "daily")
    assert daily.structured_content["rows"] == json.loads(json.dumps(all_daily[:3], default=str))
    assert daily.structured_content["total_rows"] == len(all_daily)
    assert daily.structured_content["next_offset"] == 3
    assert daily.structured_content["totals"]["total_tokens"] == sum(r["total_tokens"] for r in all_daily)
    codex_monthly = [r for r in usage_json(db, "monthly") if r["source"] == "codex"]
    assert monthly.structured_content["rows"] == json.loads(json.dumps(codex_monthly, default=str))
    assert monthly.structured_content["next_offset"] is None

    cli_blocks = json.loads(run_cli("usage", "blocks", "--db", str(db), "--no-refresh", "--json", "--timezone", "UTC",
                                    "--since", "2026-03-03", "--until", "2026-03-04").stdout)
    assert blocks.structured_content["rows"] == cli_blocks and cli_blocks
    assert {b["start"][:10] for b in cli_blocks} <= {"2026-03-03", "2026-03-04"}

    # sessions: 12 in all, newest first; one session's prompts, cut to 20 characters
    assert listed.structured_content["total"] == 12 and listed.structured_content["next_offset"] == 5
    starts = [s["started_at"] for s in listed.structured_content["sessions"]]
    assert starts == sorted(starts, reverse=True)
    first = read.structured_content["messages"][0]
    assert (first["role"], first["text"]) == ("user", "Task 0: about the fr")
    assert first["text_chars"] > 20
    assert read.structured_content["session"]["id"] == planted["claude"]

    # Codex's plan windows: what `usage limits --json` says
    proc = run_cli("usage", "limits", "--db", str(db), "--no-refresh", "--json", "--timezone", "UTC")
    assert limits.structured_content == json.loads(proc.stdout)

    # a question that cannot be answered is an error result that says why
    assert bad.is_error and "unbalanced double quote" in bad.content[0].text


def test_the_server_refreshes_the_index_unless_told_not_to(indexed, tmp_path):
    import shutil

    root, _, planted = indexed
    shutil.copytree(root / "c", tmp_path / "c")
    db = tmp_path / "i.duckdb"
    assert run_cli("index", "--db", str(db), *dirs(tmp_path)).returncode == 0
    codex = sorted((tmp_path / "c/codex/sessions").rglob("*.jsonl"))[1]
    codex.write_bytes(codex.read_bytes().replace(b"Turn 0: fix issue", b"Turn 0: " + PHRASE.encode() + b", fix issue"))
    query = [("search_sessions", {"query": f'"{PHRASE}"'})]
    _, (before,) = talk(db, env_for(tmp_path), query, "--no-refresh")
    assert len({h["session_id"] for h in before.structured_content["hits"]}) == 2
    _, (after,) = talk(db, env_for(tmp_path), query)
    assert {h["session_id"] for h in after.structured_content["hits"]} == {*planted.values(), f"codex:{codex.stem[-36:]}"}
