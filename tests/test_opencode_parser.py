"""Contract of the OpenCode source: the JSON-tree fixtures (fixtures/opencode/storage/), databases
built here with sqlite3 (the schema of benchmarks/synth_opencode.py), discovery, and reading a
live database without touching it. Every number is derived by hand in the comments."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.synth_opencode import create_database, generate, insert_message, insert_part, insert_session
from claude_view_pipeline.aggregate import summarize
from claude_view_pipeline.parsers import opencode_store, parse_file
from claude_view_pipeline.parsers.opencode import SPEC, find_files, output_with_reasoning
from claude_view_pipeline.sources import Source

from helpers import FIXTURES, REPO, run_cli

TREE = FIXTURES / "opencode"
SESSIONS = TREE / "storage" / "session"
PROJECT_A = "7f3c2a9e0b1d4c5e6f708192a3b4c5d6e7f80912"
T = 1768035600000  # 2026-01-10T09:00:00Z, the fixtures' clock (epoch ms)


def tree_file(session_id: str) -> Path:
    (path,) = SESSIONS.glob(f"*/{session_id}.json")
    return path


def aggregates(result, session_id: str) -> dict:
    return summarize(result)[f"opencode:{session_id}"]


TOKEN_KEYS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "reasoning_tokens", "total_tokens")

# session -> (roles, prompts, tool calls, API calls, aborted turns, compactions,
#             (input, cache read, cache write, output incl. reasoning, reasoning, total), recorded cost)
TREE_CASES = {
    # one assistant message of three steps (1.1.40, provider openai: output already holds reasoning):
    #   step 1 in 2000 / out 150 (reasoning 60) / cache 0; step 2 in 500 / out 80 (reasoning 30) / read 5800,
    #   total 6380 = 500 + 5800 + 80 says output includes reasoning; step 3 in 300 / out 120 (40) / read 4000.
    #   Sums: input 2800, read 9800, output 350, reasoning 130, total 2800 + 9800 + 350 = 12950. The message's own
    #   tokens (300 / 120 / 4000, its last step) would give 4420. Cost 0.004 + 0.005 + 0.0033 = 0.0123.
    #   Messages: prompt; reasoning; read, edit, task (use + result each); answer text = 9.
    "ses_fx01multistep0000000001": ({"user": 1, "reasoning": 1, "tool_use": 3, "tool_result": 3, "assistant": 1}, 1, 3, 3, 0, 0,
                                    (2800, 9800, 0, 350, 130, 12950), 0.0123),
    # the task tool's subagent: its prompt was written by the parent's model (kind agent_prompt, not counted);
    # one step: 1500 in, 60 out
    "ses_fx02child00000000000001": ({"user": 1, "tool_use": 1, "tool_result": 1, "assistant": 1}, 0, 1, 1, 0, 0,
                                    (1500, 0, 0, 60, 0, 1560), 0.0006),
    # `!git status`: a synthetic user text (system/injected) and a bash call with no steps (a tool call, no
    # model call); then a prompt and one Anthropic step: 900 in, 1200 read, 300 written, 40 out = 2440
    "ses_fx03shell00000000000001": ({"system": 1, "tool_use": 2, "tool_result": 2, "user": 1, "assistant": 1}, 1, 2, 1, 0, 0,
                                    (900, 1200, 300, 40, 0, 2440), 0.0051),
    # one finished step (opencode/big-pickle on 1.1.40, no stored total: OpenAI-style, output 200 holds its 90 of
    # reasoning), then a turn aborted mid-step (reasoning, a grep left running, no step-finish: no usage);
    # total 7000 + 500 + 200 = 7700. Messages: prompt; reasoning, read use + result; reasoning, grep use; aborted
    "ses_fx04aborted0000000000001": ({"user": 1, "reasoning": 2, "tool_use": 2, "tool_result": 1, "system": 1}, 1, 2, 1, 1, 0,
                                     (7000, 500, 0, 200, 90, 7700), 0.0),
    # google on 1.1.40 keeps reasoning out of output: step 1's total 4650 = 3000 + 1000 + 400 + 250 says so; step 2
    # has no total, the provider says so. Output (400 + 250) + (100 + 50) = 800, reasoning 300,
    # total 4200 + 4000 + 800 = 9000; cost 0.0121 + 0.0043 = 0.0164
    "ses_fx05gemini000000000001": ({"user": 2, "reasoning": 2, "assistant": 2}, 2, 0, 2, 0, 0,
                                   (4200, 4000, 0, 800, 300, 9000), 0.0164),
    # the tree's copy of a session the database also holds (see test_a_session_in_the_database_and_the_tree...)
    "ses_fx06imported0000000001": ({"user": 1, "assistant": 1}, 1, 0, 1, 0, 0, (100, 0, 0, 10, 0, 110), 0.0005),
}


@pytest.mark.parametrize("session_id", sorted(TREE_CASES))
def test_opencode_tree_fixture_contract(session_id):
    roles, prompts, tools, calls, aborted, compactions, tokens, cost = TREE_CASES[session_id]
    result = parse_file(Source.OPENCODE, str(tree_file(session_id)))
    assert result.rejection is None, result.detail
    assert (result.lines_malformed, result.lines_skipped, dict(result.unknown_types)) == (0, 0, {})
    (session,) = result.sessions
    assert session.source_session_id == session_id
    a = aggregates(result, session_id)
    assert Counter(m.role for m in session.messages) == roles
    assert a["message_count"] == sum(roles.values())
    assert (a["user_prompt_count"], a["tool_call_count"], a["api_call_count"]) == (prompts, tools, calls)
    assert (a["aborted_turn_count"], a["compaction_count"]) == (aborted, compactions)
    assert tuple(a[k] for k in TOKEN_KEYS) == tokens
    assert a["agent_cost_usd"] == pytest.approx(cost)


def test_each_step_is_one_call_on_its_own_content():
    result = parse_file(Source.OPENCODE, str(tree_file("ses_fx01multistep0000000001")))
    (s,) = result.sessions
    calls = [m for m in s.messages if m.api_call]
    # step 1 holds reasoning and a read (no text): the reasoning carries it; step 2 (edit, task): the edit;
    # step 3: its answer text
    assert [(m.role, m.tool_name) for m in calls] == [("reasoning", None), ("tool_use", "edit"), ("assistant", None)]
    assert [(m.input_tokens, m.cache_read_tokens, m.output_tokens, m.reasoning_tokens) for m in calls] == [
        (2000, 0, 150, 60), (500, 5800, 80, 30), (300, 4000, 120, 40)]
    assert [m.agent_cost_usd for m in calls] == [0.004, 0.005, 0.0033]
    assert {(m.model, m.model_provider) for m in calls} == {("gpt-5.1-codex", "openai")}
    # when: the latest part end of the step (the read at +1.4 s, the task at +6 s), the last step at completion
    assert [int(m.usage_at.timestamp() * 1000) - T for m in calls] == [1400, 6000, 9000]
    assert [m.dedup_key for m in calls] == ["prt_fx01000000002aaaaaaaaa2", "prt_fx01000000002aaaaaaaaa6", "prt_fx01000000002aaaaaaaab0"]
    assert (s.cwd, s.cli_version, s.parent_session_id, s.relation) == ("/home/dev/proj-a", "1.1.40", None, None)
    assert (s.started_at.isoformat(), s.ended_at.isoformat()) == ("2026-01-10T09:00:00+00:00", "2026-01-10T09:00:09+00:00")


def test_a_subagent_session_names_its_parent():
    (s,) = parse_file(Source.OPENCODE, str(tree_file("ses_fx02child00000000000001"))).sessions
    assert (s.parent_session_id, s.relation, s.is_sidechain) == ("opencode:ses_fx01multistep0000000001", "subagent", True)
    assert [(m.role, m.kind) for m in s.messages][0] == ("user", "agent_prompt")


def test_a_shell_command_is_a_tool_call_but_no_prompt_and_no_model_call():
    (s,) = parse_file(Source.OPENCODE, str(tree_file("ses_fx03shell00000000000001"))).sessions
    shell = s.messages[:3]
    assert [(m.role, m.kind, m.api_call) for m in shell] == [
        ("system", "injected", False), ("tool_use", "user_shell", False), ("tool_result", "user_shell", False)]
    assert (shell[1].tool_name, shell[1].text, shell[2].text) == ("bash", '{"command":"git status"}', "On branch main\nnothing to commit")
    (call,) = [m for m in s.messages if m.api_call]
    assert (call.kind, call.text, call.cache_creation_5m_tokens, call.cache_creation_1h_tokens) == ("text", "Committing.", 300, 0)


def test_an_aborted_turn_keeps_its_content_but_records_no_call():
    (s,) = parse_file(Source.OPENCODE, str(tree_file("ses_fx04aborted0000000000001"))).sessions
    tail = s.messages[-3:]
    assert [(m.role, m.kind, m.api_call) for m in tail] == [
        ("reasoning", "reasoning", False), ("tool_use", "tool", False), ("system", "turn_aborted", False)]
    assert (tail[1].tool_name, tail[2].text) == ("grep", "The operation was aborted.")
    assert s.ended_at.isoformat() == "2026-01-10T11:01:00+00:00"  # the aborted message's completion


@pytest.mark.parametrize("tokens, version, provider, expected", [
    # no reasoning: output is output
    ({"output": 100, "reasoning": 0}, "1.1.40", "openai", 100),
    # AI SDK v6 builds (1.3.4 on) store output without reasoning, for every provider
    ({"output": 100, "reasoning": 40}, "1.17.3", "openai", 140),
    ({"output": 100, "reasoning": 40}, "1.3.4", "anthropic", 140),
    # v5 builds: OpenAI-style output already holds reasoning; Google's never did
    ({"output": 100, "reasoning": 40}, "1.1.40", "openai", 100),
    ({"output": 100, "reasoning": 40}, "1.1.40", "opencode", 100),
    ({"output": 100, "reasoning": 40}, "1.3.2", "google", 140),
    # the stored total decides over version and provider: 1000 + 100 + 40 = 1140 means apart, 1000 + 100 within
    ({"total": 1140, "input": 1000, "output": 100, "reasoning": 40}, "1.1.40", "openai", 140),
    ({"total": 1100, "input": 800, "output": 100, "reasoning": 40, "cache": {"read": 150, "write": 50}}, "1.17.3", "openai", 100),
    # a total that fits neither (a provider's own arithmetic) falls back to the version
    ({"total": 5, "input": 1000, "output": 100, "reasoning": 40}, "1.17.3", "openai", 140),
    # output cannot hold more reasoning than itself
    ({"output": 10, "reasoning": 40}, "1.1.40", "openai", 50),
    # no version, or a development build (0.0.0-...): the current mapping
    ({"output": 100, "reasoning": 40}, None, "openai", 140),
    ({"output": 100, "reasoning": 40}, "0.0.0-dev-202609212252", "openai", 140),
    ({"output": 100, "reasoning": 40}, "1.17.3-aiand.1", "openai", 140),
])
def test_output_includes_reasoning_whatever_the_build_stored(tokens, version, provider, expected):
    assert output_with_reasoning(tokens, version, provider) == expected


# --- databases ---------------------------------------------------------------------------------

T7 = T + 86400000  # 2026-01-11T09:00:00Z


def build_database(path: Path, *, imported: bool = True) -> None:
    """A current (1.17) database: one session of the new usage mapping with a compaction, and the
    database's copy of the tree's ses_fx06imported0000000001 (with other numbers, so the test can
    tell which copy was counted)."""
    con = create_database(path)
    try:
        sid = "ses_db01current0000000001"
        insert_session(con, sid, "/home/dev/api", T7, T7 + 60000, version="1.17.3")
        m1, m2, m3, m4 = (f"msg_db01000000{i}aaaaaaaaaa" for i in range(1, 5))
        insert_message(con, sid, m1, {"role": "user", "time": {"created": T7}, "agent": "build",
                                      "model": {"providerID": "openai", "modelID": "gpt-5.2"}})
        insert_part(con, sid, m1, "prt_db01000000011aaaaaaaa", {"type": "text", "text": "Add pagination to the list endpoint."}, T7)
        insert_part(con, sid, m1, "prt_db01000000012aaaaaaaa", {"type": "text", "synthetic": True,
                    "text": "Called the Read tool with the following input: {\"filePath\":\"api.py\"}"}, T7)
        insert_part(con, sid, m1, "prt_db01000000013aaaaaaaa", {"type": "file", "mime": "text/plain", "filename": "api.py",
                    "url": "file:///home/dev/api/api.py"}, T7)
        # v6: total 13450 = 1200 + 11500 + 250 + 500, so output 250 excludes the 500 of reasoning: 750
        step = {"total": 13450, "input": 1200, "output": 250, "reasoning": 500, "cache": {"read": 11500, "write": 0}}
        insert_message(con, sid, m2, {"role": "assistant", "parentID": m1, "time": {"created": T7 + 100, "completed": T7 + 9000},
                                      "modelID": "gpt-5.2", "providerID": "openai", "mode": "build", "agent": "build",
                                      "path": {"cwd": "/home/dev/api", "root": "/home/dev/api"}, "cost": 0.021, "tokens": step,
                                      "finish": "stop"})
        for i, part in enumerate(({"type": "step-start"},
                                  {"type": "reasoning", "text": "Offset or cursor?", "time": {"start": T7 + 200, "end": T7 + 4000}},
                                  {"type": "text", "text": "Added cursor pagination.", "time": {"start": T7 + 4100, "end": T7 + 8900}},
                                  {"type": "step-finish", "reason": "stop", "cost": 0.021, "tokens": step})):
            insert_part(con, sid, m2, f"prt_db0100000002{i}aaaaaaaa", part, T7 + 100 * i)
        insert_message(con, sid, m3, {"role": "user", "time": {"created": T7 + 30000}, "agent": "build",
                                      "model": {"providerID": "openai", "modelID": "gpt-5.2"}})
        insert_part(con, sid, m3, "prt_db01000000031aaaaaaaa", {"type": "compaction", "auto": True}, T7 + 30000)
        # the compaction's summary: a model call, 20000 in, 300 out
        summary = {"total": 20300, "input": 20000, "output": 300, "reasoning": 0, "cache": {"read": 0, "write": 0}}
        insert_message(con, sid, m4, {"role": "assistant", "parentID": m3, "summary": True,
                                      "time": {"created": T7 + 30100, "completed": T7 + 40000}, "modelID": "gpt-5.2",
                                      "providerID": "openai", "mode": "compaction", "agent": "compaction",
                                      "path": {"cwd": "/home/dev/api", "root": "/home/dev/api"}, "cost": 0.028, "tokens": summary,
                                      "finish": "stop"})
        for i, part in enumerate(({"type": "step-start"},
                                  {"type": "text", "text": "Summary: pagination added.", "time": {"start": T7 + 30200, "end": T7 + 39000}},
                                  {"type": "step-finish", "reason": "stop", "cost": 0.028, "tokens": summary})):
            insert_part(con, sid, m4, f"prt_db0100000004{i}aaaaaaaa", part, T7 + 30100 + i)
        if imported:
            add_imported_copy(con)
        # a share secret sits beside the sessions; a reader never selects it
        con.execute("INSERT INTO session_share VALUES (?, 'shr1', 'synthetic-placeholder-not-a-credential', 'https://example.invalid', 0, 0)", (sid,))
    finally:
        con.close()


def add_imported_copy(con: sqlite3.Connection) -> None:
    """The database's copy of ses_fx06imported0000000001: 5000 in, 60 out (the tree's says 100 and 10)."""
    sid, T6 = "ses_fx06imported0000000001", T + 14400000
    insert_session(con, sid, "/home/dev/site", T6, T6 + 9000, version="1.1.40")
    user, answer = "msg_fx06000000001aaaaaaaaaa", "msg_fx06000000002bbbbbbbbbb"
    insert_message(con, sid, user, {"role": "user", "time": {"created": T6}, "agent": "build",
                                    "model": {"providerID": "anthropic", "modelID": "claude-sonnet-4-5"}})
    insert_part(con, sid, user, "prt_fx06000000001aaaaaaaaaa", {"type": "text", "text": "Add a footer to the home page."}, T7)
    tok = {"input": 5000, "output": 60, "reasoning": 0, "cache": {"read": 0, "write": 0}}
    insert_message(con, sid, answer, {"role": "assistant", "parentID": user, "time": {"created": T6 + 100, "completed": T6 + 9000},
                                      "modelID": "claude-sonnet-4-5", "providerID": "anthropic", "mode": "build",
                                      "path": {"cwd": "/home/dev/site", "root": "/home/dev/site"}, "cost": 0.0154, "tokens": tok})
    # imported parts carry the import's time in their row (part.time_created), not their own
    insert_part(con, sid, answer, "prt_fx06000000002aaaaaaaaa1", {"type": "step-start"}, T7)
    insert_part(con, sid, answer, "prt_fx06000000002aaaaaaaaa2", {"type": "text", "text": "Added the footer."}, T7)
    insert_part(con, sid, answer, "prt_fx06000000002aaaaaaaaa3", {"type": "step-finish", "reason": "stop", "cost": 0.0154, "tokens": tok}, T7)


def test_a_current_database(tmp_path):
    db = tmp_path / "opencode.db"
    build_database(db)
    result = parse_file(Source.OPENCODE, str(db))
    assert result.rejection is None, result.detail
    # rows: current 4 messages + 3 + 4 + 1 + 3 parts, imported 2 messages + 4 parts = 21
    assert (result.lines_ok, result.lines_malformed, result.lines_skipped, dict(result.unknown_types)) == (21, 0, 0, {})
    assert sorted(s.source_session_id for s in result.sessions) == ["ses_db01current0000000001", "ses_fx06imported0000000001"]
    a = aggregates(result, "ses_db01current0000000001")
    # prompt + the synthetic file text (injected) + the file (no message); reasoning, answer; the compaction
    # marker; the summary. Input 1200 + 20000, read 11500, output 750 + 300, total 21200 + 11500 + 1050 = 33750
    assert (a["message_count"], a["user_prompt_count"], a["api_call_count"], a["compaction_count"]) == (6, 1, 2, 1)
    assert tuple(a[k] for k in TOKEN_KEYS) == (21200, 11500, 0, 1050, 500, 33750)
    assert a["agent_cost_usd"] == pytest.approx(0.049)
    assert a["primary_model"] == "gpt-5.2"
    s = next(s for s in result.sessions if s.source_session_id == "ses_db01current0000000001")
    assert (s.cwd, s.cli_version) == ("/home/dev/api", "1.17.3")
    assert [(m.role, m.kind) for m in s.messages] == [("user", "prompt"), ("system", "injected"), ("reasoning", "reasoning"),
                                                      ("assistant", "text"), ("system", "compacted"), ("assistant", "summary")]
    b = aggregates(result, "ses_fx06imported0000000001")
    assert tuple(b[k] for k in TOKEN_KEYS) == (5000, 0, 0, 60, 0, 5060)


def test_a_step_that_never_finished_keeps_its_content_without_usage(tmp_path):
    db = tmp_path / "opencode.db"
    con = create_database(db)
    sid, mid = "ses_db03retried0000000001", "msg_db03000000001bbbbbbbbbb"
    insert_session(con, sid, "/home/dev/x", T7, T7 + 5000)
    tok = {"total": 1010, "input": 1000, "output": 10, "reasoning": 0, "cache": {"read": 0, "write": 0}}
    insert_message(con, sid, mid, {"role": "assistant", "time": {"created": T7, "completed": T7 + 5000}, "modelID": "m",
                                   "providerID": "p", "cost": 0.001, "tokens": tok})
    # step 1 started and wrote text, then step 2 started (no step-finish for step 1) and finished
    for i, part in enumerate(({"type": "step-start"}, {"type": "text", "text": "first try"}, {"type": "step-start"},
                              {"type": "text", "text": "second try"}, {"type": "step-finish", "cost": 0.001, "tokens": tok})):
        insert_part(con, sid, mid, f"prt_db0300000000{i}aaaaaaaaa", part, T7 + i)
    con.close()
    (s,) = parse_file(Source.OPENCODE, str(db)).sessions
    assert [(m.text, m.api_call, m.input_tokens) for m in s.messages] == [("first try", False, None), ("second try", True, 1000)]


def test_only_the_session_tables_are_read(tmp_path, monkeypatch):
    db = tmp_path / "opencode.db"
    build_database(db)
    tables: set[str] = set()
    connect = sqlite3.connect

    def watched(*args, **kwargs):
        con = connect(*args, **kwargs)

        def authorize(action, table, column, database, trigger):
            if action == sqlite3.SQLITE_READ:
                tables.add(table)
            return sqlite3.SQLITE_OK

        con.set_authorizer(authorize)
        return con

    monkeypatch.setattr(opencode_store.sqlite3, "connect", watched)
    assert parse_file(Source.OPENCODE, str(db)).rejection is None
    # never account, credential, session_share (its secret), event...
    assert tables == {"session", "message", "part"}


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


# A second process writes a session and keeps its connection open, with automatic checkpoints
# off: the rows stay in the WAL, as they do while OpenCode runs.
WRITER = """
import sys
from benchmarks.synth_opencode import insert_message, insert_part, insert_session
import sqlite3
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA journal_mode = WAL")
con.execute("PRAGMA wal_autocheckpoint = 0")
T = 1768208400000
sid = "ses_db02walonly0000000001"
insert_session(con, sid, "/home/dev/cfg", T, T + 5000, version="1.17.3")
insert_message(con, sid, "msg_db02000000001aaaaaaaaaa", {"role": "user", "time": {"created": T}, "agent": "build",
               "model": {"providerID": "opencode", "modelID": "kimi-k2.6"}})
