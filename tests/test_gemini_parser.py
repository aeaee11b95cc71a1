"""Contract of the Gemini CLI parser on its fixtures (fixtures/gemini/tmp/<case>/chats/...,
laid out as the CLI lays out ~/.gemini/tmp; fixtures/gemini/projects.json is its registry).

Every number is derived by hand from the fixture named in the case. Per model call (a
``gemini`` message with a ``tokens`` object): input = input - cached + tool, cache read =
cached, output = output + thoughts, reasoning = thoughts; total = input + cache read + output
(cache creation is always 0: Gemini reports no cache writes)."""

import hashlib
import os
import random
import shutil
from collections import Counter
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.synth import _iso
from benchmarks.synth_gemini import generate
from claude_view_pipeline.aggregate import summarize
from claude_view_pipeline.parsers import gemini, parse_file
from claude_view_pipeline.parsers.sniff import sniff_line
from claude_view_pipeline.sources import Source

from helpers import FIXTURES, run_cli, write_jsonl

ROOT = FIXTURES / "gemini" / "tmp"
HASH_DIR = hashlib.sha256(b"/home/dev/legacy-json").hexdigest()  # the pre-v0.29 name of legacy-json
LEGACY = "session-2026-01-12T09-30-1f0c2a7e.json"
MAIN_JSONL = "jsonl-rewrites/chats/session-2026-06-02T14-05-7c1e9d42.jsonl"
NESTED = "jsonl-rewrites/chats/7c1e9d42-3f5a-4e8b-b2d1-9a0e6c4f7d13/x7k2pq.jsonl"
RESUMED = "resume-pair/chats/session-2026-04-08T16-20-a9d3b6f1"
CLEARED = "clear-twins/chats/session-2026-02-20T10-{}-5b2e8c14.json"
FLAT = "flat-subagent/chats/session-2026-03-02T08-{}-c4d8e2a0.json"
TORN = "torn-document/chats/session-2026-02-11T08-05-6a3c1e90.json"
TOKENS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "reasoning_tokens", "total_tokens")

