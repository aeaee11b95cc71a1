"""Contract of the GitHub Copilot CLI parser on its fixtures (fixtures/copilot/session-state/).
Every number is derived by hand from the fixture named in the case; the arithmetic is in the
comments. Copilot's ``inputTokens`` include cache reads and writes: uncached input = input - cache
read - cache write. Reasoning is part of the output and never added to it."""

import json
import random
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.synth_copilot import generate
from claude_view_pipeline.aggregate import summarize
from claude_view_pipeline.parsers import copilot, copilot_usage, parse_file
from claude_view_pipeline.parsers.copilot_usage import ModelUsage, leg_usage
from claude_view_pipeline.parsers.sniff import sniff_line
from claude_view_pipeline.sources import Source

from helpers import FIXTURES, run_cli, write_jsonl

ROOT = FIXTURES / "copilot" / "session-state"
TOKENS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "reasoning_tokens", "total_tokens")

# fixture -> (roles, prompts, tools, api calls, compactions, aborted turns, primary model,
#             (input, cache_read, cache_creation, output, reasoning, total))
CASES = {
    # one leg, shutdown {sonnet: 3 requests, in 45000, out 500, cr 30000, cw 14000, reasoning 40};
    # the three messages' outputTokens 120 + 300 + 80 = 500 = the shutdown's: input 45000-30000-14000
    "one-leg-shutdown/events.jsonl": (
        {"system": 1, "user": 1, "reasoning": 1, "assistant": 2, "tool_use": 3, "tool_result": 3}, 1, 3, 3, 0, 0,
        "claude-sonnet-4.6", (1000, 30000, 14000, 500, 40, 45500)),
    # 1.0.14 (each shutdown its own leg's): legs (2 calls, in 50000, cr 40000, out 300), (1, 26000, 20000, 150),
    # (3, 93000, 80000, 340): every leg's calls and output match its own shutdown, so the shutdowns are
    # summed: input 10000 + 6000 + 13000, cache 40000 + 20000 + 80000, output 790. The third leg's figures
    # all rise over the second's, yet are not a running total (3 calls, not 3 - 1). ccusage 20.0.24
    # takes the per-field maximum over shutdowns: input 13000, output 340, cache read 80000.
    # No shutdown reports reasoning (before 1.0.23): the index sums none, 0.
    "resumed-per-leg/events.jsonl": (
        {"user": 3, "assistant": 4, "tool_use": 2, "tool_result": 2}, 3, 2, 6, 0, 0,
        "gpt-5.4-mini", (29000, 140000, 0, 790, 0, 169790)),
    # 1.0.70 (running totals): S0 {gpt-5.4: 2, 20000, out 160, cr 12000, r 30}; S1 {gpt-5.4: 3, 35000, 250, 24000,
    # r 50}; S2 = S1's gpt-5.4 + {sonnet: 2, 30000, 110, 20000, cw 9000, r 0}. Leg 1 has 1 call (S1 says 3,
    # S1 - S0 says 1); leg 2 has 2 (S2 says 5, S2 - S1 says 2): differences. gpt-5.4: input (20000-12000) +
    # (15000-12000) = 11000, cache 24000, output 250, reasoning 50; sonnet: input 30000-20000-9000 = 1000,
    # cache 20000, writes 9000, output 110. Summing the shutdowns (agentsview) would count gpt-5.4 three times.
    "resumed-cumulative/events.jsonl": (
        {"user": 3, "assistant": 3, "tool_use": 2, "tool_result": 2}, 3, 2, 5, 0, 0,
        "gpt-5.4", (12000, 44000, 9000, 360, 50, 65360)),
    # created by 1.0.64, resumed by 1.0.70 (a resume does not record its version): S0 (2, 10000, out 150,
    # cr 6000) is the first leg's own, S1 (3, 18000, 190, 12000) and S2 (5, 30000, 240, 21000) are running
    # totals over it: legs (2, 4000 + 6000), (1, 8000 - 6000 = 2000 + 6000), (2, 12000 - 9000 = 3000 + 9000)
    "upgraded-mid-session/events.jsonl": (
        {"user": 3, "assistant": 4, "tool_use": 1, "tool_result": 1}, 3, 1, 5, 0, 0,
        "gpt-5-mini", (9000, 21000, 0, 240, 0, 30240)),
    # no shutdown: four calls with output 150 + 60 + 20 + 45, input unknown (NULL, so is the total).
    # Prompts: the typed one and /review (a command); the empty autopilot nudge, the skill's text, the
    # notification and the abort are system messages
    "no-shutdown/events.jsonl": (
        {"user": 2, "system": 4, "assistant": 3, "tool_use": 1, "tool_result": 1}, 2, 1, 4, 0, 1,
        "claude-opus-4.6", (None, None, None, 275, 0, None)),
    # leg 0: the model does not exist, its shutdown has modelMetrics {} (nothing to account for);
    # leg 1: {gpt-5-mini: 1, in 9000, out 80}
    "empty-model-metrics/events.jsonl": (
        {"user": 2, "assistant": 1}, 2, 0, 1, 0, 0, "gpt-5-mini", (9000, 0, 0, 80, 0, 9080)),
    # 1.0.10: no message names its model; the tool executions do (opus for the task call, haiku for the
    # sub-agent's grep); the sub-agent's answer has no tool, its sibling's model is taken. Shutdown: opus
    # (2, 40000, out 160, cr 30000), haiku (2, 12000, out 70, cr 8000): input 10000 + 4000. Two calls
    # each: the latest call (opus) decides the primary model
    "subagent-other-model/events.jsonl": (
        {"user": 1, "assistant": 2, "tool_use": 2, "tool_result": 2}, 1, 2, 4, 0, 0,
        "claude-opus-4.6", (14000, 38000, 0, 230, 0, 52230)),
    # the shutdown counts 3 gpt-5-mini calls (in 9000, out 120, cr 3000, reasoning 60) with no message:
    # three `usage` messages carry them. sonnet: (2, 20000, out 80, cr 15000, cw 2000) -> input 3000
    "subagent-calls-without-messages/events.jsonl": (
        {"user": 1, "assistant": 4, "tool_use": 1, "tool_result": 1}, 1, 1, 5, 0, 0,
        "gpt-5-mini", (3000 + 6000, 18000, 2000, 200, 60, 29200)),
    # the leg's two calls: (2, 60000, out 170, cr 40000, cw 5000) -> input 15000; the compaction call
    # (inputTokens 50000, cacheReadTokens 20000, outputTokens 2000) -> input 30000, in no shutdown
    "compaction/events.jsonl": (
        {"user": 2, "assistant": 3, "system": 1}, 2, 0, 3, 1, 0,
        "claude-sonnet-4.6", (45000, 60000, 5000, 2170, 0, 112170)),
    # 1.0.10 names: input 80000, cachedInput 10000, output 3000 -> input 70000; the leg (2, 50000, out 130,
    # cr 45000) -> input 5000. The compaction records no model
    "compaction-old-names/events.jsonl": (
        {"user": 1, "assistant": 3, "system": 1}, 1, 0, 3, 1, 0,
        "claude-opus-4.6", (75000, 55000, 0, 3130, 0, 133130)),
    # one call in two chunks (same apiCallId): one call, output 400 (each chunk repeats the call's)
    "chunked-call/events.jsonl": (
        {"user": 1, "reasoning": 2, "assistant": 2}, 1, 0, 1, 0, 0, "gpt-5.5", (4000, 6000, 0, 400, 150, 10400)),
    # the flat layout: no outputTokens, no model, no shutdown: each assistant.message is a call (4, 2
    # and 3 of them; the two with tool requests only are carried by their first tool_use) whose
    # tokens the log does not give: every token column unknown (NULL), never 0
    "flat-legacy.jsonl": (
        {"user": 2, "system": 1, "assistant": 2, "tool_use": 3, "tool_result": 3}, 2, 3, 4, 0, 0, None, (None,) * 6),
    "flat-and-directory.jsonl": (
        {"user": 1, "system": 1, "assistant": 1, "tool_use": 1, "tool_result": 1}, 1, 1, 2, 0, 0, None, (None,) * 6),
    "flat-and-directory/events.jsonl": (
        {"user": 2, "system": 1, "assistant": 2, "tool_use": 1, "tool_result": 1}, 2, 1, 3, 0, 0, None, (None,) * 6),
}


