"""Parser rules of FORMATS.md on small hand-written sessions; expected values derived by hand."""

import os
from collections import Counter
from datetime import datetime, timezone

import pytest

from claude_view_pipeline.aggregate import summarize
from claude_view_pipeline.parsers import parse_file
from claude_view_pipeline.sources import Source

from helpers import FIXTURES, write_jsonl


def ts(sec: int) -> str:
    return f"2026-02-01T10:00:{sec:02d}.000Z"


def cl(kind: str, sec: int, **extra) -> dict:
    return {"type": kind, "sessionId": "s-1", "cwd": "/home/me/app", "gitBranch": "main", "version": "2.0.1",
            "uuid": f"u{sec}", "timestamp": ts(sec), **extra}


def asst(sec, mid, rid, model, block, usage):
    return cl("assistant", sec, requestId=rid, message={"id": mid, "role": "assistant", "model": model, "content": [block], "usage": usage})


def test_claude_rules(tmp_path):
    u1 = {"input_tokens": 3, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 200}
    path = write_jsonl(tmp_path / "s-1.jsonl", [
        cl("user", 1, isMeta=True, message={"role": "user", "content": "Caveat: local commands"}),
        cl("user", 2, message={"role": "user", "content": "fix the bug"}),
        # one response streamed over three lines; early lines carry partial output_tokens
        asst(3, "msg_1", "req_1", "claude-opus-4-1", {"type": "thinking", "thinking": "hmm"}, {**u1, "output_tokens": 5}),
        asst(4, "msg_1", "req_1", "claude-opus-4-1", {"type": "text", "text": "Looking."}, {**u1, "output_tokens": 10}),
        asst(5, "msg_1", "req_1", "claude-opus-4-1", {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}, {**u1, "output_tokens": 42}),
        cl("user", 6, message={"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.py"}]}),
        asst(7, "msg_2", "req_2", "claude-sonnet-4-5", {"type": "text", "text": "Done."},
             {"input_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 300, "output_tokens": 7}),
        cl("user", 8, message={"role": "user", "content": "<command-name>/review</command-name>"}),
        cl("user", 9, message={"role": "user", "content": "<local-command-stdout>ok</local-command-stdout>"}),
        cl("user", 10, message={"role": "user", "content": [{"type": "text", "text": "[Request interrupted by user]"}]}),
        cl("system", 11, subtype="compact_boundary", content="Conversation compacted"),
        cl("user", 12, isCompactSummary=True, message={"role": "user", "content": "This session is being continued..."}),
        cl("assistant", 13, isApiErrorMessage=True, message={"id": "x", "role": "assistant", "model": "<synthetic>", "content": [{"type": "text", "text": "API Error"}]}),
    ])
    result = parse_file(Source.CLAUDE, str(path))
    assert result.rejection is None and result.lines_ok == 13 and result.lines_malformed == 0
    (s,) = result.sessions
    assert s.id == "claude:s-1" and s.cwd == "/home/me/app" and s.git_branch == "main"
    a = summarize(result)["claude:s-1"]
    assert (a["user_prompt_count"], a["api_call_count"], a["tool_call_count"]) == (2, 2, 1)
    assert (a["input_tokens"], a["cache_creation_tokens"], a["cache_read_tokens"], a["output_tokens"]) == (4, 100, 500, 49)
    assert a["total_tokens"] == 653 and a["reasoning_tokens"] is None
    assert (a["compaction_count"], a["aborted_turn_count"], a["message_count"]) == (1, 1, 13)
    # one call each: the tie goes to the model of the latest call
    assert a["primary_model"] == "claude-sonnet-4-5" and a["models"] == ["claude-opus-4-1", "claude-sonnet-4-5"]
    assert s.started_at == datetime(2026, 2, 1, 10, 0, 1, tzinfo=timezone.utc)
    assert s.ended_at == datetime(2026, 2, 1, 10, 0, 13, tzinfo=timezone.utc)
    roles = Counter(m.role for m in s.messages)
    assert roles == {"system": 6, "user": 2, "assistant": 2, "reasoning": 1, "tool_use": 1, "tool_result": 1}
    response = next(m for m in s.messages if m.dedup_key == "r:msg_1:req_1" and m.role == "assistant")
    assert response.text == "Looking." and response.output_tokens == 42  # merged, max usage


