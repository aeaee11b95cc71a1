"""Contract of the Qwen Code parser on the canonical fixtures (fixtures/qwen/projects/). Every
number is derived by hand from the fixture file named in the case.

Token rule (docs/parsing-rules.md, "Qwen Code"): per response P = prompt (cache included),
K = cached, C = candidates, T = thoughts, TT = total. input = P - K, cache_read = K,
output = C when TT = P + C (thoughts inside C), C + T when TT = P + C + T; reasoning = T.
"""

import json
import random
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.synth_qwen import generate
from claude_view_pipeline.aggregate import summarize
from claude_view_pipeline.parsers import parse_file, qwen
from claude_view_pipeline.parsers.sniff import sniff_line
from claude_view_pipeline.sources import Source

from helpers import FIXTURES, write_jsonl

ROOT = FIXTURES / "qwen" / "projects"
PRE = "-home-dev-pre-telemetry/chats/0a000000-0000-4000-8000-000000000001.jsonl"
TELEMETRY = "-home-dev-telemetry/chats/0b000000-0000-4000-8000-000000000002.jsonl"
RESUMED = "-home-dev-resumed/chats/0c000000-0000-4000-8000-000000000003.jsonl"
ARCHIVED = "-home-dev-archived/chats/archive/0d000000-0000-4000-8000-000000000004.jsonl"
PARENT = "-home-dev-subagents/chats/0e000000-0000-4000-8000-000000000005.jsonl"
SUBAGENT = "-home-dev-subagents/subagents/0e000000-0000-4000-8000-000000000005/agent-explore-7f3c.jsonl"
BRANCHED = "-home-dev-branching/chats/0f000000-0000-4000-8000-000000000006.jsonl"
FORK = "-home-dev-branching/chats/10000000-0000-4000-8000-000000000007.jsonl"

# file -> (roles, prompts, tools, api calls, compactions, inherited,
#          (input, cache_read, cache_creation, output, reasoning, total))
CASES = {
    # no telemetry: the three assistant records with usage are the calls
    #   (P 12000, K 8000, C 150, T 40, TT 12150): 4000 + 8000 cached, output 150 (TT = P + C)
    #   (P 12400, K 12000, C 60, T 0, TT 12460): 400 + 12000, output 60
    #   (P 3000, K 0, C 100, T 200, TT 3300 = P + C + T, Gemini-style): 3000, output 100 + 200
    # input 7400, cache 20000, output 510, reasoning 240, total 27910; the last record has no
    # usage (cut short): a message, not a call
    PRE: ({"user": 2, "assistant": 4, "reasoning": 2, "tool_use": 2, "tool_result": 2}, 2, 2, 3, 0, 0,
          (7400, 20000, 0, 510, 240, 27910)),
    # eight api_response events, each once: three claimed by their assistant records, a
    # web_fetch summary (P 300, C 800, T 750, TT 1100), two sub-agent rounds
    # (5000/0/400/100 and 6000/4800/300/60), a response whose provider sent no usage (the
    # record without usage claims the all-zero event) and the compression call (15000/0/500/0).
    # input 1000 + 300 + 500 + 600 + 5000 + 1200 + 0 + 15000 = 23600
    # cache 13000 + 14000 + 14400 + 4800 = 46200; output 90 + 800 + 120 + 200 + 400 + 300 + 500 = 2410
    # reasoning 30 + 750 + 20 + 50 + 100 + 60 + 0 = 1010; total = the events' TT sum 72210
    # prompts: /model, "Fetch the changelog", /review src (its text sent 50 ms later is not a
    # second prompt), "@README.md summarise"
    TELEMETRY: ({"user": 4, "system": 6, "assistant": 6, "reasoning": 1, "tool_use": 2, "tool_result": 2}, 4, 2, 8, 1, 0,
                (23600, 46200, 0, 2410, 1010, 72210)),
    # two calls, two days apart: (20000, 0, 300, 40) and (21000 - 19000, 19000, 200, 25)
    RESUMED: ({"user": 2, "assistant": 2}, 2, 0, 2, 0, 0, (22000, 19000, 0, 500, 65, 41500)),
    # a cron prompt and a goal_runtime user record are the agent's: one typed prompt
    ARCHIVED: ({"user": 1, "system": 2, "assistant": 1}, 1, 0, 1, 0, 0, (1000, 0, 0, 50, 10, 1050)),
    # 0.24: (20000, 3000, 300, 100), sub-agent rounds (8000, 0, 200, 50) and (9000, 7000, 150, 40),
    # (21000, 20000, 120, 30): input 17000 + 8000 + 2000 + 1000, cache 3000 + 7000 + 20000
    PARENT: ({"user": 1, "assistant": 3, "tool_use": 1, "tool_result": 1}, 1, 1, 4, 0, 0, (28000, 30000, 0, 770, 220, 58770)),
    # the sub-agent's own records repeat the parent's events' usage: detail, never calls
    SUBAGENT: ({"user": 1, "assistant": 1, "tool_use": 1, "tool_result": 1}, 0, 1, 0, 0, 0, (0, 0, 0, 0, 0, 0)),
    BRANCHED: ({"user": 1, "assistant": 1}, 1, 0, 1, 0, 0, (5000, 0, 0, 400, 80, 5400)),
    # the copied prompt and answer are the parent's (inherited, the copied event adds nothing);
    # its own call: (5600 - 5000, 5000, 150, 20)
    FORK: ({"user": 2, "assistant": 2}, 1, 0, 1, 0, 2, (600, 5000, 0, 150, 20, 5750)),
}