def parsed(name: str):
    result = parse_file(Source.COPILOT, str(ROOT / name))
    assert result.rejection is None, result.detail
    (session,) = result.sessions
    return result, session, summarize(result)[session.id]


@pytest.mark.parametrize("name", sorted(CASES))
def test_copilot_fixture_contract(name):
    roles, prompts, tools, calls, compactions, aborted, primary, tokens = CASES[name]
    result, session, a = parsed(name)
    assert (result.lines_malformed, result.lines_skipped, dict(result.unknown_types)) == (0, 0, {})
    assert Counter(m.role for m in session.messages) == roles
    assert a["message_count"] == sum(roles.values())
    assert (a["user_prompt_count"], a["tool_call_count"], a["api_call_count"]) == (prompts, tools, calls)
    assert (a["compaction_count"], a["aborted_turn_count"]) == (compactions, aborted)
    assert a["primary_model"] == primary
    assert tuple(a[k] for k in TOKENS) == tokens


def test_identity_and_metadata_come_from_the_session_start():
    _, s, _ = parsed("one-leg-shutdown/events.jsonl")
    assert s.id == "copilot:one-leg-shutdown" and s.cli_version == "1.0.60"
    assert (s.cwd, s.git_branch, s.git_repository_url) == ("/home/dev/shop", "main", "https://github.com/acme/shop")
    assert (s.started_at.isoformat(), s.ended_at.isoformat()) == ("2026-03-02T09:00:00+00:00", "2026-03-02T09:00:13+00:00")
    # the shutdown's input lands on the last call; the first call (tools only) is carried by its reasoning
    calls = [(m.role, m.output_tokens, m.input_tokens, m.cache_read_tokens, m.reasoning_tokens) for m in s.messages if m.api_call]
    assert calls == [("reasoning", 120, 0, 0, 0), ("assistant", 300, 0, 0, 0), ("assistant", 80, 1000, 30000, 40)]