def _writes(total, five_min=None, one_hour=None, **usage) -> dict:
    u = {"input_tokens": 2, "cache_read_input_tokens": 10, "cache_creation_input_tokens": total, "output_tokens": 1, **usage}
    if five_min is not None:
        u["cache_creation"] = {"ephemeral_5m_input_tokens": five_min, "ephemeral_1h_input_tokens": one_hour}
    return u


def test_claude_keeps_cache_writes_apart_by_lifetime(tmp_path):
    text = {"type": "text", "text": "ok"}
    path = write_jsonl(tmp_path / "s-1.jsonl", [
        cl("user", 1, message={"role": "user", "content": "go"}),
        # streamed over two lines with the split repeated; the second holds the final output
        asst(2, "msg_1", "req_1", "claude-opus-4-5", text, _writes(700, 100, 600)),
        asst(3, "msg_1", "req_1", "claude-opus-4-5", text, _writes(700, 100, 600, output_tokens=90)),
        # a release that reports no split: every write is a 5-minute write
        asst(4, "msg_2", "req_2", "claude-opus-4-5", text, _writes(250)),
        # the total and the split disagree: the larger total stands, the rest of it beyond the
        # 1-hour writes is 5-minute writes (40 + 10 < 80: 70 + 10)
        asst(5, "msg_3", "req_3", "claude-opus-4-5", text, _writes(80, 40, 10)),
        # only the split (no total): their sum
        asst(6, "msg_4", "req_4", "claude-opus-4-5", text, {"input_tokens": 1, "output_tokens": 1,
                                                             "cache_creation": {"ephemeral_5m_input_tokens": 3, "ephemeral_1h_input_tokens": 4}}),
    ])
    s = parse_file(Source.CLAUDE, str(path)).sessions[0]
    calls = [(m.cache_creation_5m_tokens, m.cache_creation_1h_tokens, m.cache_creation_tokens, m.output_tokens) for m in s.messages if m.api_call]
    assert calls == [(100, 600, 700, 90), (250, 0, 250, 1), (70, 10, 80, 1), (3, 4, 7, 1)]
    a = summarize(parse_file(Source.CLAUDE, str(path)))["claude:s-1"]
    assert (a["cache_creation_5m_tokens"], a["cache_creation_1h_tokens"], a["cache_creation_tokens"]) == (423, 614, 1037)


def cx(kind: str, sec: int, payload: dict) -> dict:
    return {"timestamp": ts(sec), "type": kind, "payload": payload}


def tokens(inp, cached, out, reasoning, last=None):
    total = {"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": out, "reasoning_output_tokens": reasoning, "total_tokens": inp + out}
    return {"type": "token_count", "info": {"total_token_usage": total, "last_token_usage": last or total}, "rate_limits": None}