def parse_one(rel: str):
    result = parse_file(Source.QWEN, str(ROOT / rel))
    assert result.rejection is None, result.detail
    (session,) = result.sessions
    return result, session, summarize(result)[session.id]


@pytest.mark.parametrize("rel", sorted(CASES))
def test_qwen_fixture_contract(rel):
    roles, prompts, tools, calls, compactions, inherited, tokens = CASES[rel]
    result, session, a = parse_one(rel)
    assert (result.lines_malformed, result.lines_skipped, result.lines_duplicate) == (0, 0, 0)
    assert Counter(m.role for m in session.messages) == roles
    assert a["message_count"] == sum(roles.values())
    assert (a["user_prompt_count"], a["tool_call_count"], a["api_call_count"]) == (prompts, tools, calls)
    assert (a["compaction_count"], a["inherited_records"]) == (compactions, inherited)
    got = tuple(a[k] for k in ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "reasoning_tokens", "total_tokens"))
    assert got == tokens


# file -> (id, relation, parent, sidechain, version, cwd, branch, started, ended, primary model)
IDENTITY = {
    PRE: ("0a000000-0000-4000-8000-000000000001", None, None, False, "0.3.0", "/home/dev/pre-telemetry", "main",
          "2026-01-05T10:00:00+00:00", "2026-01-05T10:01:30+00:00", "qwen3-coder-plus"),
    # the last line is the unknown system record at 09:04:12
    TELEMETRY: ("0b000000-0000-4000-8000-000000000002", None, None, False, "0.14.0", "/home/dev/telemetry", "feature/x",
                "2026-04-05T09:00:00+00:00", "2026-04-05T09:04:12+00:00", "coder-model"),
    # resumed by 0.14.3: the release that wrote last
    RESUMED: ("0c000000-0000-4000-8000-000000000003", None, None, False, "0.14.3", "/home/dev/resumed", "main",
              "2026-04-08T20:00:00+00:00", "2026-04-10T08:00:04.050000+00:00", "coder-model"),
    ARCHIVED: ("0d000000-0000-4000-8000-000000000004", None, None, False, "0.24.4", "/home/dev/archived", "main",
               "2026-09-01T10:00:00+00:00", "2026-09-01T10:00:30+00:00", "deepseek-v4-flash"),
    # two calls name the record's model, two (the sub-agent's) the event's: the tie goes to the
    # model of the latest call, the record's
    PARENT: ("0e000000-0000-4000-8000-000000000005", None, None, False, "0.24.4", "/home/dev/subagents", None,
             "2026-09-24T10:00:00+00:00", "2026-09-24T10:00:25.002000+00:00", "deepseek-v4-flash"),
    SUBAGENT: ("0e000000-0000-4000-8000-000000000005/agent-explore-7f3c", "subagent", "qwen:0e000000-0000-4000-8000-000000000005",
               True, "0.24.4", "/home/dev/subagents", None, "2026-09-24T10:00:04+00:00", "2026-09-24T10:00:20.002000+00:00", None),
    # the copies keep the parent's timestamps
    FORK: ("10000000-0000-4000-8000-000000000007", "fork", "qwen:0f000000-0000-4000-8000-000000000006", False, "0.24.4",
           "/home/dev/branching", "main", "2026-09-25T09:00:00+00:00", "2026-09-25T09:10:04.002000+00:00", "deepseek-v4-flash"),
}