def test_metadata_the_events_lack_comes_from_workspace_yaml():
    _, s, _ = parsed("no-shutdown/events.jsonl")
    assert (s.cwd, s.git_branch, s.git_repository_url, s.cli_version) == ("/home/dev/api", "fix-tests", "https://github.com/acme/api", "1.0.10")
    kinds = [(m.role, m.kind, m.text) for m in s.messages if m.role in ("user", "system")]
    assert kinds == [
        ("user", "prompt", "fix the failing test"),
        ("system", "injected", "<current_datetime>x</current_datetime>\n\nYou have not yet marked the task as complete. Continue."),
        ("user", "command", "/review"),
        ("system", "injected", "Review the change for style."),
        ("system", "notification", "<system_notification>\nShell command \"tests\" (shellId: 1) has completed successfully.\n</system_notification>"),
        ("system", "turn_aborted", "user_initiated"),
    ]
    # every call keeps its own output; its input is unknown
    assert {(m.model, m.input_tokens) for m in s.messages if m.api_call} == {("claude-opus-4.6", None)}


def per_model(session) -> dict:
    out: dict = {}
    for m in session.messages:
        if m.api_call:
            row = out.setdefault(m.model, [0, 0, 0, 0, 0])
            for i, v in enumerate((1, m.input_tokens, m.cache_read_tokens, m.cache_creation_tokens, m.output_tokens)):
                row[i] += v
    return out


def test_running_totals_become_each_models_own_usage():
    _, s, _ = parsed("resumed-cumulative/events.jsonl")
    # (calls, input, cache read, cache write, output), from the derivation in CASES
    assert per_model(s) == {"gpt-5.4": [3, 11000, 24000, 0, 250], "claude-sonnet-4.6": [2, 1000, 20000, 9000, 110]}


def test_a_subagents_calls_are_on_the_model_its_tools_name():
    _, s, _ = parsed("subagent-other-model/events.jsonl")
    assert per_model(s) == {"claude-opus-4.6": [2, 10000, 30000, 0, 160], "claude-haiku-4.5": [2, 4000, 8000, 0, 70]}


