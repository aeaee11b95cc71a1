"""`usage` answers for what is on disk now: it indexes new and changed files first, from the
directories each source was last indexed from (never from the defaults), unless
--no-refresh."""

import json
import shutil

from helpers import FIXTURES, run_cli

# fixtures/claude: minimal.jsonl totals 115 tokens, tool_heavy.jsonl 9,286 (their contract tests)
MINIMAL, TOOL_HEAVY = 115, 9286


def total(proc) -> int:
    assert proc.returncode == 0, proc.stderr
    return sum(r["total_tokens"] for r in json.loads(proc.stdout))


def test_usage_picks_up_a_session_that_arrived_after_the_last_index(tmp_path, home):
    project = tmp_path / "projects" / "-home-dev-app"
    project.mkdir(parents=True)
    shutil.copy(FIXTURES / "claude" / "minimal.jsonl", project / "minimal.jsonl")
    db = tmp_path / "i.duckdb"
    # built from an explicit directory; HOME (the default roots) is empty
    assert run_cli("index", "--db", str(db), "--sources", "claude", "--claude-dir", str(tmp_path / "projects"),
                   env={"HOME": str(home)}).returncode == 0
    shutil.copy(FIXTURES / "claude" / "tool_heavy.jsonl", project / "tool_heavy.jsonl")

    usage = ["usage", "daily", "--db", str(db), "--timezone", "UTC", "--json"]
    assert total(run_cli(*usage, "--no-refresh", env={"HOME": str(home)})) == MINIMAL
    refreshed = run_cli(*usage, env={"HOME": str(home)})
    assert total(refreshed) == MINIMAL + TOOL_HEAVY
    assert "indexed 1 new or changed session file(s) first" in refreshed.stderr
    # the refresh rescanned the recorded directory: nothing was marked missing
    status = json.loads(run_cli("status", "--db", str(db), "--json").stdout)
    assert (status["sources"]["claude"]["sessions"], status["sources"]["claude"]["files_missing"]) == (2, 0)


def test_usage_without_refresh_needs_an_index(tmp_path, home):
    proc = run_cli("usage", "daily", "--db", str(tmp_path / "none.duckdb"), "--no-refresh", env={"HOME": str(home)})
    assert proc.returncode == 2 and "no index at" in proc.stderr
