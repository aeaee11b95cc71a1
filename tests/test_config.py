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
    assert s.enabled_sources() == [Source.CLAUDE, Source.CODEX, Source.GEMINI, Source.QWEN, Source.COPILOT, Source.OPENCODE]
    assert Settings.from_env({"ENABLE_CODEX_SOURCE": "off"}).enabled_sources() == [Source.CLAUDE, Source.GEMINI, Source.QWEN, Source.COPILOT, Source.OPENCODE]


@pytest.mark.parametrize("name,raw", [
    ("CLAUDE_VIEW_LOCK_TIMEOUT", "abc"), ("CLAUDE_VIEW_LOCK_TIMEOUT", "-1"), ("CLAUDE_VIEW_LOCK_TIMEOUT", "nan"),
    ("CLAUDE_VIEW_LOCK_TIMEOUT", "inf"), ("CLAUDE_VIEW_WORKERS", "abc"), ("CLAUDE_VIEW_WORKERS", "-2"),
    ("CLAUDE_VIEW_WORKERS", "1.5"), ("CLAUDE_VIEW_SENSOR_INTERVAL", "abc"), ("CLAUDE_VIEW_SENSOR_INTERVAL", "0"),
    ("CLAUDE_VIEW_DUCKDB_MEMORY", "lots"), ("CLAUDE_VIEW_DUCKDB_MEMORY", "99999999TB"), ("CLAUDE_VIEW_DUCKDB_MEMORY", "1KB"),
    ("CLAUDE_VIEW_TIMEZONE", "Mars/Olympus"), ("CLAUDE_VIEW_RATE_LIMIT_WARN_PERCENT", "101"),
])
def test_a_bad_setting_is_an_error_naming_it_before_any_work(name, raw):
    with pytest.raises(ConfigError, match=f"{name}={raw!r}"):
        Settings.from_env({name: raw})


def test_numeric_settings_read_as_given():
    from claude_view_pipeline.config import lock_timeout, parse_workers, sensor_interval

    env = {"CLAUDE_VIEW_LOCK_TIMEOUT": "2.5", "CLAUDE_VIEW_WORKERS": "3", "CLAUDE_VIEW_SENSOR_INTERVAL": "7"}
    assert (lock_timeout(env), parse_workers(env), sensor_interval(env)) == (2.5, 3, 7)
    assert (lock_timeout({}), sensor_interval({})) == (120.0, 3)


def test_the_cli_reports_a_bad_setting_in_one_line_with_exit_2(tmp_path):
    from helpers import run_cli

    proc = run_cli("index", "--db", str(tmp_path / "i.duckdb"), env={"CLAUDE_VIEW_LOCK_TIMEOUT": "abc"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "claude-view-pipeline: error: CLAUDE_VIEW_LOCK_TIMEOUT='abc' is not a number of seconds (0 or more); unset it for the default (120)"]
    assert not (tmp_path / "i.duckdb").exists()
    proc = run_cli("index", "--db", str(tmp_path))  # a directory where the index file should be
    assert proc.returncode == 2 and f"--db names the directory {tmp_path}" in proc.stderr


@pytest.mark.parametrize("command", [["status"], ["usage", "daily", "--no-refresh"], ["report"], ["metrics"], ["migrate"],
                                     ["backup"], ["team", "status"], ["index"]])
def test_every_command_refuses_a_bad_setting_before_any_work(tmp_path, command):
    from helpers import run_cli

    proc = run_cli(*command, env={"CLAUDE_VIEW_DB": str(tmp_path / "i.duckdb"), "CLAUDE_VIEW_DUCKDB_MEMORY": "99999999TB",
                                  "HOME": str(tmp_path)})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "claude-view-pipeline: error: CLAUDE_VIEW_DUCKDB_MEMORY='99999999TB' is out of range; use a size from 32MB to 1024TB"]
    assert not (tmp_path / "i.duckdb").exists()


def test_the_configuration_doc_lists_every_setting_the_code_reads():
    """docs/configuration.md has a row for every setting (the project's own, each source's
    directories and switch) and for nothing else."""
    import re

    from claude_view_pipeline.config import SETTINGS
    from claude_view_pipeline.sources import ALL_SOURCES

    doc = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text()
    documented = {name for line in doc.splitlines() if line.startswith("| `")
                  for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split(" | ")[0])}
    read = set(SETTINGS) | {s.spec.enable_flag for s in ALL_SOURCES} | {v for s in ALL_SOURCES for v in s.spec.settings}
    assert documented == read
    # and the list is the code's: every setting name config.py spells is on it
    code = (Path(__file__).resolve().parent.parent / "claude_view_pipeline" / "config.py").read_text()
    assert set(re.findall(r"\b(CLAUDE_VIEW_[A-Z0-9_]+)\b", code)) <= set(SETTINGS)