def test_calls_the_shutdown_counts_without_messages_get_usage_messages():
    _, s, _ = parsed("subagent-calls-without-messages/events.jsonl")
    usage = [(m.kind, m.model, m.output_tokens, m.input_tokens, m.reasoning_tokens, m.text) for m in s.messages if m.kind == "usage"]
    # three calls; the last carries the model's input (9000-3000), cache, output and reasoning
    assert usage == [("usage", "gpt-5-mini", 0, 0, 0, None), ("usage", "gpt-5-mini", 0, 0, 0, None),
                     ("usage", "gpt-5-mini", 120, 6000, 60, None)]
    assert per_model(s)["claude-sonnet-4.6"] == [2, 3000, 15000, 2000, 80]


def test_an_empty_shutdown_after_calls_leaves_their_input_unknown(tmp_path):
    lines = [json.loads(line) for line in (ROOT / "empty-model-metrics/events.jsonl").read_text().splitlines()]
    # the working leg's shutdown written as {} (as the failed first leg's was): its call is not accounted for
    lines[-1]["data"]["modelMetrics"] = {}
    path = write_jsonl(tmp_path / "s" / "events.jsonl", lines)
    a = summarize(parse_file(Source.COPILOT, str(path)))["copilot:empty-model-metrics"]
    assert (a["api_call_count"], a["output_tokens"], a["input_tokens"], a["total_tokens"]) == (1, 80, None, None)


U = ModelUsage


def test_a_leg_the_shutdowns_do_not_fit_is_read_by_the_release_then_by_the_nearer_reading():
    prev = {"m": U(4, 1000, 400, 500, 0, None)}
    cur = {"m": U(7, 1900, 650, 900, 0, None)}  # own figures 7 calls, running-total difference 3
    diff = {"m": U(3, 900, 250, 400, 0, None)}
    assert leg_usage(cur, prev, 7, 650, False) == cur  # the leg's own figures fit
    assert leg_usage(cur, prev, 3, 250, False) == diff  # the difference fits
    # neither fits (a call lost, e.g. by /rewind): a session created by 1.0.66+ keeps running totals
    assert leg_usage(cur, prev, 4, None, True) == diff
    # otherwise the reading nearer the leg's calls: |7-6| < |3-6|, |7-5| = |3-5| (a tie: its own)
    assert leg_usage(cur, prev, 6, None, False) == cur
    assert leg_usage(cur, prev, 2, None, False) == diff
    assert leg_usage(cur, prev, 5, None, False) == cur
    # a running total never falls: a smaller shutdown is the leg's own
    assert leg_usage({"m": U(2, 100, 10, 0, 0, None)}, prev, 5, None, True) == {"m": U(2, 100, 10, 0, 0, None)}


def test_copilot_lines_are_told_from_other_agents():
    first = json.loads((ROOT / "one-leg-shutdown/events.jsonl").read_text().splitlines()[0])
    assert copilot.looks_like(first) and sniff_line(first) is Source.COPILOT
    assert copilot.looks_like({"type": "abort", "data": {"reason": "user_initiated"}, "id": "x", "timestamp": "t", "parentId": None})
    claude = {"type": "user", "sessionId": "s", "uuid": "u", "parentUuid": None, "message": {"role": "user", "content": "hi"}}
    codex = {"timestamp": "t", "type": "event_msg", "payload": {"type": "user_message"}}
    assert not copilot.looks_like(claude) and not copilot.looks_like(codex)
    assert not copilot.looks_like({"type": "session.start", "data": "not an object"})
    assert not copilot.looks_like({"type": "user", "data": {}})


def test_files_of_another_agent_are_rejected_both_ways(tmp_path):
    claude = write_jsonl(tmp_path / "s.jsonl", [{"type": "user", "sessionId": "s", "uuid": "u", "timestamp": "2026-02-01T10:00:00Z",
                                                "message": {"role": "user", "content": "hi"}}])
    codex = write_jsonl(tmp_path / "rollout-x.jsonl", [{"timestamp": "2026-02-01T10:00:00Z", "type": "session_meta", "payload": {"id": "t"}}])
    ours = str(ROOT / "one-leg-shutdown/events.jsonl")
    assert parse_file(Source.COPILOT, str(claude)).rejection == "source_mismatch"
    assert parse_file(Source.COPILOT, str(codex)).rejection == "source_mismatch"
    assert parse_file(Source.CLAUDE, ours).rejection == "source_mismatch"
    assert parse_file(Source.CODEX, ours).rejection == "source_mismatch"
    junk = tmp_path / "j.jsonl"
    junk.write_text("DEBUG starting\n")
    assert parse_file(Source.COPILOT, str(junk)).rejection == "not_a_session_log"