# unit (a file of it) -> {session id: (roles, prompts, tool calls, API calls, tokens as in TOKENS, primary model)}
CASES = {
    # A legacy JSON document (v0.26, resumed after v0.29 into the slug directory). Calls
    # (input, cached, output, thoughts): (9120, 0, 86, 412) -> 9120/0/498/412,
    # (10410, 8190, 233, 105) -> 2220/8190/338/105, (10980, 9856, 41, 0) -> 1124/9856/41/0,
    # (11604, 10240, 312, 96) -> 1364/10240/408/96: input 13828, cache 28286, output 1285,
    # reasoning 613, total 13828 + 28286 + 1285 = 43399. Messages: the update notice; 2
    # prompts; 2 + 1 thoughts; tool calls 2 (read_file, run_shell_command: an error) + 1 + 1,
    # each with its result; answers in 3 of the 4 responses (the first has content "").
    f"legacy-json/chats/{LEGACY}": {
        "1f0c2a7e-4b6d-4c3a-9e21-7a5d0c8b1f36": (
            {"system": 1, "user": 2, "reasoning": 3, "tool_use": 4, "tool_result": 4, "assistant": 3}, 2, 4, 4,
            (13828, 28286, 0, 1285, 613, 43399), "gemini-2.5-pro"),
    },
    # The same session as the pre-v0.29 hash directory holds it (the first three calls only):
    # input 9120 + 2220 + 1124 = 12464, cache 0 + 8190 + 9856 = 18046, output 498 + 338 + 41
    # = 877, reasoning 412 + 105 = 517, total 31387 (= 9618 + 10748 + 11021 recorded).
    f"{HASH_DIR}/chats/{LEGACY}": {
        "1f0c2a7e-4b6d-4c3a-9e21-7a5d0c8b1f36": (
            {"system": 1, "user": 1, "reasoning": 2, "tool_use": 3, "tool_result": 3, "assistant": 2}, 1, 3, 3,
            (12464, 18046, 0, 877, 517, 31387), "gemini-2.5-pro"),
    },
    # JSONL (v0.44+): g1 written without usage, again with it (12000, 4000, 60, 240), again
    # with its tool call -> 8000/4000/300/240; its result also sent as a user turn (already on
    # the tool call: no message); g2 (13500, 11800, 45, 0) -> 1700/11800/45/0; then $rewindTo
    # the first prompt (g1, g2 stay counted: they were billed); g3 (12800, 11900, 70, 130,
    # tool 250) -> 12800 - 11900 + 250 = 1150/11900/200/130; g4 (14100, 12600, 38, 0) ->
    # 1500/12600/38/0; a last checkpoint copies u2, g3, g4 (not new calls). input 12350,
    # cache 40300, output 583, reasoning 370, total 53233 (= 12300 + 13545 + 13250 + 14138).
    # system: the <session_context> bootstrap (in checkpoints only) and the update notice.
    MAIN_JSONL: {
        "7c1e9d42-3f5a-4e8b-b2d1-9a0e6c4f7d13": (
            {"system": 2, "user": 2, "reasoning": 2, "assistant": 3, "tool_use": 2, "tool_result": 2}, 2, 2, 4,
            (12350, 40300, 0, 583, 370, 53233), "gemini-3-flash-preview"),
    },
    # Its nested subagent (v0.37+): (3000, 0, 150, 50) -> 3000/0/200/50 and
    # (3400, 2900, 20, 0) -> 500/2900/20/0: 3500, 2900, 220, 50, total 6620. The task prompt
    # is the parent model's (agent_prompt), not a person's.
    NESTED: {
        "x7k2pq": ({"user": 1, "tool_use": 1, "tool_result": 1, "assistant": 1}, 0, 1, 2, (3500, 2900, 0, 220, 50, 6620), "gemini-3-flash-preview"),
    },
    # A legacy .json and the .jsonl its resume wrote (the three old messages again, same ids):
    # r2 (8000, 0, 120, 300) -> 8000/0/420/300, r3 (8600, 7800, 25, 0) -> 800/7800/25/0, then
    # r5 (9900, 8400, 80, 60) -> 1500/8400/140/60, r6 (10300, 9800, 15, 0) -> 500/9800/15/0:
    # input 10800, cache 26000, output 600, reasoning 360, total 37400 -- not 37400 + 17045
    # (the .json's two calls counted again).
    f"{RESUMED}.json": {
        "a9d3b6f1-0c2e-4d7a-8b5f-3e1d9c6a2b40": (
            {"user": 2, "tool_use": 2, "tool_result": 2, "assistant": 2}, 2, 2, 4, (10800, 26000, 0, 600, 360, 37400), "gemini-3-flash-preview"),
    },
    # /clear before v0.35: two files, one session id, disjoint messages: (7000, 0, 40, 100) ->
    # 7000/0/140/100, (7300, 6100, 20, 0) -> 1200/6100/20/0, (6900, 0, 30, 70) ->
    # 6900/0/100/70: 15100, 6100, 260, 170, total 21460.
    CLEARED.format("00"): {
        "5b2e8c14-9d7f-4a1e-8c3b-2f6a0d9e4c71": (
            {"user": 2, "tool_use": 1, "tool_result": 1, "assistant": 2, "reasoning": 1}, 2, 1, 3, (15100, 6100, 0, 260, 170, 21460), "gemini-2.5-flash"),
    },
    # v0.31-0.36: a subagent file (kind "subagent") beside its parent, under the parent's id.
    # Parent: (9000, 2000, 60, 200) -> 7000/2000/260/200, (9800, 8800, 150, 0) ->
    # 1000/8800/150/0: 8000, 10800, 410, 200, total 19210. Subagent: (2500, 0, 30, 40) ->
    # 2500/0/70/40, (3100, 2400, 90, 0) -> 700/2400/90/0: 3200, 2400, 160, 40, total 5760.
    FLAT.format("15"): {
        "c4d8e2a0-6b1f-4e3d-a7c9-0f2e8d4b6a15": (
            {"user": 1, "assistant": 2, "tool_use": 1, "tool_result": 1}, 1, 1, 2, (8000, 10800, 0, 410, 200, 19210), "gemini-3-pro-preview"),
        "c4d8e2a0-6b1f-4e3d-a7c9-0f2e8d4b6a15/session-2026-03-02T08-16-c4d8e2a0": (
            {"user": 1, "tool_use": 1, "tool_result": 1, "assistant": 1}, 0, 1, 2, (3200, 2400, 0, 160, 40, 5760), "gemini-3-flash-preview"),
    },
}


