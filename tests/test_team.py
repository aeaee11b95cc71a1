"""The team store against a real PostgreSQL (./pipeline services up) and real pushes:
three hosts (own HOME, own corpus, own local index, own process) push at the same moment,
one session file being on two of them; a push killed at each of its named moments leaves the
previous push whole; a session on two hosts counts once by its most complete copy; four
machines set up a new store at once; pushing again changes nothing; an analyst's lines and the
housekeeping lines from docs/team.md work as shown."""

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
from claude_view_pipeline.sources import SOURCE_NAMES

from helpers import REPO, missing

@pytest.fixture(autouse=True)
def postgresql_installed():
    if not shutil.which("runuser") or not any(os.path.exists(f"/usr/lib/postgresql/{v}/bin/pg_ctl") for v in range(12, 20)):
        missing("PostgreSQL (and runuser)", ".ci/run installs Debian's postgresql")


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
    assert [r["changed"] for r in json.loads(again.communicate(timeout=120)[0])] == [False] * len(SOURCE_NAMES)

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


PUSH_PAUSE_POINTS = ("team_store_open", "before_team_commit", "after_team_commit")


def test_a_push_killed_at_any_moment_leaves_the_previous_push_whole(fresh_store, tmp_path):
    from claude_view_pipeline import team

    home = tmp_path / "host"
    generate(home / "corpus", claude_sessions=5, codex_sessions=0, seed=400)
    env = host_env(fresh_store, home)
    assert cli(env, "team", "push", "--host", "killed").wait(timeout=300) == 0
    before = local_totals(home)["claude"]
    generate(tmp_path / "more", claude_sessions=3, codex_sessions=0, seed=401)  # three more sessions arrive
    shutil.copytree(tmp_path / "more/claude/projects", home / "corpus/claude/projects", dirs_exist_ok=True)
    assert cli(env, "index").wait(timeout=300) == 0  # the local index has them; the store not yet
    after = local_totals(home)["claude"]
    assert after[0] == before[0] + 3
    store = team.TeamEnv(fresh_store["CLAUDE_VIEW_TEAM_CATALOG"], "file://" + fresh_store["CLAUDE_VIEW_TEAM_DATA"])

    def stored():
        return team.partition_totals(store, "killed", "claude")

    def logged():
        push = team.latest_pushes(store)[("killed", "claude")]
        return push.sessions, push.total_tokens

    # stopped at each named moment of a push and killed there: the store holds the previous
    # push or the new one, whole; a push killed between its commit and its log entry leaves
    # the log behind, and the next push writes the entry
    for point in PUSH_PAUSE_POINTS:
        marker = tmp_path / f"paused-{point}"
        proc = cli({**env, "CLAUDE_VIEW_PAUSE_AT": point, "CLAUDE_VIEW_PAUSE_FILE": str(marker)},
                   "team", "push", "--host", "killed", "--no-refresh", start_new_session=True)
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"never reached {point}"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        if point == "after_team_commit":
            assert (stored(), logged()) == (after, before)
        else:
            assert stored() == before and logged() == before
    assert cli(env, "team", "push", "--host", "killed", "--no-refresh").wait(timeout=300) == 0
    assert stored() == after and logged() == after