def test_bad_lines_cost_only_themselves(tmp_path):
    good = (ROOT / "one-leg-shutdown/events.jsonl").read_text().splitlines()
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(good[:3] + ["{not json", "[1]"] + good[3:]) + "\n" + '{"type":"session.sh')
    r = parse_file(Source.COPILOT, str(path))
    assert (r.rejection, r.lines_ok, r.lines_malformed, r.lines_incomplete_tail) == (None, len(good), 2, 1)
    assert summarize(r)["copilot:one-leg-shutdown"]["total_tokens"] == 45500


def test_discovery_finds_both_layouts_and_fingerprints_workspace_yaml(tmp_path):
    root = tmp_path / "session-state"
    write_jsonl(root / "a" / "events.jsonl", [{"type": "session.start", "data": {}}])
    (root / "a" / "workspace.yaml").write_text("id: a\ncwd: /x\n")
    write_jsonl(root / "a" / "rewind-snapshots" / "backups" / "old.jsonl", [{}])  # a backed-up user file
    (root / "b").mkdir()
    (root / "b" / "workspace.yaml").write_text("id: b\n")  # closed before its first message
    write_jsonl(root / "c.jsonl", [{"type": "session.start", "data": {}}])
    (root / "notes.txt").write_text("x")
    files = sorted(copilot.find_files(root), key=lambda f: f.path)
    assert [(Path(f.path).relative_to(root).as_posix(), f.kind) for f in files] == [("a/events.jsonl", "main"), ("c.jsonl", "archived")]
    events, workspace = (root / "a" / "events.jsonl").stat(), (root / "a" / "workspace.yaml").stat()
    assert files[0].fingerprint == (events.st_size + workspace.st_size, max(events.st_mtime_ns, workspace.st_mtime_ns))
    assert [copilot.SPEC.id_from_path(f.path) for f in files] == ["a", "c"]


def test_the_directory_copy_wins_over_its_flat_original(tmp_path):
    db = tmp_path / "i.duckdb"
    proc = run_cli("index", "--db", str(db), "--sources", "copilot", "--copilot-dir", str(ROOT), "--json")
    assert proc.returncode == 0, proc.stderr
    con = duckdb.connect(str(db), read_only=True)
    try:
        path, prompts = con.execute("SELECT file_path, user_prompt_count FROM sessions WHERE id = 'copilot:flat-and-directory'").fetchone()
        rejected = con.execute("SELECT reason FROM indexed_files WHERE path LIKE '%flat-and-directory.jsonl'").fetchone()
        count = con.execute("SELECT count(*) FROM sessions WHERE source = 'copilot'").fetchone()[0]
    finally:
        con.close()
    assert Path(path).as_posix().endswith("flat-and-directory/events.jsonl") and prompts == 2
    assert rejected == ("duplicate_session_id",)
    assert count == len(CASES) - 1


def test_streamed_messages_equal_the_whole_parse(monkeypatch):
    monkeypatch.setattr(copilot, "FLUSH_EVERY", 1)
    for path in sorted(ROOT.rglob("*.jsonl")):
        whole = parse_file(Source.COPILOT, str(path))
        got = []
        streamed = parse_file(Source.COPILOT, str(path), sink=lambda sid, ms: got.extend((sid, asdict(m)) for m in ms))
        assert got == [(s.id, asdict(m)) for s in whole.sessions for m in s.messages], path.name
        assert [(s.id, s.messages, s.message_count) for s in streamed.sessions] == [(s.id, [], len(s.messages)) for s in whole.sessions]


LINES = [line for p in sorted(ROOT.rglob("*.jsonl")) for line in p.read_bytes().splitlines() if line.strip()]
OTHER = [line for source in ("claude", "codex") for p in sorted((FIXTURES / source).glob("*.jsonl")) for line in p.read_bytes().splitlines()[:3]]