insert_part(con, sid, "msg_db02000000001aaaaaaaaaa", "prt_db02000000001aaaaaaaaaa", {"type": "text", "text": "Rename the config flag."}, T)
tok = {"total": 2100, "input": 2000, "output": 100, "reasoning": 0, "cache": {"read": 0, "write": 0}}
insert_message(con, sid, "msg_db02000000002bbbbbbbbbb", {"role": "assistant", "parentID": "msg_db02000000001aaaaaaaaaa",
               "time": {"created": T + 100, "completed": T + 5000}, "modelID": "kimi-k2.6", "providerID": "opencode", "cost": 0.003,
               "tokens": tok})
for i, part in enumerate(({"type": "step-start"}, {"type": "text", "text": "Renamed.", "time": {"start": T + 200, "end": T + 4900}},
                          {"type": "step-finish", "reason": "stop", "cost": 0.003, "tokens": tok})):
    insert_part(con, sid, "msg_db02000000002bbbbbbbbbb", f"prt_db0200000000{i + 2}aaaaaaaaa", part, T + i)
print("ready", flush=True)
sys.stdin.readline()
"""


def test_a_live_database_is_read_with_its_wal_and_left_untouched(tmp_path):
    data = tmp_path / "opencode"
    data.mkdir()
    db = data / "opencode.db"
    build_database(db, imported=False)  # closed: everything in the main file, no -wal, no -shm
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert writer.stdout.readline().strip() == "ready"
        assert sorted(p.name for p in data.iterdir()) == ["opencode.db", "opencode.db-shm", "opencode.db-wal"]
        # the new session is only in the WAL: the main file alone does not have it
        main_only = tmp_path / "main-only.db"
        shutil.copyfile(db, main_only)
        con = sqlite3.connect(main_only)
        assert con.execute("SELECT count(*) FROM session WHERE id = 'ses_db02walonly0000000001'").fetchone() == (0,)
        con.close()

        before = _digest(data)
        (unit,) = find_files(data)
        assert unit.size == db.stat().st_size + (data / "opencode.db-wal").stat().st_size
        result = parse_file(Source.OPENCODE, unit.path)
        assert _digest(data) == before  # the same files, byte for byte: no -shm update, nothing created
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
    assert result.rejection is None, result.detail
    a = aggregates(result, "ses_db02walonly0000000001")
    # the WAL's session: one prompt, one call of 2000 in and 100 out
    assert (a["user_prompt_count"], a["api_call_count"]) == (1, 1)
    assert tuple(a[k] for k in TOKEN_KEYS) == (2000, 0, 0, 100, 0, 2100)
    assert len(result.sessions) == 2


def test_a_closed_database_gets_no_wal_or_shm_beside_it(tmp_path):
    db = tmp_path / "opencode.db"
    build_database(db)
    before = _digest(tmp_path)
    assert list(before) == ["opencode.db"]
    copies = set(Path(tempfile.gettempdir()).glob("claude-view-opencode-*"))
    assert parse_file(Source.OPENCODE, str(db)).rejection is None
    assert _digest(tmp_path) == before
    assert set(Path(tempfile.gettempdir()).glob("claude-view-opencode-*")) == copies  # the private copy is gone


def test_a_database_that_changes_on_every_copy_is_an_io_error(tmp_path, monkeypatch):
    db = tmp_path / "opencode.db"
    build_database(db)
    copy = opencode_store._copy_file
    bumps = iter(range(1, 100))

    def copy_while_opencode_writes(source, target):
        copy(source, target)
        st = os.stat(source)
        os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns + next(bumps)))

    monkeypatch.setattr(opencode_store, "_copy_file", copy_while_opencode_writes)
    monkeypatch.setattr(opencode_store, "SNAPSHOT_PAUSE_S", 0)
    result = parse_file(Source.OPENCODE, str(db))
    assert result.rejection == "io_error" and "changed every time it was copied (5 tries)" in result.detail


def test_what_is_not_an_opencode_database_is_rejected(tmp_path):
    junk = tmp_path / "opencode.db"
    junk.write_bytes(b"this is not SQLite" * 100)
    assert parse_file(Source.OPENCODE, str(junk)).rejection == "not_a_session_log"
    other = tmp_path / "opencode-other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE sessions (id TEXT)")  # the Go opencode's table names, not ours
    con.close()
    r = parse_file(Source.OPENCODE, str(other))
    assert r.rejection == "not_a_session_log" and "session.id" in r.detail
    empty = tmp_path / "opencode-empty.db"
    create_database(empty).close()
    assert parse_file(Source.OPENCODE, str(empty)).rejection == "empty"
    assert parse_file(Source.OPENCODE, str(tmp_path / "gone.db")).rejection == "io_error"


def test_a_sink_gets_each_session_as_it_is_read(tmp_path):
    db = tmp_path / "opencode.db"
    build_database(db)
    whole = parse_file(Source.OPENCODE, str(db))
    handed: list[tuple[str, list]] = []
    streamed = parse_file(Source.OPENCODE, str(db), sink=lambda sid, messages: handed.append((sid, messages)))
    assert [sid for sid, _ in handed] == [s.id for s in whole.sessions]
    for s, (_, messages) in zip(streamed.sessions, handed):
        assert (s.messages, s.streamed_messages) == ([], len(messages))
    assert [[(m.role, m.kind, m.text, m.output_tokens) for m in ms] for _, ms in handed] == \
        [[(m.role, m.kind, m.text, m.output_tokens) for m in s.messages] for s in whole.sessions]


# --- discovery -----------------------------------------------------------------------------------


def test_discovery_finds_the_databases_and_the_tree_and_nothing_else(tmp_path):
    data = tmp_path / "opencode"
    shutil.copytree(TREE, data)
    build_database(data / "opencode.db")
    (data / "opencode.db-wal").write_bytes(b"\0" * 100)
    build_database(data / "opencode-dev.db", imported=False)
    for other in ("auth.json", "opencode.db-shm", "log/opencode.log", "snapshot/abc/opencode.db", "tool-output/tool_1"):
        (data / other).parent.mkdir(parents=True, exist_ok=True)
        (data / other).write_text("x")
    found = {os.path.relpath(f.path, data): f for f in find_files(data)}
    assert {p: f.kind for p, f in found.items()} == {
        "opencode.db": "main", "opencode-dev.db": "main",
        **{os.path.relpath(p, TREE): "archived" for p in SESSIONS.glob("*/*.json")}}
    assert found["opencode.db"].size == (data / "opencode.db").stat().st_size + 100
    assert [f.kind for f in find_files(data / "opencode-dev.db")] == ["main"]  # OPENCODE_DB names the file itself
    assert len(list(find_files(data / "storage"))) == 6  # a storage directory given directly


def test_a_tree_sessions_fingerprint_follows_its_messages_and_parts(tmp_path):
    data = tmp_path / "opencode"
    shutil.copytree(TREE, data)

    def unit():
        (f,) = [f for f in find_files(data) if "ses_fx03shell" in f.path]
        return f.fingerprint

    first = unit()
    files = [tree_file("ses_fx03shell00000000000001")] + list((TREE / "storage/message/ses_fx03shell00000000000001").glob("*.json"))
    files += [p for d in (TREE / "storage/message/ses_fx03shell00000000000001").glob("*.json")
              for p in (TREE / "storage/part" / d.stem).glob("*.json")]
    assert first[0] == sum(p.stat().st_size for p in files)  # session, 4 messages, 6 parts
    part = data / "storage/part/msg_fx03000000004bbbbbbbbbb/prt_fx03000000004aaaaaaaaa4.json"
    st = part.stat()
    os.utime(part, ns=(st.st_atime_ns, first[1] + 1_000_000_000))  # rewritten in place, same size
    assert unit() == (first[0], first[1] + 1_000_000_000)


def test_roots_follow_the_settings(tmp_path):
    assert SPEC.roots({"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "xdg")}) == [tmp_path / "xdg" / "opencode"]
    assert SPEC.roots({"OPENCODE_DATA_DIR": f"{tmp_path}/a, {tmp_path}/b"}) == [tmp_path / "a", tmp_path / "b"]
    env = {"XDG_DATA_HOME": str(tmp_path), "OPENCODE_DB": "/srv/oc/custom.db"}
    assert SPEC.roots(env) == [tmp_path / "opencode", Path("/srv/oc/custom.db")]
    # a bare name is a file in the data directory; ":memory:" is no file at all
    assert SPEC.roots({**env, "OPENCODE_DB": "work.db"}) == [tmp_path / "opencode", tmp_path / "opencode" / "work.db"]
    assert SPEC.roots({**env, "OPENCODE_DB": ":memory:"}) == [tmp_path / "opencode"]


# --- end to end ----------------------------------------------------------------------------------


def test_a_session_in_the_database_and_the_tree_is_counted_once_from_the_database(tmp_path):
    data = tmp_path / "opencode"
    shutil.copytree(TREE, data)
    build_database(data / "opencode.db")
    db = tmp_path / "index.duckdb"
    proc = run_cli("index", "--db", str(db), "--sources", "opencode", "--opencode-dir", str(data), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)["sources"]["opencode"]
    # 6 tree sessions + 2 database sessions, one of them the same session: 7
    assert (summary["sessions"], list(summary["files_rejected"])) == (7, ["duplicate_session_id"])
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT input_tokens, output_tokens, file_path FROM sessions WHERE id = 'opencode:ses_fx06imported0000000001'").fetchall()
        total = con.execute("SELECT sum(total_tokens) FROM sessions").fetchone()[0]
    finally:
        con.close()
    assert [(i, o, Path(p).name) for i, o, p in rows] == [(5000, 60, "opencode.db")]
    # 12950 + 1560 + 2440 + 7700 + 9000 (tree, without its copy of the imported session) + 33750 + 5060 (database)
    assert total == 72460
    usage = run_cli("usage", "session", "--db", str(db), "--no-refresh", "--json")
    assert usage.returncode == 0, usage.stderr
    assert "ses_fx06imported0000000001" in usage.stdout


def test_the_synthetic_generator_matches_its_ground_truth(tmp_path):
    truth = generate(tmp_path, 20, random.Random(2026))
    result = parse_file(Source.OPENCODE, str(tmp_path / "opencode.db"))
    assert result.rejection is None, result.detail
    assert (result.lines_malformed, dict(result.unknown_types)) == (0, {})
    got = summarize(result)
    assert sorted(got) == sorted(truth)

    def iso(ts):
        return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"

    spans = {s.id: {"started_at": iso(s.started_at), "ended_at": iso(s.ended_at)} for s in result.sessions}
    mismatches = {sid: {k: (({**got[sid], **spans[sid], "id": sid})[k], v) for k, v in t.items()
                        if ({**got[sid], **spans[sid], "id": sid})[k] != v} for sid, t in truth.items()}
    assert {sid: d for sid, d in mismatches.items() if d} == {}
    assert any(s.parent_session_id for s in result.sessions)  # the generator's subagents are there


# --- damaged input ---------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**15) | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
DAMAGED_SESSION = "ses_fx01multistep0000000001"  # 1 session file, 2 messages, 12 parts


def _unit_files(root: Path) -> list[Path]:
    storage = root / "storage"
    messages = sorted((storage / "message" / DAMAGED_SESSION).glob("*.json"))
    return [tree_file(DAMAGED_SESSION)] + messages + [p for m in messages for p in sorted((storage / "part" / m.stem).glob("*.json"))]


@st.composite
def damaged_object(draw, obj: dict):
    """The object with one field (at the top or one level down) replaced by any JSON value."""
    targets = [obj] + [v for v in obj.values() if isinstance(v, dict)]
    target = draw(st.sampled_from(targets))
    if target:
        target[draw(st.sampled_from(sorted(target)))] = draw(JSON_VALUES)
    return obj


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_records_never_break_the_parser(tmp_path, data):
    """Any field of any message or part may hold any JSON type, or a record may not be an object
    at all: the parse never raises, and every record is read, counted as malformed, or skipped
    (the parts of a message that could not be read), from the tree and from a database alike."""
    originals = _unit_files(TREE)
    objects = [json.loads(p.read_text()) for p in originals]
    for i in data.draw(st.lists(st.integers(1, len(objects) - 1), max_size=4, unique=True)):
        objects[i] = data.draw(damaged_object(objects[i])) if data.draw(st.booleans()) else data.draw(JSON_VALUES)
    case = Path(tempfile.mkdtemp(dir=tmp_path))  # one directory per example
    copies = [case / p.relative_to(TREE) for p in originals]
    for path, obj in zip(copies, objects):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, allow_nan=True))
    tree = parse_file(Source.OPENCODE, str(copies[0]))
    assert tree.rejection is None, tree.detail
    assert tree.lines_ok + tree.lines_malformed + tree.lines_skipped == len(objects)

    # the same records as database rows (the ids in their columns)
    con = create_database(case / "opencode.db")
    insert_session(con, DAMAGED_SESSION, "/home/dev/proj-a", T, T + 9500, version="1.1.40")
    for path, obj in zip(copies[1:], objects[1:]):
        if path.parent.parent.name == "message":
            con.execute("INSERT INTO message VALUES (?, ?, 0, 0, ?)", (path.stem, DAMAGED_SESSION, json.dumps(obj, allow_nan=True)))
        else:
            insert_part(con, DAMAGED_SESSION, path.parent.name, path.stem, obj, 0)
    con.close()
    db = parse_file(Source.OPENCODE, str(case / "opencode.db"))
    assert db.rejection is None, db.detail
    assert db.lines_ok + db.lines_malformed + db.lines_skipped == len(objects) - 1  # the session is a row, not a record file
