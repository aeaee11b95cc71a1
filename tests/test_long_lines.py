"""Lines of any length: a string too long to keep is cut before its line is decoded (so a
long line is held about once, not three times), a message's text is kept to 1,048,576
characters and marked when cut, and a line longer than the memory setting allows is the
rejection of its own file alone (counted, with its reason), never the whole run's failure."""

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_view_pipeline.parsers import base, parse_file
from claude_view_pipeline.sources import Source

from helpers import run_cli, write_jsonl


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=60), min_size=1, max_size=4), st.booleans(), st.integers(min_value=2, max_value=40))
def test_a_cut_line_still_decodes_to_prefixes_of_its_strings(strings, ascii_only, kept):
    # any characters (quotes, backslashes, controls, emoji: escaped surrogate pairs when
    # ascii_only), any cut length: the line decodes, every string a prefix of the original
    # and at least kept / 12 characters long (no character takes more than 12 bytes in JSON);
    # the keys are short, as every key of a session log is next to the real cut (12 MB)
    line = json.dumps({"t": strings, "n": 7}, ensure_ascii=ascii_only).encode()
    old = base.KEPT_STRING_BYTES
    base.KEPT_STRING_BYTES = kept
    try:
        got = orjson.loads(base.cut_long_strings(line))
    finally:
        base.KEPT_STRING_BYTES = old
    assert got["n"] == 7 and len(got["t"]) == len(strings)
    for cut, whole in zip(got["t"], strings):
        assert whole.startswith(cut)
        assert len(cut) >= min(len(whole), kept // 12)


def claude_lines(big: str) -> list[dict]:
    base_line = {"sessionId": "s-long", "cwd": "/w", "version": "2.1.0"}
    return [
        {**base_line, "type": "user", "uuid": "u1", "timestamp": "2026-01-01T00:00:00Z", "message": {"role": "user", "content": "go"}},
        {**base_line, "type": "assistant", "uuid": "u2", "timestamp": "2026-01-01T00:00:01Z", "requestId": "r1",
         "message": {"id": "m1", "role": "assistant", "model": "claude-sonnet-4-5", "content": [
             {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "cat big"}}],
             "usage": {"input_tokens": 5, "cache_read_input_tokens": 100, "output_tokens": 7}}},
        {**base_line, "type": "user", "uuid": "u3", "timestamp": "2026-01-01T00:00:02Z",
         "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": big}]}},
        {**base_line, "type": "assistant", "uuid": "u4", "timestamp": "2026-01-01T00:00:03Z", "requestId": "r2",
         "message": {"id": "m2", "role": "assistant", "model": "claude-sonnet-4-5", "content": [{"type": "text", "text": "done"}],
                     "usage": {"input_tokens": 3, "cache_read_input_tokens": 200, "output_tokens": 11}}},
    ]


def test_a_long_text_is_cut_and_marked_and_the_session_counts_whole(tmp_path):
    # a 30 MB tool output with multi-byte characters: longer than a cut string, so its line is
    # cut before it is decoded
    big = "é" * (15 << 20)
    path = write_jsonl(tmp_path / "s-long.jsonl", claude_lines(big))
    result = parse_file(Source.CLAUDE, str(path))
    (session,) = result.sessions
    (output,) = [m for m in session.messages if m.role == "tool_result"]
    assert output.text_truncated and output.text == "é" * base.TEXT_CAP_CHARS
    assert not any(m.text_truncated for m in session.messages if m is not output)
    calls = [m for m in session.messages if m.api_call]
    assert [(m.input_tokens, m.cache_read_tokens, m.output_tokens) for m in calls] == [(5, 100, 7), (3, 200, 11)]


def test_a_line_too_long_for_the_memory_setting_rejects_its_file_alone(tmp_path):
    root = tmp_path / "claude" / "-w"
    write_jsonl(root / "s-long.jsonl", claude_lines("x" * (20 << 20)))  # a 20 MB line
    write_jsonl(root / "s-fine.jsonl", [{**line, "sessionId": "s-fine"} for line in claude_lines("short")])
    db = tmp_path / "i.duckdb"
    # 32MB lets a parser read lines of up to 16 MB
    proc = run_cli("index", "--db", str(db), "--sources", "claude", "--claude-dir", str(tmp_path / "claude"), "--json",
                   env={"CLAUDE_VIEW_DUCKDB_MEMORY": "32MB"})
    assert proc.returncode == 0, proc.stderr
    claude = json.loads(proc.stdout)["sources"]["claude"]
    assert claude["sessions"] == 1 and claude["files_rejected"]["line_too_large"]["files"] == 1
    assert claude["files_rejected"]["line_too_large"]["examples"] == [str(root / "s-long.jsonl")]
    assert "line 3 is longer than 16 MB" in proc.stderr
