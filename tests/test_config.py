from pathlib import Path

import pytest

from claude_view_pipeline.config import ConfigError, Settings, parse_flag
from claude_view_pipeline.sources import Source


@pytest.mark.parametrize("raw,expected", [("true", True), ("FALSE", False), ("1", True), ("0", False), ("Yes", True), ("off", False), ("", True), (None, True)])
def test_flags(raw, expected):
    assert parse_flag("ENABLE_CODEX_SOURCE", raw, True) is expected


def test_flag_typo_is_an_error_naming_the_variable():
    with pytest.raises(ConfigError, match="ENABLE_CODEX_SOURCE='flase'"):
        parse_flag("ENABLE_CODEX_SOURCE", "flase", True)


def test_roots_from_env(home):
    s = Settings.from_env({"CLAUDE_CONFIG_DIR": "/a,/b", "CODEX_HOME": "/c", "CLAUDE_VIEW_DB": "/d/i.duckdb"})
    assert s.roots[Source.CLAUDE] == [Path("/a/projects"), Path("/b/projects")]
    assert s.roots[Source.CODEX] == [Path("/c/sessions"), Path("/c/archived_sessions")]
    assert s.db_path == Path("/d/i.duckdb")

    s = Settings.from_env({"CLAUDE_PROJECTS_DIR": "/p", "CODEX_SESSIONS_DIR": "/s/sessions"})
    assert s.roots[Source.CLAUDE] == [Path("/p")]
    assert s.roots[Source.CODEX] == [Path("/s/sessions"), Path("/s/archived_sessions")]


def test_defaults(home):
    s = Settings.from_env({})
    assert s.roots[Source.CLAUDE] == [home / ".claude/projects", home / ".config/claude/projects"]
    assert s.roots[Source.CODEX] == [home / ".codex/sessions", home / ".codex/archived_sessions"]
    assert s.db_path == home / ".local/share/claude-view-pipeline/index.duckdb"
    assert s.enabled_sources() == [Source.CLAUDE, Source.CODEX]
    assert Settings.from_env({"ENABLE_CODEX_SOURCE": "off"}).enabled_sources() == [Source.CLAUDE]