def test_a_session_on_two_hosts_counts_once_by_its_most_complete_copy(fresh_store, tmp_path):
    from claude_view_pipeline import team

    complete, early = tmp_path / "complete", tmp_path / "early"
    generate(complete / "corpus", claude_sessions=3, codex_sessions=0, seed=410)
    # the early machine synced one session while it was being written: its first half only
    whole = sorted((complete / "corpus/claude/projects").rglob("*.jsonl"))[0]
    half = early / "corpus/claude/projects" / whole.relative_to(complete / "corpus/claude/projects")
    half.parent.mkdir(parents=True)
    lines = whole.read_bytes().splitlines(keepends=True)
    half.write_bytes(b"".join(lines[: len(lines) // 2]))
    # the half copy is pushed first, the complete one later (a Claude-only team: no reasoning tokens)
    for host, home in (("early", early), ("complete", complete)):
        proc = cli(host_env(fresh_store, home), "team", "push", "--host", host)
        assert proc.wait(timeout=300) == 0, proc.communicate()
    whole_total = local_totals(complete)["claude"][1]
    half_total = local_totals(early)["claude"][1]
    assert 0 < half_total < sum(t for t in [whole_total])  # a half copy holds less
    daily = json.loads(cli(host_env(fresh_store, tmp_path), "team", "usage", "daily", "--json", "--timezone", "UTC").communicate(timeout=120)[0])
    assert sum(r["total_tokens"] for r in daily) == whole_total  # every session whole, once
    assert {r["host"] for r in daily} == {"complete"}
    # the team's daily table, written with its own schema (a column of nulls has a type)
    store = team.TeamEnv(fresh_store["CLAUDE_VIEW_TEAM_CATALOG"], "file://" + fresh_store["CLAUDE_VIEW_TEAM_DATA"])
    rows = team.write_team_daily_usage(store, "UTC")
    assert sum(r["total_tokens"] for r in rows) == whole_total and {r["reasoning_tokens"] for r in rows} == {None}
    table = team.catalog(store).load_table(team.DAILY_TABLE).scan().to_arrow()
    assert table.schema.field("reasoning_tokens").type == "int64" and table.num_rows == len(rows)


def test_four_machines_set_up_a_new_store_at_once(fresh_store, tmp_path):
    from claude_view_pipeline import team

    homes = []
    for i in range(4):
        home = tmp_path / f"m{i}"
        generate(home / "corpus", claude_sessions=2, codex_sessions=1, seed=420 + i)
        assert cli(host_env(fresh_store, home), "index").wait(timeout=300) == 0
        homes.append(home)
    pushes = [cli(host_env(fresh_store, h), "team", "push", "--host", f"m{i}", "--no-refresh") for i, h in enumerate(homes)]
    outs = [p.communicate(timeout=300) for p in pushes]
    assert [p.returncode for p in pushes] == [0] * 4, [o[1][-1500:] for o in outs]
    store = team.TeamEnv(fresh_store["CLAUDE_VIEW_TEAM_CATALOG"], "file://" + fresh_store["CLAUDE_VIEW_TEAM_DATA"])
    table = team.team_table(store)
    assert [f.name for f in table.spec().fields] == ["host", "source"]  # partitioned from its first commit
    held = {(h, s): team.partition_totals(store, h, s) for h in (f"m{i}" for i in range(4)) for s in SOURCE_NAMES}
    # every source is pushed, those with no sessions on a machine as (0, 0)
    assert held == {(f"m{i}", s): local_totals(home).get(s, (0, 0)) for i, home in enumerate(homes) for s in SOURCE_NAMES}
    assert {k: (p.sessions, p.total_tokens) for k, p in team.latest_pushes(store).items()} == held


@pytest.mark.parametrize("host", ["a|b", "x" * 300, "line\nbreak", "", "-leading", "with space", "tab\there",
                                  "\x1b]52;c;aGk=\x07"])  # an OSC 52 clipboard write
def test_a_host_name_that_cannot_name_a_partition_is_refused_before_any_work(tmp_path, host):
    # an unreachable store: the refusal comes before the store (and the index) is touched
    env = environ_without_settings({"HOME": str(tmp_path), "CLAUDE_VIEW_TEAM_CATALOG": "postgresql+psycopg2://nobody@127.0.0.1:9/none",
                                    "CLAUDE_VIEW_TEAM_DATA": str(tmp_path / "data"), "CLAUDE_VIEW_DB": str(tmp_path / "i.duckdb")})
    out, err = cli(env, "team", "push", f"--host={host}").communicate(timeout=120)
    (line,) = err.strip().splitlines()
    assert line.startswith("claude-view-pipeline: error: the host name ") and "cannot name a machine in the team store" in line
    assert not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in err.rstrip("\n"))  # shown escaped, and cut
    assert not (tmp_path / "i.duckdb").exists() and not (tmp_path / "data").exists()


def test_the_checks_stay_green_when_snapshots_are_expired_as_the_docs_say(fresh_store, tmp_path, monkeypatch):
    import dagster as dg

    from assets.team import team_sessions
    from orchestration.keys import team_partitions
    from orchestration.resources import TeamStore
    from checks.team_checks import team_checks

    home = tmp_path / "h"
    generate(home / "corpus", claude_sessions=3, codex_sessions=0, seed=430)
    env = host_env(fresh_store, home)
    assert cli(env, "team", "push", "--host", "tidy").wait(timeout=300) == 0
    generate(tmp_path / "more", claude_sessions=1, codex_sessions=0, seed=431)
    shutil.copytree(tmp_path / "more/claude/projects", home / "corpus/claude/projects", dirs_exist_ok=True)
    assert cli(env, "team", "push", "--host", "tidy").wait(timeout=300) == 0  # a second snapshot
    for k, v in fresh_store.items():
        monkeypatch.setenv(k, v)

    def checks_pass() -> bool:
        with dg.DagsterInstance.ephemeral() as instance:
            instance.add_dynamic_partitions("team_hosts", ["tidy"])
            result = dg.materialize([team_sessions, *team_checks], resources={"store": TeamStore()}, instance=instance,
                                    partition_key=dg.MultiPartitionKey({"host": "tidy", "source": "claude"}), raise_on_error=False)
            return result.success and all(e.passed for e in result.get_asset_check_evaluations())

    assert checks_pass()
    snippet = (REPO / "docs/team.md").read_text().split("## Housekeeping", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    exec(snippet, {})
    from claude_view_pipeline import team

    store = team.TeamEnv(fresh_store["CLAUDE_VIEW_TEAM_CATALOG"], "file://" + fresh_store["CLAUDE_VIEW_TEAM_DATA"])
    assert len(team.team_table(store).metadata.snapshots) == 1  # expired down to the current one
    assert checks_pass()


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


def test_the_push_sensor_passes_over_a_host_name_no_partition_can_carry(fresh_store, tmp_path, monkeypatch):
    from datetime import datetime, timezone

    import dagster as dg
    import pyarrow as pa

    from assets.team import team_push_sensor
    from orchestration.resources import TeamStore
    from claude_view_pipeline import team

    home = tmp_path / "h"
    generate(home / "corpus", claude_sessions=1, codex_sessions=0, seed=440)
    assert cli(host_env(fresh_store, home), "team", "push", "--host", "good").wait(timeout=300) == 0
    store = team.TeamEnv(fresh_store["CLAUDE_VIEW_TEAM_CATALOG"], "file://" + fresh_store["CLAUDE_VIEW_TEAM_DATA"])
    # a push an older release let through, under a name with the multi-partition delimiter
    team.pushes_table(store).append(pa.Table.from_pylist(
        [{"push_id": "p-old", "host": "old|host", "source": "claude", "pushed_at": datetime.now(timezone.utc), "sessions": 1,
          "total_tokens": 5}],
        schema=team.PUSHES_SCHEMA))
    for k, v in fresh_store.items():
        monkeypatch.setenv(k, v)
    with dg.DagsterInstance.ephemeral() as instance:
        result = team_push_sensor(dg.build_sensor_context(instance=instance, resources={"store": TeamStore()}))
    assert isinstance(result, dg.SensorResult), result
    # every partition of the good host (all but claude empty), none of the other's
    assert sorted(r.partition_key for r in result.run_requests) == sorted(f"good|{s}" for s in SOURCE_NAMES)
    assert result.dynamic_partitions_requests[0].partition_keys == ["good"]
