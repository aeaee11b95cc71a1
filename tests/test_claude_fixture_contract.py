"""Contract of the Claude Code parser on the canonical fixtures (fixtures/claude/). Every
number is derived by hand from the fixture file named in the case."""

from collections import Counter

import pytest

from claude_view_pipeline.aggregate import summarize
from claude_view_pipeline.parsers import parse_file
from claude_view_pipeline.sources import Source

from helpers import FIXTURES

# file -> (roles, prompts, tools, api calls, compactions, aborted turns,
#          (input, cache_read, cache_creation, output, total))
CASES = {
    "minimal.jsonl": ({"user": 1, "assistant": 1}, 1, 0, 1, 0, 0, (3, 0, 100, 12, 115)),
    # a response over three lines: one call, fieldwise max usage; tool results are not prompts
    "tool_heavy.jsonl": ({"user": 1, "assistant": 3, "tool_use": 3, "tool_result": 3}, 1, 3, 3, 0, 0, (7, 8100, 1050, 129, 9286)),
    # /compact: caveat (meta), command (a prompt), boundary, summary, stdout, microcompaction
    "compacted.jsonl": ({"user": 3, "assistant": 2, "system": 5}, 3, 0, 2, 1, 0, (13, 500, 150, 35, 698)),
    # a rejected tool use and an interrupted answer: two aborted turns
    "aborted_turn.jsonl": ({"user": 2, "assistant": 2, "tool_use": 1, "tool_result": 1, "system": 2}, 2, 1, 2, 0, 2, (6, 2300, 200, 48, 2554)),
    # partial output_tokens on early lines and a line written twice: max usage, blocks once
    "streaming_split.jsonl": ({"user": 1, "assistant": 2, "reasoning": 1, "tool_use": 1, "tool_result": 1}, 1, 1, 2, 0, 0, (7, 2100, 400, 108, 2615)),
    # two slash commands count as prompts; their output and the meta lines do not
    "slash_commands.jsonl": ({"system": 3, "user": 3, "assistant": 3, "tool_use": 1, "tool_result": 1}, 3, 1, 3, 0, 0, (12, 6800, 3010, 428, 10250)),
}


def parse_one(path):
    result = parse_file(Source.CLAUDE, str(path))
    assert result.rejection is None, result.detail
    (session,) = result.sessions
    return result, session, summarize(result)[session.id]


def check(session, a, roles, prompts, tools, calls, compactions, aborted, tokens):
    assert Counter(m.role for m in session.messages) == roles
    assert a["message_count"] == sum(roles.values())
    assert (a["user_prompt_count"], a["tool_call_count"], a["api_call_count"]) == (prompts, tools, calls)
    assert (a["compaction_count"], a["aborted_turn_count"]) == (compactions, aborted)
    got = tuple(a[k] for k in ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "total_tokens"))
    assert got == tokens
    assert a["reasoning_tokens"] is None  # Claude does not report it


@pytest.mark.parametrize("name", sorted(CASES))
def test_claude_fixture_contract(name):
    result, session, a = parse_one(FIXTURES / "claude" / name)
    assert (result.lines_malformed, result.lines_skipped) == (0, 0)
    check(session, a, *CASES[name])


def test_streaming_split_merges_one_response():
    result, session, a = parse_one(FIXTURES / "claude" / "streaming_split.jsonl")
    responses = [m for m in session.messages if m.role == "assistant"]
    assert [(m.text, m.output_tokens) for m in responses] == [("Adding the flag.", 77), ("Done.\n Try `app --verbose`.", 31)]
    assert a["microcompaction_count"] == 0 and a["primary_model"] == "claude-sonnet-4-5-20250929"


def test_compaction_counts_apart_from_microcompaction():
    _, _, a = parse_one(FIXTURES / "claude" / "compacted.jsonl")
    assert (a["compaction_count"], a["microcompaction_count"]) == (1, 1)


@pytest.mark.parametrize("layout,parent_id,agent_id", [
    ("subagent_new_layout", "5c1b0d2e-0007-4a5b-9c6d-7e8f90a1b2c3", "agent-a1b2c3d4e5f6a7b8"),
    ("subagent_old_layout", "5c1b0d2e-0008-4a5b-9c6d-7e8f90a1b2c3", "agent-b1c2d3e4f5a6b7c8"),
])
def test_subagent_transcript_is_its_own_linked_session(layout, parent_id, agent_id):
    root = FIXTURES / "claude" / layout / "-home-dev-api"
    _, parent, pa = parse_one(root / f"{parent_id}.jsonl")
    check(parent, pa, {"user": 1, "assistant": 2, "tool_use": 1, "tool_result": 1}, 1, 1, 2, 0, 0, (5, 800, 900, 75, 1780))
    assert (parent.id, parent.relation, parent.is_sidechain) == (f"claude:{parent_id}", None, False)

    agent_file = next(root.rglob(f"{agent_id}.jsonl"))
    _, agent, aa = parse_one(agent_file)
    # the agent's first user line was written by the parent model: not a prompt
    check(agent, aa, {"user": 1, "assistant": 2, "tool_use": 1, "tool_result": 1}, 0, 1, 2, 0, 0, (9, 1600, 1500, 57, 3166))
    assert (agent.id, agent.parent_session_id, agent.relation, agent.is_sidechain) == (f"claude:{agent_id}", f"claude:{parent_id}", "subagent", True)
    assert aa["primary_model"] == "claude-haiku-4-5-20251001"
    assert all(m.origin_session_id is None for m in agent.messages)