@pytest.mark.parametrize("unit", sorted(CASES))
def test_gemini_fixture_contract(unit):
    result = parse_file(Source.GEMINI, str(ROOT / unit))
    assert result.rejection is None, result.detail
    assert (result.lines_malformed, result.lines_skipped, dict(result.unknown_types)) == (0, 0, {})
    expected = CASES[unit]
    assert [s.source_session_id for s in result.sessions] == list(expected)
    agg = summarize(result)
    for session in result.sessions:
        roles, prompts, tools, calls, tokens, model = expected[session.source_session_id]
        a = agg[session.id]
        assert Counter(m.role for m in session.messages) == roles
        assert a["message_count"] == sum(roles.values())
        assert (a["user_prompt_count"], a["tool_call_count"], a["api_call_count"]) == (prompts, tools, calls)
        assert tuple(a[k] for k in TOKENS) == tokens
        assert a["primary_model"] == model


def test_every_file_of_a_unit_gives_the_same_sessions():
    # handed either file of a group, the parser reads both
    for a, b in ((f"{RESUMED}.json", f"{RESUMED}.jsonl"), (CLEARED.format("00"), CLEARED.format("12")), (FLAT.format("15"), FLAT.format("16"))):
        one, other = parse_file(Source.GEMINI, str(ROOT / a)), parse_file(Source.GEMINI, str(ROOT / b))
        assert summarize(one) == summarize(other)


def test_a_resumed_legacy_file_alone_holds_only_its_own_calls(tmp_path):
    # the .json of the resume pair on its own: r2 + r3 = 8420 + 8625 = 17045; with its
    # .jsonl the unit is 37400, not 17045 + 37400
    alone = tmp_path / "chats" / "session-2026-04-08T16-20-a9d3b6f1.json"
    alone.parent.mkdir()
    shutil.copy(ROOT / f"{RESUMED}.json", alone)
    a = summarize(parse_file(Source.GEMINI, str(alone)))["gemini:a9d3b6f1-0c2e-4d7a-8b5f-3e1d9c6a2b40"]
    assert (a["api_call_count"], a["total_tokens"]) == (2, 17045)


def test_identity_links_and_where_each_session_ran():
    def session(unit, sid):
        return next(s for s in parse_file(Source.GEMINI, str(ROOT / unit)).sessions if s.source_session_id == sid)

    main = session(MAIN_JSONL, "7c1e9d42-3f5a-4e8b-b2d1-9a0e6c4f7d13")
    # cwd from the session's own `directories`; the CLI version from its update notice
    assert (main.cwd, main.cli_version, main.relation, main.parent_session_id) == ("/home/dev/jsonl-rewrites", "0.45.0", None, None)
    # started at the metadata's startTime, ended at the last message (g4)
    assert (main.started_at.isoformat(), main.ended_at.isoformat()) == ("2026-06-02T14:05:10+00:00", "2026-06-02T14:07:05+00:00")
    nested = session(NESTED, "x7k2pq")
    assert (nested.relation, nested.parent_session_id, nested.is_sidechain) == ("subagent", "gemini:7c1e9d42-3f5a-4e8b-b2d1-9a0e6c4f7d13", True)
    flat = session(FLAT.format("15"), "c4d8e2a0-6b1f-4e3d-a7c9-0f2e8d4b6a15/session-2026-03-02T08-16-c4d8e2a0")
    assert (flat.relation, flat.parent_session_id, flat.is_sidechain) == ("subagent", "gemini:c4d8e2a0-6b1f-4e3d-a7c9-0f2e8d4b6a15", True)
    # no `directories` (before v0.28): the .project_root marker; else projects.json by slug,
    # or by the sha256 a hash directory is named by
    assert session(f"legacy-json/chats/{LEGACY}", "1f0c2a7e-4b6d-4c3a-9e21-7a5d0c8b1f36").cwd == "/home/dev/legacy-json"
    assert session(CLEARED.format("00"), "5b2e8c14-9d7f-4a1e-8c3b-2f6a0d9e4c71").cwd == "/home/dev/clear-twins"
    hashed = session(f"{HASH_DIR}/chats/{LEGACY}", "1f0c2a7e-4b6d-4c3a-9e21-7a5d0c8b1f36")
    assert (hashed.cwd, hashed.cli_version) == ("/home/dev/legacy-json", "0.26.0")