def test_codex_rules(tmp_path):
    path = write_jsonl(tmp_path / "rollout-2026-02-01T10-00-00-t-1.jsonl", [
        cx("session_meta", 1, {"id": "t-1", "cwd": "/home/me/api", "cli_version": "0.77.0", "originator": "codex_cli_rs", "source": "cli", "git": {"branch": "dev"}}),
        cx("turn_context", 2, {"cwd": "/home/me/api", "model": "gpt-5-codex"}),
        cx("response_item", 3, {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<environment_context>cwd</environment_context>"}]}),
        cx("response_item", 4, {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}),
        cx("event_msg", 4, {"type": "user_message", "message": "hi"}),
        cx("response_item", 5, {"type": "reasoning", "summary": [{"type": "summary_text", "text": "plan"}], "encrypted_content": "x"}),
        cx("response_item", 6, {"type": "function_call", "name": "shell", "arguments": "{\"command\":[\"ls\"]}", "call_id": "c1"}),
        cx("response_item", 7, {"type": "function_call_output", "call_id": "c1", "output": "a.py"}),
        cx("event_msg", 8, tokens(1000, 200, 50, 20)),
        cx("event_msg", 8, tokens(1000, 200, 50, 20)),  # re-emitted running total
        cx("event_msg", 9, {"type": "token_count", "info": None, "rate_limits": {}}),
        cx("response_item", 10, {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** Begin Patch"}),
        cx("response_item", 11, {"type": "custom_tool_call_output", "call_id": "c2", "output": "ok"}),
        cx("response_item", 12, {"type": "local_shell_call", "call_id": "c3", "status": "completed", "action": {"type": "exec", "command": ["pytest"]}}),
        cx("response_item", 13, {"type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "q"}}),
        cx("event_msg", 14, tokens(2500, 700, 130, 40)),
        cx("response_item", 15, {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "fixed"}]}),
        cx("event_msg", 15, {"type": "agent_message", "message": "fixed"}),
        cx("turn_context", 16, {"cwd": "/home/me/api", "model": "gpt-5.1"}),
        cx("event_msg", 17, {"type": "user_message", "message": "next"}),
        cx("response_item", 17, {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "next"}]}),
        cx("response_item", 18, {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]}),
        cx("event_msg", 19, tokens(3000, 700, 250, 40)),
        cx("event_msg", 20, {"type": "turn_aborted", "reason": "interrupted"}),
        cx("compacted", 21, {"message": "summary", "replacement_history": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "old"}]}]}),
        cx("event_msg", 21, {"type": "context_compacted"}),
    ])
    result = parse_file(Source.CODEX, str(path))
    assert result.rejection is None and result.lines_ok == 26
    (s,) = result.sessions
    assert s.id == "codex:t-1" and s.cwd == "/home/me/api" and s.git_branch == "dev" and s.cli_version == "0.77.0"
    a = summarize(result)["codex:t-1"]
    assert (a["user_prompt_count"], a["tool_call_count"], a["api_call_count"]) == (2, 4, 3)
    # deltas of the running total: (1000,200,50,20) + (1500,500,80,20) + (500,0,120,0)
    assert (a["input_tokens"], a["cache_read_tokens"], a["cache_creation_tokens"]) == (800 + 1000 + 500, 700, 0)
    assert (a["output_tokens"], a["reasoning_tokens"], a["total_tokens"]) == (250, 40, 3250)
    assert a["primary_model"] == "gpt-5-codex" and a["models"] == ["gpt-5-codex", "gpt-5.1"]
    assert (a["compaction_count"], a["aborted_turn_count"]) == (1, 1)
    roles = Counter(m.role for m in s.messages)
    # prompts come from user_message events; their response_item mirrors are dropped,
    # agent_message mirrors are skipped and replacement_history is never re-emitted
    assert roles == {"user": 2, "assistant": 2, "reasoning": 1, "tool_use": 4, "tool_result": 2, "system": 4}
    usage_carriers = [m for m in s.messages if m.api_call]
    assert [(m.role, m.model) for m in usage_carriers] == [("reasoning", "gpt-5-codex"), ("tool_use", "gpt-5-codex"), ("assistant", "gpt-5.1")]


def _usage(inp, cached, out, reasoning):
    return {"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": out,
            "reasoning_output_tokens": reasoning, "total_tokens": inp + out}


def _tc(total, last) -> dict:
    """A token_count event; total None leaves total_token_usage out, "null" writes it as null."""
    info = {"last_token_usage": last}
    if total == "null":
        info["total_token_usage"] = None
    elif total is not None:
        info["total_token_usage"] = total
    return {"type": "token_count", "info": info, "rate_limits": None}


# Three calls: A (1000 in, 200 cached, 50 out, 20 reasoning), B (500, 100, 30, 10) and
# C (400, 0, 20, 5). Whatever shape reports each, the session holds exactly A + B + C:
# input 1900 of which 300 cached -> 1600 uncached, output 100, reasoning 35, total 2000.
_A, _B, _C = _usage(1000, 200, 50, 20), _usage(500, 100, 30, 10), _usage(400, 0, 20, 5)
_AB, _ABC = _usage(1500, 300, 80, 30), _usage(1900, 300, 100, 35)
CODEX_USAGE_SHAPES = {
    "totals_only": [_tc(_A, _A), _tc(_AB, _B), _tc(_ABC, _C)],
    "middle_call_without_totals": [_tc(_A, _A), _tc(None, _B), _tc(_ABC, _C)],
    "middle_call_with_null_totals": [_tc(_A, _A), _tc("null", _B), _tc(_ABC, _C)],
    "first_call_without_totals": [_tc(None, _A), _tc(_AB, _B), _tc(_ABC, _C)],
    "two_calls_without_totals": [_tc(_A, _A), _tc(None, _B), _tc(None, _C), _tc(_ABC, _C)],
    "no_totals_at_all": [_tc(None, _A), _tc(None, _B), _tc("null", _C)],
    "re_emitted_totals_between": [_tc(_A, _A), _tc(_A, _A), _tc(None, _B), _tc(_AB, _B), _tc(_ABC, _C)],
}


