"""The team store against a real PostgreSQL (./pipeline services up) and real pushes:
three hosts (own HOME, own corpus, own local index, own process) push at the same moment,
one session file being on two of them; a push killed at any moment leaves the previous push
whole; pushing again changes nothing; an analyst's lines from docs/team.md read the same
numbers."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import duckdb
import pytest

from benchmarks.synth import generate
from claude_view_pipeline.config import environ_without_settings

from helpers import REPO

pytestmark = pytest.mark.skipif(not shutil.which("runuser") or not any(
    os.path.exists(f"/usr/lib/postgresql/{v}/bin/pg_ctl") for v in range(12, 20)), reason="PostgreSQL is not installed")


def host_env(store, home):
    return environ_without_settings({**store, "HOME": str(home), "CLAUDE_VIEW_DB": str(home / "index.duckdb"),
                                     "CLAUDE_PROJECTS_DIR": str(home / "corpus/claude/projects"),
                                     "CODEX_SESSIONS_DIR": str(home / "corpus/codex/sessions")})


def cli(env, *args, **kw):
    return subprocess.Popen([sys.executable, "-m", "claude_view_pipeline", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def local_totals(home):
    con = duckdb.connect(str(home / "index.duckdb"), read_only=True)
    try:
        return {s: (n, t) for s, n, t in con.execute("SELECT source, count(*), sum(total_tokens) FROM sessions GROUP BY source").fetchall()}
    finally:
        con.close()


def test_three_hosts_push_at_once_and_a_shared_session_counts_once(store, tmp_path):
    homes = []
    for i in range(3):
        home = tmp_path / f"host{i}"
        generate(home / "corpus", claude_sessions=6, codex_sessions=4, seed=300 + i)
        homes.append(home)
    # one session file synced onto a second machine
    shared = sorted((homes[0] / "corpus/claude/projects").rglob("*.jsonl"))[0]
    target = homes[1] / "corpus/claude/projects" / shared.relative_to(homes[0] / "corpus/claude/projects")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shared, target)

    pushes = [cli(host_env(store, h), "team", "push", "--host", f"host{i}") for i, h in enumerate(homes)]
    outs = [p.communicate(timeout=300) for p in pushes]
    assert [p.returncode for p in pushes] == [0, 0, 0], [o[1][-2000:] for o in outs]

    status = json.loads(cli(host_env(store, tmp_path), "team", "status", "--json").communicate(timeout=120)[0])
    ours = {"host0", "host1", "host2"}  # the store is shared with the other team tests
    got = {(r["host"], r["source"]): (r["sessions"], r["total_tokens"]) for r in status if r["host"] in ours}
    want = {(f"host{i}", s): v for i, h in enumerate(homes) for s, v in local_totals(h).items()}
    assert got == want  # every host's partitions equal its own index
    shared_id = next(r["also_on_other_hosts"] for r in status if r["host"] == "host0" and r["source"] == "claude")
    assert len(shared_id) == 1

    daily = json.loads(cli(host_env(store, tmp_path), "team", "usage", "daily", "--json", "--timezone", "UTC").communicate(timeout=120)[0])
    con = duckdb.connect(str(homes[0] / "index.duckdb"), read_only=True)
    shared_tokens = con.execute("SELECT total_tokens FROM sessions WHERE id = ?", shared_id).fetchall()[0][0]
    con.close()
    daily = [r for r in daily if r["host"] in ours]
    assert sum(r["total_tokens"] for r in daily) == sum(t for _, t in want.values()) - shared_tokens  # counted once
    assert {r["host"] for r in daily} == ours

    # pushing again changes nothing
    again = cli(host_env(store, homes[2]), "team", "push", "--host", "host2", "--json")
    assert [r["changed"] for r in json.loads(again.communicate(timeout=120)[0])] == [False, False]

    # the analyst's lines, exactly as docs/team.md shows them
    snippet = (REPO / "docs/team.md").read_text().split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict = {}
    old = {k: os.environ.get(k) for k in store}
    os.environ.update(store)
    try:
        exec(snippet, scope)
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    by_host = {h: t for h, t in scope["con"].sql("SELECT host, sum(total_tokens) FROM team_sessions GROUP BY host").fetchall()
               if h in ours}
    assert by_host == {f"host{i}": sum(t for (h, _), (_, t) in want.items() if h == f"host{i}") for i in range(3)}
    import polars as pl

    polars_totals = scope["df"].filter(pl.col("host").is_in(sorted(ours))).group_by("host").agg(pl.col("total_tokens").sum())
    assert polars_totals.sort("host").rows() == sorted(by_host.items())


def test_a_push_killed_at_any_moment_leaves_the_previous_push_whole(store, tmp_path):
    home = tmp_path / "host"
    generate(home / "corpus", claude_sessions=5, codex_sessions=0, seed=400)
    env = host_env(store, home)
    assert cli(env, "team", "push", "--host", "killed").wait(timeout=300) == 0
    before = local_totals(home)["claude"]
    generate(tmp_path / "more", claude_sessions=3, codex_sessions=0, seed=401)  # three more sessions arrive
    shutil.copytree(tmp_path / "more/claude/projects", home / "corpus/claude/projects", dirs_exist_ok=True)
    assert cli(env, "index").wait(timeout=300) == 0  # the local index has them; the store not yet
    after = local_totals(home)["claude"]
    assert after[0] == before[0] + 3

    def stored():
        out = json.loads(cli(env, "team", "status", "--json").communicate(timeout=120)[0])
        return next(((r["sessions"], r["total_tokens"]) for r in out if r["host"] == "killed" and r["source"] == "claude"), None)

    # killed at moments from start-up to the commit; once one lands, the later ones change nothing
    for delay in (0.5, 0.8, 1.1, 1.4, 1.7, 2.0, 2.3, 2.6):
        proc = cli(env, "team", "push", "--host", "killed", "--no-refresh", start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert stored() in (before, after)  # the previous push or the new one, whole
    assert cli(env, "team", "push", "--host", "killed", "--no-refresh").wait(timeout=300) == 0
    assert stored() == after


def test_an_unreachable_store_is_one_line_naming_it(tmp_path):
    env = environ_without_settings({"HOME": str(tmp_path), "CLAUDE_VIEW_TEAM_CATALOG": "postgresql+psycopg2://nobody@127.0.0.1:9/none",
                                    "CLAUDE_VIEW_TEAM_DATA": str(tmp_path / "data")})
    out, err = cli(env, "team", "status").communicate(timeout=120)
    (line,) = err.strip().splitlines()
    assert line.startswith("claude-view-pipeline: the team store (postgresql+psycopg2://nobody@127.0.0.1:9/none) failed: ")
    assert line.endswith("is its PostgreSQL running and reachable? (a local one: eval \"$(./pipeline services up)\"; "
                         "--debug shows the traceback)")
    unset = cli(environ_without_settings({"HOME": str(tmp_path)}), "team", "status")
    assert unset.wait(timeout=60) == 2  # not configured at all: a settings error
