"""Contract of the Codex parser on the canonical fixtures (fixtures/codex/). Every number is
derived by hand from the fixture file named in the case."""

from collections import Counter

import pytest

from claude_view_pipeline.aggregate import summarize
from claude_view_pipeline.parsers import parse_file
from claude_view_pipeline.sources import Source

from helpers import FIXTURES

# file -> (roles, prompts, tools, api calls, compactions, aborted turns,
#          (input, cache_read, cache_creation, output, reasoning, total))
CASES = {
    "minimal.jsonl": ({"system": 2, "user": 1, "reasoning": 1, "assistant": 1}, 1, 0, 1, 0, 0, (500, 1500, 0, 30, 10, 2030)),
    # five kinds of tool call; the web search has no output
    "tool_heavy.jsonl": ({"system": 1, "user": 1, "reasoning": 1, "tool_use": 5, "tool_result": 4, "assistant": 1}, 1, 5, 4, 0, 0, (4500, 19500, 0, 300, 70, 24300)),
    # one `compacted` line (its context_compacted event is the fallback, not a second one)
    "compacted.jsonl": ({"system": 3, "user": 2, "assistant": 2}, 2, 0, 2, 1, 0, (2700, 1500, 0, 90, 0, 4290)),
    "aborted_turn.jsonl": ({"system": 3, "user": 2, "reasoning": 1, "tool_use": 1, "assistant": 1}, 2, 1, 2, 0, 1, (1000, 4000, 0, 60, 10, 5060)),
    # pre-envelope: no user_message events, so the user response items are the prompts
    "legacy.jsonl": ({"system": 1, "user": 1, "reasoning": 1, "tool_use": 1, "tool_result": 1, "assistant": 1}, 1, 1, 0, 0, 0, (0, 0, 0, 0, 0, 0)),
    "record_type.jsonl": ({"user": 1, "assistant": 1}, 1, 0, 1, 0, 0, (800, 0, 0, 40, 0, 840)),
    # the replayed parent prefix (2 prompts, 2 answers, 2 token events) is inherited
    "forked.jsonl": ({"user": 3, "assistant": 3, "tool_use": 1, "tool_result": 1}, 1, 1, 2, 0, 0, (2000, 10000, 0, 120, 30, 12120)),
    # re-emitted and null token_count events add nothing; a resumed process restarts the total
    "repeated_token_counts.jsonl": ({"user": 3, "assistant": 3}, 3, 0, 3, 0, 0, (1600, 100, 0, 110, 0, 1810)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_codex_fixture_contract(name):
    roles, prompts, tools, calls, compactions, aborted, tokens = CASES[name]
    result = parse_file(Source.CODEX, str(FIXTURES / "codex" / name))
    assert result.rejection is None, result.detail
    assert (result.lines_malformed, result.lines_skipped) == (0, 0)
    (session,) = result.sessions
    a = summarize(result)[session.id]
    assert Counter(m.role for m in session.messages) == roles
    assert a["message_count"] == sum(roles.values())
    assert (a["user_prompt_count"], a["tool_call_count"], a["api_call_count"]) == (prompts, tools, calls)
    assert (a["compaction_count"], a["aborted_turn_count"]) == (compactions, aborted)
    got = tuple(a[k] for k in ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "reasoning_tokens", "total_tokens"))
    assert got == tokens


def test_codex_identity_and_metadata():
    r = parse_file(Source.CODEX, str(FIXTURES / "codex" / "minimal.jsonl"))
    (s,) = r.sessions
    assert s.id == "codex:0199a000-0000-7000-8000-000000000001"
    assert (s.cwd, s.git_branch, s.cli_version, s.relation) == ("/home/dev/proj", "main", "0.77.0", None)
    assert summarize(r)[s.id]["primary_model"] == "gpt-5-codex"
    assert s.started_at.isoformat() == "2026-01-10T09:00:00+00:00"
    assert s.ended_at.isoformat() == "2026-01-10T09:00:02.600000+00:00"


def test_fork_links_its_parent_and_marks_the_replay_inherited():
    r = parse_file(Source.CODEX, str(FIXTURES / "codex" / "forked.jsonl"))
    (s,) = r.sessions
    assert (s.parent_session_id, s.relation) == ("codex:0199a000-0000-7000-8000-0000000000aa", "fork")
    inherited = [m for m in s.messages if m.inherited]
    assert [(m.role, m.text) for m in inherited] == [
        ("user", "Parent: outline the design"),
        ("assistant", "Parent: here is an outline."),
        ("user", "Parent: add error handling"),
        ("assistant", "Parent: done."),
    ]
    assert not any(m.api_call for m in inherited)
    assert summarize(r)[s.id]["inherited_records"] == 4


def test_compacted_replacement_history_is_not_re_emitted():
    r = parse_file(Source.CODEX, str(FIXTURES / "codex" / "compacted.jsonl"))
    texts = [m.text for m in r.sessions[0].messages if m.role in ("user", "assistant")]
    assert texts == ["Summarise the repo", "It is a CLI.", "Now list its commands", "index, usage, metrics."]
