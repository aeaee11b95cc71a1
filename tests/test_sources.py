import pytest

from claude_view_pipeline.sources import (
    Source,
    UnknownSourceError,
    canonical_id,
    parse_sources,
    split_canonical_id,
)


def test_canonical_id_round_trip():
    assert canonical_id(Source.CODEX, "abc") == "codex:abc"
    assert canonical_id("claude", "x:y") == "claude:x:y"
    assert split_canonical_id("claude:x:y") == (Source.CLAUDE, "x:y")
    assert split_canonical_id("codex:abc") == (Source.CODEX, "abc")


@pytest.mark.parametrize("bad", ["", "  ", None])
def test_canonical_id_rejects_empty_ids(bad):
    with pytest.raises(ValueError, match="empty source_session_id"):
        canonical_id(Source.CLAUDE, bad)


def test_canonical_id_rejects_unknown_source():
    with pytest.raises(UnknownSourceError, match="valid sources are: claude, codex, gemini, qwen, copilot, opencode"):
        canonical_id("nosuch", "abc")


@pytest.mark.parametrize("bad", ["abc", "nosuch:abc", "codex:", ":abc"])
def test_split_rejects_non_canonical(bad):
    with pytest.raises(ValueError):
        split_canonical_id(bad)


def test_parse_sources():
    assert parse_sources(None) is None
    assert parse_sources("codex,claude") == [Source.CLAUDE, Source.CODEX]  # canonical order
    assert parse_sources(" Codex ") == [Source.CODEX]
    assert parse_sources(["claude", "claude"]) == [Source.CLAUDE]
    with pytest.raises(UnknownSourceError) as err:
        parse_sources("claude,nosuch")
    assert err.value.name == "nosuch"
    with pytest.raises(UnknownSourceError):
        parse_sources(",")
