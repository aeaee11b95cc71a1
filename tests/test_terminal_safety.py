"""Text from session files never reaches the terminal raw: a working directory, a model, a
branch, a session id, a repository URL or a file name carrying a screen clear, a window title,
an OSC 52 clipboard write or a bell is shown escaped by every command, in tables and in JSON,
and a 4,000-character project name is cut in tables (whole in --json)."""

import json
import re

import pytest

from helpers import run_cli, write_jsonl

CLEAR, TITLE, CLIPBOARD = "\x1b[2J", "\x1b]0;pwned\x07", "\x1b]52;c;cHduZWQ=\x07"
LONG = "p" * 4000
# a raw control byte: C0 but the line end, DEL, or a C1 control as UTF-8 (0xC2 0x80-0x9F)
RAW = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    claude = root / "claude" / f"-home-me-{LONG[:50]}"
    sid = f"evil{CLEAR}"
    line = {"sessionId": sid, "cwd": f"/home/me/{CLIPBOARD}/{LONG}", "gitBranch": f"main{TITLE}", "version": "2.1.0"}
    write_jsonl(claude / "s.jsonl", [
        {**line, "type": "user", "uuid": "u1", "timestamp": "2026-03-01T10:00:00Z", "message": {"role": "user", "content": f"hi{CLEAR}"}},
        {**line, "type": "assistant", "uuid": "u2", "timestamp": "2026-03-01T10:00:05Z", "requestId": "r1",
         "message": {"id": "m1", "role": "assistant", "model": "claude-\x07sonnet\u009b31m", "content": [{"type": "text", "text": "ok"}],
                     "usage": {"input_tokens": 5, "output_tokens": 7, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}},
    ])
    (claude / f"junk{TITLE}.jsonl").write_text("not json\n")  # a rejected file: its name is shown in the summary
    codex = root / "codex" / "2026" / "03" / "01"
    write_jsonl(codex / "rollout-2026-03-01T10-00-00-0199c000-0000-7000-8000-0000000000ee.jsonl", [
        {"timestamp": "2026-03-01T11:00:00Z", "type": "session_meta", "payload": {
            "id": "0199c000-0000-7000-8000-0000000000ee", "cwd": f"/home/me/{TITLE}x", "cli_version": f"0.77.0{CLEAR}",
            "model_provider": f"openai{CLIPBOARD}", "git": {"branch": f"b{CLEAR}", "repository_url": f"https://example.com/{TITLE}.git"}}},
        {"timestamp": "2026-03-01T11:00:01Z", "type": "turn_context", "payload": {"cwd": "/x", "model": f"gpt-5{CLEAR}"}},
        {"timestamp": "2026-03-01T11:00:02Z", "type": "event_msg", "payload": {"type": "user_message", "message": "go"}},
        {"timestamp": "2026-03-01T11:00:03Z", "type": "event_msg", "payload": {"type": "token_count", "info": {
            "total_token_usage": {"input_tokens": 10, "cached_input_tokens": 0, "output_tokens": 2, "reasoning_output_tokens": 0, "total_tokens": 12},
            "last_token_usage": {"input_tokens": 10, "cached_input_tokens": 0, "output_tokens": 2, "reasoning_output_tokens": 0, "total_tokens": 12}},
            "rate_limits": {"primary": {"used_percent": 5.0, "window_minutes": 300}}}},
    ])
    db = root / "i.duckdb"
    return root, db


COMMANDS = [
    ("index", "--claude-dir", "{root}/claude", "--codex-dir", "{root}/codex", "-v"),
    ("index", "--claude-dir", "{root}/claude", "--codex-dir", "{root}/codex", "--json", "--full"),
    ("status",), ("status", "--json"),
    ("usage", "daily", "--no-refresh", "--timezone", "UTC"), ("usage", "daily", "--no-refresh", "--json"),
    ("usage", "weekly", "--no-refresh"), ("usage", "monthly", "--no-refresh"),
    ("usage", "session", "--no-refresh"), ("usage", "session", "--no-refresh", "--json"),
    ("usage", "blocks", "--no-refresh"), ("usage", "blocks", "--no-refresh", "--json"),
    ("usage", "limits", "--no-refresh"), ("usage", "limits", "--no-refresh", "--json"),
    ("report",), ("report", "--json"), ("metrics",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:3]) for c in COMMANDS])
def test_no_command_prints_a_raw_control_byte(hostile, command):
    root, db = hostile
    if command[0] != "index" and not db.exists():
        assert run_cli("index", "--db", str(db), "--claude-dir", f"{root}/claude", "--codex-dir", f"{root}/codex").returncode == 0
    args = [a.format(root=root) for a in command]
    proc = run_cli(*args, "--db", str(db))
    # the report's threshold fails on the rejected file: exit 1 by design
    assert proc.returncode == (1 if args[0] == "report" else 0), proc.stderr
    for stream in (proc.stdout, proc.stderr):
        raw = stream.encode()
        assert not RAW.search(raw), (args, RAW.search(raw), stream[:2000])
        # long fields are cut in text; JSON keeps them whole (escaped)
        if "--json" not in args:
            assert max(map(len, stream.splitlines()), default=0) <= 400, (args, max(map(len, stream.splitlines())))


def test_json_keeps_the_whole_value_escaped(hostile):
    root, db = hostile
    if not db.exists():
        assert run_cli("index", "--db", str(db), "--claude-dir", f"{root}/claude", "--codex-dir", f"{root}/codex").returncode == 0
    rows = json.loads(run_cli("usage", "session", "--db", str(db), "--no-refresh", "--json").stdout)
    claude = next(r for r in rows if r["source"] == "claude")
    assert claude["session_id"] == f"claude:evil{CLEAR}" and claude["project"] == LONG  # whole, once decoded
    assert claude["model"] == "claude-\x07sonnet\u009b31m"
    status = json.loads(run_cli("status", "--db", str(db), "--json").stdout)
    assert any(p["project"] == LONG for p in status["projects"])
