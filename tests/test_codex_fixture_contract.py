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
    # Codex 0.34.0: tokens but no model anywhere; totals (12000, 4000, 200, 128) then
    # (24500, 15800, 260, 128): calls (12000-4000, 4000, 200) and (12500-11800, 11800, 60)
    "no_model.jsonl": ({"user": 1, "tool_use": 1, "tool_result": 1, "assistant": 1}, 1, 1, 2, 0, 0, (8700, 15800, 0, 260, 128, 24760)),
    # a model served through another provider (ollama launch codex)
    "other_provider.jsonl": ({"user": 1, "assistant": 1}, 1, 0, 1, 0, 0, (10000, 30000, 0, 1500, 0, 41500)),
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


def test_a_rollout_that_never_names_its_model_ran_on_its_releases_default():
    # 0.34.0 wrote token counts before it wrote turn_context: the default then was gpt-5
    r = parse_file(Source.CODEX, str(FIXTURES / "codex" / "no_model.jsonl"))
    calls = [m for m in r.sessions[0].messages if m.api_call]
    assert [(m.model, m.model_assumed, m.model_provider) for m in calls] == [("gpt-5", True, None)] * 2
    a = summarize(r)[r.sessions[0].id]
    assert (a["primary_model"], a["model_assumed"]) == ("gpt-5", True)


@pytest.mark.parametrize("version,day,model", [
    ("0.34.0", "2025-09-12", "gpt-5"),
    ("0.45.1", "2025-10-10", "gpt-5-codex"),
    ("0.60.0", "2025-11-25", "gpt-5.1-codex"),
    ("0.65.0", "2025-12-05", "gpt-5.1-codex-max"),
    ("0.98.0", "2026-03-01", "gpt-5.2-codex"),
    # a source build says 0.0.0: its day decides
    ("0.0.0", "2025-09-10", "gpt-5"),
    ("0.0.0", "2025-10-01", "gpt-5-codex"),
    (None, "2026-01-01", "gpt-5.2-codex"),
])
def test_the_default_model_by_release_or_day(version, day, model):
    from datetime import datetime, timezone

    from claude_view_pipeline.parsers.codex_models import default_model

    assert default_model(version, datetime.fromisoformat(day).replace(tzinfo=timezone.utc)) == model


def test_a_call_before_the_first_turn_context_ran_on_the_model_named_next(tmp_path):
    lines = (FIXTURES / "codex" / "minimal.jsonl").read_text().splitlines()
    # the token_count moved before the turn_context: its call's model is the one named next
    token_count = lines.pop()
    lines.insert(3, token_count.replace("09:00:02.600Z", "09:00:00.900Z"))
    path = tmp_path / "rollout-2026-01-10T09-00-00-0199a000-0000-7000-8000-000000000001.jsonl"
    path.write_text("\n".join(lines) + "\n")
    (call,) = [m for m in parse_file(Source.CODEX, str(path)).sessions[0].messages if m.api_call]
    assert (call.model, call.model_assumed, call.model_provider) == ("gpt-5-codex", True, "openai")


def test_the_provider_a_session_records_is_kept_on_its_calls():
    r = parse_file(Source.CODEX, str(FIXTURES / "codex" / "other_provider.jsonl"))
    (call,) = [m for m in r.sessions[0].messages if m.api_call]
    assert (call.model, call.model_provider, call.model_assumed) == ("kimi-k2.5:cloud", "ollama-launch", False)


def test_a_token_count_that_names_its_model_is_priced_as_that_model(tmp_path):
    # newer builds name the model on the token_count itself (info.model): the call's own model
    # stands over the turn's (the second call here ran on gpt-5.3-codex)
    lines = [
        '{"timestamp":"2026-05-13T09:00:00.000Z","type":"session_meta","payload":{"id":"t-m","cwd":"/w","cli_version":"0.120.0"}}',
        '{"timestamp":"2026-05-13T09:00:00.100Z","type":"turn_context","payload":{"model":"gpt-5.2-codex"}}',
        '{"timestamp":"2026-05-13T09:01:00.000Z","type":"event_msg","payload":{"type":"token_count","info":{"model":"gpt-5.2-codex",'
        '"total_token_usage":{"input_tokens":1000,"cached_input_tokens":250,"output_tokens":125,"reasoning_output_tokens":75}}}}',
        '{"timestamp":"2026-05-14T10:00:00.000Z","type":"event_msg","payload":{"type":"token_count","info":{"model":"gpt-5.3-codex",'
        '"total_token_usage":{"input_tokens":3500,"cached_input_tokens":750,"output_tokens":425,"reasoning_output_tokens":275}}}}',
    ]
    path = tmp_path / "rollout-2026-05-13T09-00-00-t-m.jsonl"
    path.write_text("\n".join(lines) + "\n")
    calls = [(m.model, m.model_assumed, m.input_tokens, m.output_tokens) for m in parse_file(Source.CODEX, str(path)).sessions[0].messages if m.api_call]
    assert calls == [("gpt-5.2-codex", False, 750, 125), ("gpt-5.3-codex", False, 2000, 300)]