def test_rewrites_rewinds_and_checkpoints_keep_every_call_once():
    (s,) = parse_file(Source.GEMINI, str(ROOT / MAIN_JSONL)).sessions
    calls = [m for m in s.messages if m.api_call]
    # g1 (rewritten twice, then rewound), g2 (rewound), g3 and g4 (copied into a checkpoint)
    assert [(m.role, m.model, m.input_tokens, m.output_tokens, m.dedup_key) for m in calls] == [
        ("reasoning", "gemini-3-flash-preview", 8000, 300, "a1f2e3d4-0001-4a00-8000-00000000a001"),
        ("assistant", "gemini-3-flash-preview", 1700, 45, "a1f2e3d4-0001-4a00-8000-00000000a004"),
        ("assistant", "gemini-3-pro-preview", 1150, 200, "a1f2e3d4-0001-4a00-8000-00000000a006"),
        ("assistant", "gemini-3-flash-preview", 1500, 38, "a1f2e3d4-0001-4a00-8000-00000000a007"),
    ]
    assert [c.usage_at.isoformat() for c in calls][0] == "2026-06-02T14:05:36+00:00"
    # the bootstrap lives only in checkpoints and has the id every session shares: injected,
    # and no identity across files; the rewound prompt was typed, so it is a prompt
    kinds = [(m.role, m.kind, m.dedup_key) for m in s.messages if m.role in ("system", "user")]
    assert kinds == [
        ("system", "injected", None),
        ("system", "info", "a1f2e3d4-0001-4a00-8000-00000000a000"),
        ("user", "prompt", "a1f2e3d4-0001-4a00-8000-00000000a002"),
        ("user", "prompt", "a1f2e3d4-0001-4a00-8000-00000000a005"),
    ]
    (use,) = [m for m in s.messages if m.role == "tool_use" and m.tool_name == "read_file"]
    assert (use.call_id, orjson.loads(use.text)) == ("read_file_1780409137000_0", {"file_path": "shop/checkout.py"})


def test_tool_results_and_errors():
    (s,) = parse_file(Source.GEMINI, str(ROOT / f"legacy-json/chats/{LEGACY}")).sessions
    results = [(m.tool_name, m.is_error, m.text) for m in s.messages if m.role == "tool_result"]
    assert results[:2] == [("read_file", False, "def list_notes(): ..."), ("run_shell_command", True, "pytest: command not found")]


def test_a_document_caught_mid_write_is_read_again_next_run(tmp_path):
    r = parse_file(Source.GEMINI, str(ROOT / TORN))
    assert r.rejection == "io_error" and "caught mid-write" in r.detail
    # a character cut in two at the very end is the same case
    cut = tmp_path / "chats" / "session-2026-02-11T08-05-aaaaaaaa.json"
    cut.parent.mkdir()
    cut.write_bytes('{"sessionId": "s", "projectHash": "h", "messages": [{"content": "caf\u00e9'.encode()[:-1])
    assert parse_file(Source.GEMINI, str(cut)).rejection == "io_error"
    # text that is simply not JSON is not a session log; an empty file is empty
    junk = tmp_path / "chats" / "session-2026-02-11T08-05-bbbbbbbb.json"
    junk.write_text("not json at all\n")
    assert parse_file(Source.GEMINI, str(junk)).rejection == "not_a_session_log"
    empty = tmp_path / "chats" / "session-2026-02-11T08-05-cccccccc.json"
    empty.write_text("")
    assert parse_file(Source.GEMINI, str(empty)).rejection == "empty"


