"""Every real session file of ../shared/corpus is indexed or rejected with a counted reason,
never parsed by the wrong parser, and meets the curated gold labels of its origin project
(or the test says why our first-principles value differs)."""

import json
from collections import Counter

import duckdb
import pytest

from claude_view_pipeline import pipeline
from claude_view_pipeline.aggregate import summarize
from claude_view_pipeline.parsers import parse_file
from claude_view_pipeline.sources import Source
from claude_view_pipeline.staging import StagingArea

from helpers import CORPUS, FIXTURES, requires_corpus

pytestmark = requires_corpus

# Files of the corpus we reject, and why. Anything else must yield a session.
EXPECTED_REJECTIONS = {
    # gold-label / manifest files, not session logs
    "chiphuyen+sniffly/tests/baseline_results.json": "not_a_session_log",
    "chiphuyen+sniffly/tests/sniffly/baseline_phase2.json": "not_a_session_log",
    "tombelieber+claude-view/crates/db/tests/golden_fixtures/integrity_expected.json": "not_a_session_log",
    "tombelieber+claude-view/crates/db/tests/integrity_corpus_snapshot/manifest.json": "not_a_session_log",
    "jazzyalex+agent-sessions/Resources/Fixtures/stage0/agents/claude/subagent/0a1b2c3d-4e5f-4061-8071-2a3b4c5d6e7f/subagents/agent-a0ad4f44468bdf20d.meta.json": "not_a_session_log",
    # a Claude Code *web* export (one JSON document), not a CLI transcript
    "simonw+claude-code-transcripts/tests/sample_session.json": "not_a_session_log",
    # happy's debug log with a .jsonl name
    "slopus+happy/packages/happy-cli/src/claude/utils/__fixtures__/duplicate-assistant-response-2.jsonl": "not_a_session_log",
    # agent-sessions' own generic {role, content} format, not Claude Code's envelope
    "jazzyalex+agent-sessions/Resources/Fixtures/session_branch.jsonl": "not_a_session_log",
    "jazzyalex+agent-sessions/Resources/Fixtures/session_simple.jsonl": "not_a_session_log",
    "jazzyalex+agent-sessions/Resources/Fixtures/session_toolcall.jsonl": "not_a_session_log",
    # zero bytes
    "tombelieber+claude-view/crates/core/tests/fixtures/empty.jsonl": "empty",
    "tombelieber+claude-view/crates/db/tests/golden_fixtures/empty_session.jsonl": "empty",
}


def manifest():
    return json.loads((CORPUS / "manifest.json").read_text())


ENTRIES = manifest() if CORPUS.is_dir() else []


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"][-60:] for e in ENTRIES])
def test_each_file_is_indexed_or_rejected_with_a_reason(entry):
    source = Source(entry["source"])
    other = Source.CODEX if source is Source.CLAUDE else Source.CLAUDE
    path = str(CORPUS / entry["file"])
    result = parse_file(source, path)
    expected = EXPECTED_REJECTIONS.get(entry["file"])
    assert result.rejection == expected, result.detail
    if expected is None:
        assert result.sessions and summarize(result)  # numbers derive without error
        # accounting: every non-blank line is ok, malformed, unfinished, duplicate or skipped
        with open(path, "rb") as fh:
            non_blank = sum(1 for line in fh if line.strip())
        assert result.lines_ok + result.lines_malformed + result.lines_incomplete_tail + result.lines_duplicate + result.lines_skipped == non_blank
    # the wrong parser never makes a session of it
    crossed = parse_file(other, path)
    assert not crossed.sessions and crossed.rejection in ("source_mismatch", "not_a_session_log", "empty")
    if expected is None:
        assert crossed.rejection == "source_mismatch"


def test_sniffly_gold_labels():
    """sniffly's curated values for its 4-file ai-music project (baseline_results.json)."""
    folder = CORPUS / "chiphuyen+sniffly/tests/mock-data/-Users-chip-dev-ai-music"
    results = [parse_file(Source.CLAUDE, str(p)) for p in sorted(folder.glob("*.jsonl"))]
    agg = summarize(*results)
    sessions = [s for r in results for s in r.sessions]
    assert sorted(s.source_session_id for s in sessions) == [
        "ba79134d-b6e9-4867-af0c-6941038c9e4b", "d3ad4cdc-5657-435d-98fa-0035d53e383d",
        "fed8ce56-bc79-401f-a83e-af084253362f", "ff71dbed-a4f2-4284-a4fc-fe2fb90de929",
    ]
    total = Counter()
    for a in agg.values():
        total.update({k: a[k] for k in ("user_prompt_count", "api_call_count", "tool_call_count", "aborted_turn_count",
                                         "input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens")})
    assert total["user_prompt_count"] == 13  # user_commands_analyzed
    assert total["api_call_count"] == 90  # message_types.assistant (streamed lines deduped by id)
    assert total["tool_call_count"] == 96  # total_tools_used
    assert total["aborted_turn_count"] == 1  # interruptions
    starts = [s.started_at for s in sessions if s.started_at]
    ends = [s.ended_at for s in sessions if s.ended_at]
    assert (min(starts).isoformat(), max(ends).isoformat()) == ("2025-06-08T10:47:08.446000+00:00", "2025-06-10T12:37:28.376000+00:00")

    # Tokens differ on purpose. sniffly adds the usage of every streamed line, so a response
    # split over k lines counts k times (ccusage #901/#1762 family). We count each response
    # once with its fieldwise maximum. Both, derived from the same lines:
    naive = Counter()
    for p in sorted(folder.glob("*.jsonl")):
        for line in p.read_text().splitlines():
            obj = json.loads(line)
            if obj.get("type") == "assistant":
                naive.update(obj["message"]["usage"])
    assert (naive["input_tokens"], naive["output_tokens"], naive["cache_creation_input_tokens"], naive["cache_read_input_tokens"]) == (652, 19443, 301119, 5238726)
    assert (total["input_tokens"], total["output_tokens"], total["cache_creation_tokens"], total["cache_read_tokens"]) == (293, 19313, 206624, 4302385)


