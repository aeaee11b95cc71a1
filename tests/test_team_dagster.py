"""The team's Dagster deployment as a team lead runs it (deploy/team/): run, event and
schedule storage in a real PostgreSQL, and the code location (its own gRPC server), the
daemon and the webserver as separate processes. A new machine's push adds its partition and
is recorded by the push sensor, the checks pass, team_daily_usage materializes on its own,
and run history survives a webserver restart."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.devserver import DagsterDev, _free_port, wait_for
from benchmarks.synth import generate
from claude_view_pipeline.config import environ_without_settings

from helpers import REPO

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def start(argv, env, cwd, log):
    return subprocess.Popen(argv, env=env, cwd=cwd, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_team_deployment_records_a_new_hosts_push(store, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy/team/dagster.yaml", home / "dagster.yaml")
    grpc_port, web_port = _free_port(), _free_port()
    (home / "workspace.yaml").write_text((REPO / "deploy/team/workspace.yaml").read_text().replace("4266", str(grpc_port)))
    env = environ_without_settings({**store, "DAGSTER_HOME": str(home), "CLAUDE_VIEW_SENSOR_INTERVAL": "2"})
    web_argv = [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(web_port)]
    procs = [
        start([str(BIN / "dagster"), "api", "grpc", "-m", "assets.team_definitions", "-a", "defs", "-h", "127.0.0.1",
               "-p", str(grpc_port)], env, REPO, tmp_path / "grpc.log"),
        start([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], env, home, tmp_path / "daemon.log"),
    ]
    web = start(web_argv, env, home, tmp_path / "web.log")
    server = DagsterDev(web_port, tmp_path / "none.duckdb", tmp_path)

    def served():
        try:
            return server.gql("{ assetNodes { assetKey { path } } }")["assetNodes"]
        except OSError:
            return None
    try:
        nodes = wait_for(served, 180, "the team webserver to serve the code location")
        assert {n["assetKey"]["path"][0] for n in nodes} == {"team_sessions", "team_daily_usage"}

        corpus = tmp_path / "laptop"
        generate(corpus, claude_sessions=4, codex_sessions=3, seed=500)
        push = subprocess.run([sys.executable, "-m", "claude_view_pipeline", "team", "push", "--host", "laptop-7"],
                              env=environ_without_settings({**store, "HOME": str(tmp_path), "CLAUDE_VIEW_DB": str(tmp_path / "l.duckdb"),
                                                            "CLAUDE_PROJECTS_DIR": str(corpus / "claude/projects"),
                                                            "CODEX_SESSIONS_DIR": str(corpus / "codex/sessions")}),
                              cwd=REPO, capture_output=True, text=True, timeout=300)
        assert push.returncode == 0, push.stderr

        def recorded():
            mats = server.gql("""{ assetOrError(assetKey: {path: ["team_sessions"]}) { ... on Asset {
                                   assetMaterializations(limit: 20) { partition runId } } } }""")["assetOrError"]["assetMaterializations"]
            parts = {m["partition"]: m["runId"] for m in mats}
            return parts if {"laptop-7|claude", "laptop-7|codex"} <= set(parts) else None
        runs = wait_for(recorded, 240, "the push sensor to record both partitions of the new host", interval=2)

        for run_id in runs.values():
            run = wait_for(lambda: (r := server.gql(
                """query($id: ID!) { runOrError(runId: $id) { ... on Run { status eventConnection { events { __typename
                     ... on AssetCheckEvaluationEvent { evaluation { checkName success } } } } } } }""", {"id": run_id})["runOrError"])
                ["status"] in ("SUCCESS", "FAILURE") and r, 120, "the push run to end")
            checks = {e["evaluation"]["checkName"]: e["evaluation"]["success"] for e in run["eventConnection"]["events"]
                      if e["__typename"] == "AssetCheckEvaluationEvent"}
            assert (run["status"], checks) == ("SUCCESS", {"team_identity_unique": True, "team_totals_match_last_push": True})

        def daily():
            mats = server.gql("""{ assetOrError(assetKey: {path: ["team_daily_usage"]}) { ... on Asset {
                                   assetMaterializations(limit: 1) { runId } } } }""")["assetOrError"]["assetMaterializations"]
            return mats or None
        wait_for(daily, 240, "automation to materialize team_daily_usage", interval=2)

        # run history lives in PostgreSQL: a restarted webserver shows it
        stop(web)
        web = start(web_argv, env, home, tmp_path / "web2.log")
        wait_for(served, 180, "the restarted webserver")
        listed = {r["runId"] for r in server.gql("{ runsOrError { ... on Runs { results { runId } } } }")["runsOrError"]["results"]}
        assert set(runs.values()) <= listed
    finally:
        for p in (web, *procs):
            stop(p)
        for log in ("grpc.log", "daemon.log", "web.log"):
            if (tmp_path / log).exists():
                (REPO / "test-artifacts").mkdir(exist_ok=True)
                shutil.copy(tmp_path / log, REPO / "test-artifacts" / f"team-{log}")