def test_a_torn_member_makes_its_whole_unit_an_io_error(tmp_path):
    chats = tmp_path / "chats"
    shutil.copytree(ROOT / "resume-pair" / "chats", chats)
    json_file = chats / "session-2026-04-08T16-20-a9d3b6f1.json"
    json_file.write_bytes(json_file.read_bytes()[:200])
    assert parse_file(Source.GEMINI, str(chats / "session-2026-04-08T16-20-a9d3b6f1.jsonl")).rejection == "io_error"


def test_a_pretty_printed_document_under_a_jsonl_name_is_read_as_a_document(tmp_path):
    path = tmp_path / "chats" / "session-2026-04-08T16-20-a9d3b6f1.jsonl"
    path.parent.mkdir()
    shutil.copy(ROOT / f"{RESUMED}.json", path)
    r = parse_file(Source.GEMINI, str(path))
    assert (r.rejection, r.lines_ok, r.lines_malformed) == (None, 1, 0)
    assert summarize(r)["gemini:a9d3b6f1-0c2e-4d7a-8b5f-3e1d9c6a2b40"]["total_tokens"] == 17045


def test_each_chat_of_the_a2a_server_is_its_own_session(tmp_path):
    # the A2A server records every chat under the session id "a2a-server"; two chats started
    # in one minute share a file: two sessions, keyed by file and startTime
    def meta(start):
        return {"sessionId": "a2a-server", "projectHash": "h", "startTime": start, "lastUpdated": start, "kind": "main"}

    boot = {"id": "d04923d38bb0f6017037e74183378ef4", "timestamp": "2026-07-06T19:05:34.059Z", "type": "user", "content": [{"text": "<session_context>\nx"}]}
    path = write_jsonl(tmp_path / "chats" / "session-2026-07-06T19-05-a2a-serv.jsonl", [
        meta("2026-07-06T19:05:34.058Z"), {"$set": {"messages": [boot]}},
        meta("2026-07-06T19:05:50.000Z"), {"$set": {"messages": [boot]}},
        {"id": "9b0c5a3e-1111-4222-8333-444455556666", "timestamp": "2026-07-06T19:05:52.000Z", "type": "user", "content": [{"text": "hello"}]},
    ])
    r = parse_file(Source.GEMINI, str(path))
    agg = summarize(r)
    assert [(s.source_session_id, agg[s.id]["message_count"], agg[s.id]["user_prompt_count"]) for s in r.sessions] == [
        ("a2a-server/session-2026-07-06T19-05-a2a-serv/2026-07-06T19:05:34.058Z", 1, 0),
        ("a2a-server/session-2026-07-06T19-05-a2a-serv/2026-07-06T19:05:50.000Z", 2, 1),
    ]