@pytest.mark.parametrize("rel", sorted(IDENTITY))
def test_qwen_identity_and_metadata(rel):
    _, s, a = parse_one(rel)
    sid, relation, parent, sidechain, version, cwd, branch, started, ended, model = IDENTITY[rel]
    assert (s.source_session_id, s.relation, s.parent_session_id, s.is_sidechain) == (sid, relation, parent, sidechain)
    assert (s.cli_version, s.cwd, s.git_branch) == (version, cwd, branch)
    assert (s.started_at.isoformat(), s.ended_at.isoformat()) == (started, ended)
    assert a["primary_model"] == model
    assert Source.QWEN.spec.id_from_path(s.file_path) == sid  # what the verification report expects


def test_discovery_finds_chats_archives_and_subagent_transcripts_only():
    found = {str(Path(f.path).relative_to(ROOT)): f.kind for f in qwen.find_files(ROOT)}
    # not sessions: the .runtime.json sidecar, memory/, the sub-agent's .meta.json and .jsonl.stream
    assert found == {PRE: "main", TELEMETRY: "main", RESUMED: "main", ARCHIVED: "archived", PARENT: "main",
                     SUBAGENT: "subagent", BRANCHED: "main", FORK: "main"}
    assert [str(p) for p in Source.QWEN.spec.roots({"QWEN_RUNTIME_DIR": "/rt", "QWEN_HOME": "/h"})] == ["/rt/projects"]
    assert [str(p) for p in Source.QWEN.spec.roots({"QWEN_DATA_DIR": "/a, /b"})] == ["/a/projects", "/b/projects"]


def test_each_call_sits_on_its_assistant_record_or_on_a_usage_message():
    _, s, _ = parse_one(TELEMETRY)
    calls = [(m.role, m.kind, m.model, m.input_tokens, m.output_tokens, m.usage_at.strftime("%M:%S.%f")[:9]) for m in s.messages if m.api_call]
    assert calls == [
        # claimed: the record's first part (no text) carries it, at the event's time
        ("reasoning", "thought", "coder-model", 1000, 90, "00:23.000"),
        ("assistant", "usage", "coder-model", 300, 800, "00:40.000"),  # web_fetch's summary
        ("assistant", "text", "coder-model", 500, 120, "00:43.000"),
        ("tool_use", "function_call", "coder-model", 600, 200, "02:20.000"),
        ("assistant", "usage", "coder-model", 5000, 400, "02:30.000"),  # the reviewer sub-agent
        ("assistant", "usage", "coder-model", 1200, 300, "02:40.000"),
        ("assistant", "text", "coder-model", 0, 0, "03:05.000"),  # no usage sent: the log's zeros
        ("assistant", "usage", "coder-model", 15000, 500, "03:59.000"),  # the compression call
    ]
    kinds = [(m.role, m.kind) for m in s.messages if m.role in ("user", "system")]
    assert kinds == [("user", "command"), ("system", "command_output"), ("user", "prompt"), ("user", "command"),
                     ("system", "command_output"), ("system", "command_expansion"), ("system", "api_error"),
                     ("system", "at_command"), ("user", "prompt"), ("system", "compacted")]
    r = parse_file(Source.QWEN, str(ROOT / TELEMETRY))
    assert r.unknown_types == Counter({"system:shiny_new_thing": 1})


def test_a_file_without_telemetry_counts_its_records():
    _, s, _ = parse_one(PRE)
    calls = [(m.kind, m.model, m.input_tokens, m.cache_read_tokens, m.output_tokens, m.reasoning_tokens) for m in s.messages if m.api_call]
    assert calls == [("text", "qwen3-coder-plus", 4000, 8000, 150, 40), ("text", "qwen3-coder-plus", 400, 12000, 60, 0),
                     ("text", "gemini-2.5-pro", 3000, 0, 300, 200)]
    results = [(m.call_id, m.tool_name, m.is_error, m.text) for m in s.messages if m.role == "tool_result"]
    assert results == [("call_a1", "grep_search", False, "notes.md:3: TODO tidy up"), ("call_a2", "glob", True, "glob failed: permission denied")]
    uses = [(m.call_id, m.tool_name, m.text) for m in s.messages if m.role == "tool_use"]
    assert uses == [("call_a1", "grep_search", '{"pattern":"TODO"}'), ("call_a2", "glob", '{"pattern":"**/*.md"}')]