@pytest.mark.parametrize("shape", sorted(CODEX_USAGE_SHAPES))
def test_codex_counts_each_call_once_in_any_order_of_usage_shapes(tmp_path, shape):
    events = CODEX_USAGE_SHAPES[shape]
    lines = [cx("session_meta", 1, {"id": "t-9", "cwd": "/w"}), cx("turn_context", 2, {"cwd": "/w", "model": "gpt-5"})]
    # "two_calls_without_totals" reports C twice: by itself, then with the running total
    # that already includes it; the second adds nothing
    lines += [cx("event_msg", 3 + i, e) for i, e in enumerate(events)]
    a = summarize(parse_file(Source.CODEX, str(write_jsonl(tmp_path / "rollout-2026-02-01T10-00-00-t-9.jsonl", lines))))["codex:t-9"]
    assert (a["input_tokens"], a["cache_read_tokens"], a["output_tokens"], a["reasoning_tokens"]) == (1600, 300, 100, 35)
    assert a["total_tokens"] == 2000 and a["api_call_count"] == 3


def test_codex_legacy_format(tmp_path):
    path = write_jsonl(tmp_path / "rollout-44444444-4444-4444-8444-444444444444.jsonl", [
        {"id": "44444444-4444-4444-8444-444444444444", "timestamp": "2026-01-04T05:06:07.000Z"},
        {"record_type": "state"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "open it"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "opened"}]},
    ])
    result = parse_file(Source.CODEX, str(path))
    (s,) = result.sessions
    assert s.id == "codex:44444444-4444-4444-8444-444444444444"
    a = summarize(result)[s.id]
    assert (a["user_prompt_count"], a["api_call_count"]) == (1, 0)
    assert [m.role for m in s.messages] == ["user", "assistant"]


def test_bad_lines_are_counted_not_fatal(tmp_path):
    path = tmp_path / "s-2.jsonl"
    good = '{"type":"user","sessionId":"s-2","uuid":"a","timestamp":"2026-02-01T10:00:00Z","message":{"role":"user","content":"hi"}}'
    path.write_text(good + "\n{not json\n[1,2]\n" + good.replace('"a"', '"b"') + "\n" + '{"type":"user","sess')
    r = parse_file(Source.CLAUDE, str(path))
    assert r.rejection is None
    assert (r.lines_ok, r.lines_malformed, r.lines_incomplete_tail) == (2, 2, 1)
    assert summarize(r)["claude:s-2"]["user_prompt_count"] == 2


def test_wrong_source_is_rejected_both_ways(tmp_path):
    codex = write_jsonl(tmp_path / "rollout-x.jsonl", [cx("session_meta", 1, {"id": "t"})])
    claude = write_jsonl(tmp_path / "s.jsonl", [cl("user", 1, message={"role": "user", "content": "hi"})])
    assert parse_file(Source.CLAUDE, str(codex)).rejection == "source_mismatch"
    assert parse_file(Source.CODEX, str(claude)).rejection == "source_mismatch"
    empty = tmp_path / "e.jsonl"
    empty.write_text("\n  \n")
    assert parse_file(Source.CLAUDE, str(empty)).rejection == "empty"
    junk = tmp_path / "j.jsonl"
    junk.write_text("DEBUG starting\nDEBUG done\n")
    assert parse_file(Source.CODEX, str(junk)).rejection == "not_a_session_log"


def test_unreadable_file_is_an_io_error(tmp_path):
    r = parse_file(Source.CLAUDE, str(tmp_path / "gone.jsonl"))
    assert r.rejection == "io_error" and "FileNotFoundError" in r.detail