@st.composite
def damaged_line(draw):
    raw = draw(st.sampled_from(LINES))
    how = draw(st.sampled_from(["intact", "truncate", "mutate", "garbage", "foreign"]))
    if how == "truncate":
        return raw[: draw(st.integers(0, max(0, len(raw) - 1)))], False
    if how == "mutate":  # a field of the line or of its data replaced by a value of another type
        obj = json.loads(raw)
        target = draw(st.sampled_from([obj] + [v for v in obj.values() if isinstance(v, dict)]))
        if target:
            target[draw(st.sampled_from(sorted(target)))] = draw(st.none() | st.integers(-5, 10**9) | st.text(max_size=5) | st.lists(st.none(), max_size=2))
        return json.dumps(obj).encode(), False
    if how == "garbage":
        return draw(st.binary(max_size=30)).replace(b"\n", b" "), False
    if how == "foreign":
        return draw(st.sampled_from(OTHER)), False
    return raw, True


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_parser_never_raises_and_accounts_for_every_line(tmp_path, data):
    lines = [(data.draw(st.sampled_from(LINES)), True)] + data.draw(st.lists(damaged_line(), max_size=25))
    path = Path(tmp_path) / "events.jsonl"
    path.write_bytes(b"\n".join(line for line, _ in lines) + b"\n")
    result = parse_file(Source.COPILOT, str(path))
    assert result.rejection != "parse_error", result.detail
    non_blank = sum(1 for line, _ in lines if line.strip())
    if result.rejection is None:
        assert result.lines_ok + result.lines_malformed + result.lines_incomplete_tail + result.lines_skipped == non_blank
        assert result.lines_ok >= sum(1 for line, intact in lines if intact)
        summarize(result)  # every message is one the index can hold


def test_synthetic_sessions_match_their_ground_truth(tmp_path):
    truth = generate(tmp_path / "session-state", 20, random.Random(2026))
    results = [parse_file(Source.COPILOT, f.path) for f in copilot.find_files(tmp_path / "session-state")]
    got = summarize(*results)
    sessions = {s.id: s for r in results for s in r.sessions}
    stamp = lambda ts: ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"  # noqa: E731
    assert set(got) == set(truth)
    for sid, t in truth.items():
        g = dict(got[sid], id=sid, started_at=stamp(sessions[sid].started_at), ended_at=stamp(sessions[sid].ended_at))
        assert {k: g[k] for k in t} == t, sid
    # the corpus holds the traps: sessions whose input is unknown, resumed sessions, sub-agents, compactions
    assert any(t["input_tokens"] is None for t in truth.values()) and any(t["input_tokens"] is not None for t in truth.values())
    kinds = Counter(m.kind for s in sessions.values() for m in s.messages)
    assert kinds["compaction"] and kinds["injected"] and kinds["command"]


def test_a_damaged_request_count_cannot_make_calls_without_end(tmp_path):
    lines = [json.loads(line) for line in (ROOT / "subagent-calls-without-messages/events.jsonl").read_text().splitlines()]
    lines[-1]["data"]["modelMetrics"]["gpt-5-mini"]["requests"]["count"] = 10**12
    path = write_jsonl(tmp_path / "s" / "events.jsonl", lines)
    a = summarize(parse_file(Source.COPILOT, str(path)))["copilot:subagent-calls-without-messages"]
    assert a["api_call_count"] == 2 + copilot_usage.MAX_CALLS_WITHOUT_MESSAGES and a["total_tokens"] == 29200


def test_the_shutdown_places_calls_whose_model_the_log_only_guesses(tmp_path):
    lines = [json.loads(line) for line in (ROOT / "subagent-other-model/events.jsonl").read_text().splitlines()]
    for line in lines:  # the sub-agent's tool execution no longer names haiku
        if line["data"].get("toolCallId") == "toolu_s1":
            line["data"].pop("model", None)
    path = write_jsonl(tmp_path / "s" / "events.jsonl", lines)
    s = parse_file(Source.COPILOT, str(path)).sessions[0]
    # all four calls would be opus (the agent's model), the shutdown counts 2 opus and 2 haiku:
    # the sub-agent's two calls, guessed only, are the ones that move
    assert per_model(s) == {"claude-opus-4.6": [2, 10000, 30000, 0, 160], "claude-haiku-4.5": [2, 4000, 8000, 0, 70]}
    assert [m.model for m in s.messages if m.api_call] == ["claude-opus-4.6", "claude-haiku-4.5", "claude-haiku-4.5", "claude-opus-4.6"]