def _touch(path: Path, mtime_ns: int) -> None:
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_discovery_groups_a_session_s_files_and_skips_what_is_not_a_chat(tmp_path):
    root = tmp_path / "tmp"
    shutil.copytree(ROOT, root)
    # not chats: the activity log, a rewrite's temp file, a preserved unreadable file, a checkpoint
    write_jsonl(root / "jsonl-rewrites" / "logs" / "session-7c1e9d42-3f5a-4e8b-b2d1-9a0e6c4f7d13.jsonl", [{"type": "request"}])
    for name in ("session-2026-06-02T14-05-7c1e9d42.jsonl.tmp-4242", "session-2026-06-02T14-05-7c1e9d42.jsonl.unreadable-1780409000000"):
        (root / "jsonl-rewrites" / "chats" / name).write_text("{}\n")
    (root / "jsonl-rewrites" / "checkpoint-mytag.json").write_text("[]")
    # a unit is named by its newest file (here the .json of the resume pair, the first twin,
    # the subagent file), its fingerprint the sum of the sizes and the latest mtime
    newer, older = 2_000_000_000_000_000_000, 1_000_000_000_000_000_000
    pair = [root / f"{RESUMED}.json", root / f"{RESUMED}.jsonl"]
    for path, mtime in ((pair[0], newer), (pair[1], older), (root / CLEARED.format("00"), newer), (root / CLEARED.format("12"), older),
                        (root / FLAT.format("15"), older), (root / FLAT.format("16"), newer)):
        _touch(path, mtime)
    units = {os.path.relpath(f.path, root): (f.kind, f.size, f.mtime_ns) for f in gemini.find_files(root)}
    assert sorted(units) == sorted([
        f"{HASH_DIR}/chats/{LEGACY}", f"legacy-json/chats/{LEGACY}", TORN, MAIN_JSONL, NESTED, f"{RESUMED}.json",
        CLEARED.format("00"), FLAT.format("16"),
    ])
    assert units[f"{RESUMED}.json"] == ("main", sum(p.stat().st_size for p in pair), 2_000_000_000_000_000_000)
    assert units[f"{HASH_DIR}/chats/{LEGACY}"][0] == "archived"  # the slug copy wins a clash
    assert units[NESTED][0] == "subagent"
    assert units[f"legacy-json/chats/{LEGACY}"][0] == "main"


def test_the_index_keeps_the_slug_copy_and_counts_each_session_once(tmp_path):
    db = tmp_path / "x.duckdb"
    proc = run_cli("index", "--db", str(db), "--sources", "gemini", "--gemini-dir", str(ROOT), "--json")
    assert proc.returncode == 0, proc.stderr
    out = orjson.loads(proc.stdout)["sources"]["gemini"]
    assert sorted(out["files_rejected"]) == ["duplicate_session_id", "io_error"]
    assert out["files_rejected"]["duplicate_session_id"]["examples"][0].endswith(f"{HASH_DIR}/chats/{LEGACY}")
    # 7 sessions: 43399 + 53233 + 6620 + 37400 + 21460 + 19210 + 5760 = 187082
    assert (out["sessions"], out["tokens"]["total_tokens"]) == (7, 187082)


def test_looks_like_claims_gemini_records_and_no_other_source_s_lines():
    ours = [orjson.loads(line) for p in sorted(ROOT.rglob("*.jsonl")) for line in p.read_bytes().splitlines() if line.strip()]
    assert ours and all(sniff_line(o) is Source.GEMINI for o in ours)
    for source in ("claude", "codex"):
        theirs = [orjson.loads(line) for p in sorted((FIXTURES / source).rglob("*.jsonl")) for line in p.read_bytes().splitlines() if line.strip()]
        assert theirs and not any(gemini.looks_like(o) for o in theirs), source
    # Qwen Code and Copilot CLI line shapes
    assert not gemini.looks_like({"uuid": "u", "parentUuid": None, "sessionId": "s", "timestamp": "t", "type": "user", "message": {}})
    assert not gemini.looks_like({"type": "user.message", "data": {}, "id": "e", "timestamp": "t", "parentId": None})


def test_wrong_source_is_rejected_both_ways(tmp_path):
    claude = write_jsonl(tmp_path / "s.jsonl", [{"type": "user", "sessionId": "s", "uuid": "u1", "timestamp": "2026-02-01T10:00:00Z",
                                                   "message": {"role": "user", "content": "hi"}}])
    assert parse_file(Source.GEMINI, str(claude)).rejection == "source_mismatch"
    assert parse_file(Source.CLAUDE, str(ROOT / MAIN_JSONL)).rejection == "source_mismatch"
    assert parse_file(Source.CODEX, str(ROOT / MAIN_JSONL)).rejection == "source_mismatch"