def test_agentsview_valid_session_gold_labels():
    r = parse_file(Source.CLAUDE, str(CORPUS / "kenn-io+agentsview/internal/parser/testdata/claude/valid_session.jsonl"))
    (s,) = r.sessions
    # agentsview: message_count 4, first message "Fix the login bug". It folds a tool call into
    # its assistant message; we keep the tool call as a row of its own (5 rows, 4 of them
    # user/assistant).
    assert Counter(m.role for m in s.messages) == {"user": 2, "assistant": 2, "tool_use": 1}
    assert next(m.text for m in s.messages if m.role == "user") == "Fix the login bug"
    assert s.cwd == "/Users/alice/code/my-app"  # project "my-app", as agentsview (tests/test_projects.py)


def test_claude_view_large_session_gold_labels():
    r = parse_file(Source.CLAUDE, str(CORPUS / "tombelieber+claude-view/crates/core/tests/fixtures/large_session.jsonl"))
    (s,) = r.sessions
    a = summarize(r)[s.id]
    assert (a["message_count"], a["user_prompt_count"]) == (200, 100)  # messages, turn_count


@pytest.mark.parametrize("misplaced,root_source", [
    (FIXTURES / "codex" / "minimal.jsonl", Source.CLAUDE),
    (FIXTURES / "claude" / "minimal.jsonl", Source.CODEX),
])
def test_a_file_under_the_wrong_root_is_a_counted_source_mismatch(tmp_path, misplaced, root_source):
    root = tmp_path / "root"
    target = root / "2026" / "01" / "01" / "rollout-2026-01-01T00-00-00-misplaced.jsonl"
    target.parent.mkdir(parents=True)
    target.write_bytes(misplaced.read_bytes())
    db = tmp_path / "i.duckdb"
    staging = StagingArea.beside(db)
    pipeline.stage_session_files(root_source, [root], db, staging)
    report = pipeline.stage_parsed_sessions(root_source, staging, workers=1)
    pipeline.load_session_index(root_source, staging, db)
    assert (report.sessions, report.rejected) == (0, {"source_mismatch": 1})
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
        assert con.execute("SELECT source, status, reason FROM indexed_files").fetchall() == [(root_source.value, "rejected", "source_mismatch")]
        assert con.execute("SELECT value FROM index_metrics WHERE metric = 'files' AND result = 'source_mismatch'").fetchall() == [(1.0,)]
    finally:
        con.close()


def test_unknown_line_types_are_counted_by_name_and_stored_with_the_session(tmp_path):
    root = tmp_path / "projects" / "-p"
    root.mkdir(parents=True)
    (root / "unknown_types.jsonl").write_bytes((CORPUS / "tombelieber+claude-view/crates/core/tests/fixtures/unknown_types.jsonl").read_bytes())
    db = tmp_path / "i.duckdb"
    staging = StagingArea.beside(db)
    pipeline.stage_session_files(Source.CLAUDE, [tmp_path / "projects"], db, staging)
    pipeline.stage_parsed_sessions(Source.CLAUDE, staging, workers=1)
    pipeline.load_session_index(Source.CLAUDE, staging, db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = json.loads(con.execute("SELECT unknown_types FROM sessions").fetchone()[0])
        metrics = dict(con.execute("SELECT result, value FROM index_metrics WHERE metric = 'unknown_events'").fetchall())
    finally:
        con.close()
    expected = {"line:future_type": 1, "line:metadata": 1, "line:telemetry": 1}
    assert stored == expected
    assert metrics == {k: float(v) for k, v in expected.items()}


def test_inline_sidechain_lines_are_model_written_not_prompts():
    """happy's task_non_sdk capture: a Task subagent's lines inline (isSidechain) in the
    main transcript. Its user line was written by the parent model; its 3 responses are
    real API calls of this session (5 distinct message.id + requestId in all)."""
    r = parse_file(Source.CLAUDE, str(CORPUS / "slopus+happy/packages/happy-cli/src/claude/utils/__fixtures__/task_non_sdk.jsonl"))
    (s,) = r.sessions
    a = summarize(r)[s.id]
    assert [m.kind for m in s.messages if m.role == "user"] == ["prompt", "agent_prompt"]
    assert (a["user_prompt_count"], a["api_call_count"], a["tool_call_count"]) == (1, 5, 3)
    assert a["models"] == ["claude-opus-4-1-20250805", "claude-sonnet-4-20250514"]
    assert s.is_sidechain is False