def test_a_file_with_telemetry_never_adds_a_records_own_usage(tmp_path):
    # the record's counts match no event: the events are the file's calls, the record is not one
    lines = [json.loads(line) for line in (ROOT / RESUMED).read_text().splitlines()]
    lines[5]["usageMetadata"]["candidatesTokenCount"] = 999
    path = write_jsonl(tmp_path / "projects" / "p" / "chats" / "0c000000-0000-4000-8000-000000000003.jsonl", lines)
    r = parse_file(Source.QWEN, str(path))
    a = summarize(r)[r.sessions[0].id]
    assert (a["api_call_count"], a["output_tokens"], a["total_tokens"]) == (2, 500, 41500)
    assert [(m.kind, m.model) for m in r.sessions[0].messages if m.api_call] == [("text", "coder-model"), ("usage", "coder-model")]


def test_an_event_belongs_only_to_the_record_written_right_after_it(tmp_path):
    def event(sec, p, c):
        return qwen_line(uuid=f"e{sec}", timestamp=f"2026-04-01T10:00:{sec:02d}.000Z", type="system", subtype="ui_telemetry",
                         systemPayload={"uiEvent": {"event.name": "qwen-code.api_response", "model": "m", "input_token_count": p,
                                                    "output_token_count": c, "total_token_count": p + c, "prompt_id": "q-1########0"}})

    def record(sec, p, c):
        return qwen_line(uuid=f"a{sec}", timestamp=f"2026-04-01T10:00:{sec:02d}.100Z", type="assistant", model="m",
                         message={"role": "model", "parts": [{"text": f"answer {sec}"}]},
                         usageMetadata={"promptTokenCount": p, "candidatesTokenCount": c, "totalTokenCount": p + c})

    # a side call (100/10), a response (200/20) and its record, then a record with the side
    # call's counts but no event of its own: the side call is not its event (another record
    # came between), and in a file with events a record without one is not a call
    path = write_jsonl(tmp_path / "chats" / "q-1.jsonl", [event(1, 100, 10), event(2, 200, 20), record(2, 200, 20), record(3, 100, 10)])
    calls = [(m.kind, m.text, m.output_tokens) for m in parse_file(Source.QWEN, str(path)).sessions[0].messages if m.api_call]
    assert calls == [("usage", None, 10), ("text", "answer 2", 20)]


def test_a_fork_copy_is_the_parents_and_says_so():
    _, parent, _ = parse_one(BRANCHED)
    _, fork, _ = parse_one(FORK)
    copies = [m for m in fork.messages if m.inherited]
    assert [(m.role, m.text, m.api_call, m.origin_session_id) for m in copies] == [
        ("user", "Draft the README", False, "qwen:0f000000-0000-4000-8000-000000000006"),
        ("assistant", "Here is a draft.", False, "qwen:0f000000-0000-4000-8000-000000000006"),
    ]
    # the same records in the parent carry the same keys: the index counts each once
    assert [m.dedup_key for m in copies] == [m.dedup_key for m in parent.messages]


def test_a_subagent_transcript_is_its_own_session_without_calls():
    _, s, _ = parse_one(SUBAGENT)
    assert [(m.role, m.kind) for m in s.messages] == [("user", "agent_prompt"), ("tool_use", "function_call"),
                                                     ("tool_result", "function_response"), ("assistant", "text")]
    assert not any(m.api_call for m in s.messages)


def qwen_line(**extra) -> dict:
    return {"uuid": "q1", "parentUuid": None, "sessionId": "q-1", "timestamp": "2026-04-01T10:00:00.000Z", "type": "user",
            "cwd": "/w", "version": "0.14.0", **extra}


def claude_line(**extra) -> dict:
    return {"type": "user", "sessionId": "c-1", "uuid": "c1", "parentUuid": None, "timestamp": "2026-04-01T10:00:00.000Z",
            "cwd": "/w", "version": "2.0.1", "message": {"role": "user", "content": "hi"}, **extra}