def test_bad_lines_are_counted_not_fatal(tmp_path):
    good = (ROOT / NESTED).read_bytes().splitlines()
    path = tmp_path / NESTED
    path.parent.mkdir(parents=True)
    foreign = b'{"type":"user","sessionId":"s","uuid":"u","timestamp":"2026-02-01T10:00:00Z","message":{"role":"user","content":"hi"}}'
    path.write_bytes(b"\n".join([*good[:3], b"{not json", foreign, b'{"id":"m","type":"future","timestamp":"t"}', *good[3:]]) + b'\n{"$set":{"lastUp')
    r = parse_file(Source.GEMINI, str(path))
    assert r.rejection is None
    assert (r.lines_ok, r.lines_malformed, r.lines_incomplete_tail, r.lines_skipped) == (len(good), 1, 1, 2)
    assert r.unknown_types == Counter({"foreign:user": 1, "line:future": 1})
    assert summarize(r)["gemini:x7k2pq"]["total_tokens"] == 6620


TRUTH_KEYS = ("id", "user_prompt_count", "tool_call_count", "api_call_count", "primary_model", "started_at", "ended_at", *TOKENS)


def test_synthetic_sessions_match_their_ground_truth(tmp_path):
    root = tmp_path / "tmp"
    truth = generate(root, 20, random.Random(11))
    got = {}
    for unit in gemini.find_files(root):
        result = parse_file(Source.GEMINI, unit.path)
        assert result.rejection is None, result.detail
        agg = summarize(result)
        for s in result.sessions:
            a = agg[s.id]
            a.update(id=s.id, started_at=_iso(s.started_at), ended_at=_iso(s.ended_at))
            got[s.id] = {k: a[k] for k in TRUTH_KEYS}
    assert len(truth) == 20
    assert got == {sid: {k: t[k] for k in TRUTH_KEYS} for sid, t in truth.items()}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**12) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
RECORDS = [line for p in sorted(ROOT.rglob("*.jsonl")) for line in p.read_bytes().splitlines() if line.strip()]


def _nested_dicts(value) -> list[dict]:
    """Every object inside a record (messages of a checkpoint, tool calls, tokens...)."""
    found = []
    if isinstance(value, dict):
        found.append(value)
        for v in value.values():
            found += _nested_dicts(v)
    elif isinstance(value, list):
        for v in value:
            found += _nested_dicts(v)
    return found


@st.composite
def damaged_record(draw):
    raw = draw(st.sampled_from(RECORDS))
    how = draw(st.sampled_from(["intact", "truncate", "mutate"]))
    if how == "truncate":
        return raw[:draw(st.integers(0, max(0, len(raw) - 1)))]
    if how == "mutate":  # a field anywhere in the record replaced by a value of any JSON type
        obj = orjson.loads(raw)
        target = draw(st.sampled_from(_nested_dicts(obj)))
        if target:
            target[draw(st.sampled_from(sorted(target)))] = draw(JSON_VALUES)
        return orjson.dumps(obj)
    return raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_records_never_raise(tmp_path, data):
    lines = [data.draw(st.sampled_from(RECORDS))] + data.draw(st.lists(damaged_record(), max_size=25))
    path = Path(tmp_path) / "chats" / "session-2026-06-02T14-05-fuzzfuzz.jsonl"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = parse_file(Source.GEMINI, str(path))
    assert result.rejection is None, result.detail  # no exception inside the parser
    non_blank = sum(1 for line in lines if line.strip())
    assert result.lines_ok + result.lines_malformed + result.lines_incomplete_tail + result.lines_skipped == non_blank
    summarize(result)


def test_streamed_messages_equal_the_whole_parse():
    from dataclasses import asdict

    for path in sorted(ROOT.rglob("*.json*")):
        whole = parse_file(Source.GEMINI, str(path))
        got = []
        streamed = parse_file(Source.GEMINI, str(path), sink=lambda sid, ms: got.extend((sid, asdict(m)) for m in ms))
        assert got == [(s.id, asdict(m)) for s in whole.sessions for m in s.messages], path.name
        assert [(s.id, s.messages, s.message_count) for s in streamed.sessions] == [(s.id, [], len(s.messages)) for s in whole.sessions]