def test_a_byte_order_mark_and_crlf_line_ends_change_nothing(tmp_path):
    # the same session written with a UTF-8 BOM before its first line and CRLF line ends
    plain = FIXTURES / "claude" / "minimal.jsonl"
    odd = tmp_path / "minimal.jsonl"
    odd.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes().replace(b"\n", b"\r\n"))
    a, b = parse_file(Source.CLAUDE, str(plain)), parse_file(Source.CLAUDE, str(odd))
    assert (b.lines_ok, b.lines_malformed) == (a.lines_ok, 0)
    s, t = a.sessions[0], b.sessions[0]
    assert (t.started_at, t.ended_at) == (s.started_at, s.ended_at)
    assert [(m.role, m.kind, m.text) for m in t.messages] == [(m.role, m.kind, m.text) for m in s.messages]
    assert t.messages[0].text == s.messages[0].text and s.messages[0].kind == "prompt"


def test_invalid_utf8_costs_only_its_own_line(tmp_path):
    plain = FIXTURES / "codex" / "minimal.jsonl"
    lines = plain.read_bytes().splitlines(keepends=True)
    odd = tmp_path / "rollout-2026-01-01T00-00-00-odd.jsonl"
    odd.write_bytes(lines[0] + b'{"bad": "\xff\xfe"}\n' + b"".join(lines[1:]))
    a, b = parse_file(Source.CODEX, str(plain)), parse_file(Source.CODEX, str(odd))
    assert (b.rejection, b.lines_ok, b.lines_malformed) == (None, a.lines_ok, 1)
    assert len(b.sessions[0].messages) == len(a.sessions[0].messages)


def test_a_fifo_in_place_of_a_session_file_is_an_io_error_not_a_hang(tmp_path):
    fifo = tmp_path / "stuck.jsonl"
    os.mkfifo(fifo)
    result = parse_file(Source.CLAUDE, str(fifo))
    assert result.rejection == "io_error" and "not a regular file" in result.detail


@pytest.mark.parametrize("source", list(Source))
def test_streamed_messages_equal_the_whole_parse(monkeypatch, source):
    # every fixture unit of the source (streamed responses, duplicates, resumed and subagent
    # files, forks, compaction, legacy formats, prompt mirrors, a database of many sessions),
    # a message at a time where the parser batches: nothing leaves before it can no longer change
    from dataclasses import asdict

    from claude_view_pipeline.sources import module

    if hasattr(module(source), "FLUSH_EVERY"):
        monkeypatch.setattr(module(source), "FLUSH_EVERY", 1)
    # the units discovery hands over where the fixtures are laid out as on disk, else every
    # JSONL file (Claude's and Codex's fixtures are single files named for their case)
    units = sorted(f.path for f in module(source).find_files(FIXTURES / source.value / source.spec.corpus_dir)) \
        or sorted(str(p) for p in (FIXTURES / source.value).rglob("*.jsonl"))
    assert len(units) >= 5
    for path in units:
        whole = parse_file(source, str(path))
        got = []
        streamed = parse_file(source, str(path), sink=lambda sid, ms: got.extend((sid, asdict(m)) for m in ms))
        assert got == [(s.id, asdict(m)) for s in whole.sessions for m in s.messages], path.name
        assert [(s.id, s.relation, s.is_sidechain, s.messages, s.message_count) for s in streamed.sessions] == \
               [(s.id, s.relation, s.is_sidechain, [], len(s.messages)) for s in whole.sessions]


def _first_files(source: Source) -> list:
    return sorted((FIXTURES / source.value).rglob("*.jsonl"))


@pytest.mark.parametrize("owner", [s for s in Source if _first_files(s)])
def test_no_parser_takes_another_sources_file(owner):
    """Every JSON-lines fixture of one source, handed to each other source's parser, is
    refused whole: a file under the wrong root is never parsed by the wrong parser (OpenCode's,
    which reads a database, finds no database in it)."""
    from claude_view_pipeline.sources import module

    for path in _first_files(owner):
        assert parse_file(owner, str(path)).rejection is None, path
        for other in Source:
            if other is not owner:
                got = parse_file(other, str(path))
                want = "source_mismatch" if hasattr(module(other), "looks_like") else "not_a_session_log"
                assert (got.rejection, got.sessions) == (want, []), (other, path, got.rejection, got.detail)