def test_sniffing_tells_qwen_from_claude_and_codex(tmp_path):
    plain_user = qwen_line(message={"role": "user", "parts": [{"text": "hi"}]})
    assert sniff_line(plain_user) is Source.QWEN
    assert sniff_line(claude_line()) is Source.CLAUDE
    assert sniff_line(claude_line(type="system", subtype="compact_boundary", content="x")) is Source.CLAUDE
    assert sniff_line({"timestamp": "t", "type": "session_meta", "payload": {"id": "x"}}) is Source.CODEX
    assert sniff_line(qwen_line(type="system", subtype="ui_telemetry", systemPayload={"uiEvent": {}})) is Source.QWEN
    qwen_file = write_jsonl(tmp_path / "q" / "chats" / "q-1.jsonl", [plain_user, claude_line(uuid="c2")])
    claude_file = write_jsonl(tmp_path / "c" / "c-1.jsonl", [claude_line(), plain_user])
    assert parse_file(Source.CLAUDE, str(qwen_file)).rejection == "source_mismatch"
    assert parse_file(Source.QWEN, str(claude_file)).rejection == "source_mismatch"
    r = parse_file(Source.QWEN, str(qwen_file))  # a Claude line later on is skipped, counted
    assert (r.rejection, r.lines_ok, r.lines_skipped, r.unknown_types) == (None, 1, 1, Counter({"foreign:user": 1}))
    junk = tmp_path / "j.jsonl"
    junk.write_text('{"hello": 1}\nnot json\n')
    assert parse_file(Source.QWEN, str(junk)).rejection == "not_a_session_log"


def test_streamed_messages_equal_the_whole_parse(monkeypatch):
    monkeypatch.setattr(qwen, "FLUSH_EVERY", 1)
    for rel in sorted(CASES):
        path = str(ROOT / rel)
        whole = parse_file(Source.QWEN, path)
        got = []
        streamed = parse_file(Source.QWEN, path, sink=lambda sid, ms: got.extend((sid, asdict(m)) for m in ms))
        assert got == [(s.id, asdict(m)) for s in whole.sessions for m in s.messages], rel
        assert [(s.id, s.messages, s.message_count) for s in streamed.sessions] == [(s.id, [], len(s.messages)) for s in whole.sessions]


def _iso(t) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def test_synthetic_sessions_match_their_ground_truth(tmp_path):
    root = tmp_path / "projects"
    truth = generate(root, 20, random.Random(5))
    parsed = {}
    for f in qwen.find_files(root):
        r = parse_file(Source.QWEN, f.path)
        assert r.rejection is None and not r.unknown_types, (f.path, r.detail, r.unknown_types)
        (s,) = r.sessions
        parsed[s.id] = {"id": s.id, "started_at": _iso(s.started_at), "ended_at": _iso(s.ended_at), **summarize(r)[s.id]}
    assert set(parsed) == set(truth) and len(truth) > 20  # sub-agent transcripts and forks too
    for sid, t in truth.items():
        assert {k: parsed[sid][k] for k in t} == t, sid


def _fixture_lines() -> list[bytes]:
    return [line for p in sorted(ROOT.rglob("*.jsonl")) for line in p.read_bytes().splitlines() if line.strip()]


LINES = _fixture_lines()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**12) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


@st.composite
def damaged_line(draw):
    raw = draw(st.sampled_from(LINES))
    how = draw(st.sampled_from(["intact", "truncate", "mutate", "mutate_deep", "garbage"]))
    if how == "truncate":
        return raw[:draw(st.integers(0, max(0, len(raw) - 1)))]
    if how.startswith("mutate"):  # a field (or a field of a field) replaced by any JSON value
        obj = json.loads(raw)
        targets = [obj] + [v for v in obj.values() if isinstance(v, dict)]
        if how == "mutate_deep":
            targets += [v for t in targets for v in t.values() if isinstance(v, dict)]
        target = draw(st.sampled_from(targets))
        if target:
            target[draw(st.sampled_from(sorted(target)))] = draw(JSON_VALUES)
        return json.dumps(obj).encode()
    if how == "garbage":
        return draw(st.binary(max_size=40)).replace(b"\n", b" ")
    return raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_lines_never_raise_and_every_line_is_accounted_for(tmp_path, data):
    lines = [data.draw(st.sampled_from(LINES))] + data.draw(st.lists(damaged_line(), max_size=25))
    path = Path(tmp_path) / "chats" / "0b000000-0000-4000-8000-000000000002.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\n".join(lines) + b"\n")
    r = parse_file(Source.QWEN, str(path))
    assert r.rejection != "parse_error", r.detail
    if r.rejection is None:
        accounted = r.lines_ok + r.lines_malformed + r.lines_incomplete_tail + r.lines_duplicate + r.lines_skipped
        assert accounted == sum(1 for line in lines if line.strip())
        summarize(r)
