"""Start and talk to a real `dagster dev` on loopback, in its own process group and with
its own DAGSTER_HOME (carrying the project's dagster.yaml). Used by the end-to-end tests and
the sensor-lag benchmark."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import duckdb

from claude_view_pipeline.config import environ_without_settings

from .synth import corpus_env

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DagsterDev:
    def __init__(self, port: int, db: Path, corpus: Path):
        self.port, self.db, self.corpus = port, db, corpus

    def gql(self, query: str, variables: dict | None = None) -> dict:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            data = json.loads(resp.read())
        assert "errors" not in data, data
        return data["data"]

    def run(self, run_id: str) -> dict:
        return self.gql(
            """query($id: ID!) { runOrError(runId: $id) { ... on Run { status
                 eventConnection { events { __typename ... on ExecutionStepFailureEvent { stepKey error { message } } } } } } }""",
            {"id": run_id},
        )["runOrError"]

    def sessions(self) -> dict[str, int]:
        """Sessions per source, read while runs may be writing (DuckDB: retry on the lock)."""
        for _ in range(100):
            try:
                con = duckdb.connect(str(self.db), read_only=True)
            except duckdb.Error:
                time.sleep(0.2)
                continue
            try:
                return dict(con.execute("SELECT source, count(*) FROM sessions GROUP BY source").fetchall())
            finally:
                con.close()
        raise AssertionError("index stayed locked")

    def has_session(self, session_id: str) -> bool:
        if not self.db.exists():
            return False
        try:
            con = duckdb.connect(str(self.db), read_only=True)
        except duckdb.Error:
            return False
        try:
            return bool(con.execute("SELECT count(*) FROM sessions WHERE id = ?", [session_id]).fetchone()[0])
        except duckdb.Error:
            return False
        finally:
            con.close()


def wait_for(predicate, timeout: float, what: str, interval: float = 1.0):
    """Poll until predicate() is truthy; its value, or AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")



@contextmanager
def dagster_dev(base: Path, corpus: Path, sensor_interval_s: int, log_name: str = "dagster-dev.log"):
    """`dagster dev` serving this project over the synthetic corpus in ``corpus`` (every
    source's directory in it), indexing into ``base/index.duckdb``; stopped (the
    whole process group) on exit. Yields (server, log text getter)."""
    db = base / "index.duckdb"
    env_extra = {
        "CLAUDE_VIEW_DB": str(db),
        **corpus_env(corpus),
        "CLAUDE_VIEW_SENSOR_INTERVAL": str(sensor_interval_s),
    }
    home = base / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")  # the project's pool of one
    env = environ_without_settings({"DAGSTER_HOME": str(home), **env_extra})
    port = _free_port()
    log_path = base / log_name
    log = open(log_path, "w")
    dagster = Path(sys.executable).parent / "dagster"
    proc = subprocess.Popen(
        [str(dagster), "dev", "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = DagsterDev(port, db, corpus)
    try:
        def ready():
            if proc.poll() is not None:
                raise RuntimeError(f"dagster dev exited ({proc.returncode}):\n" + log_path.read_text()[-3000:])
            try:
                return server.gql("{ assetNodes { assetKey { path } } }")["assetNodes"]
            except OSError:
                return None
        wait_for(ready, 180, "dagster dev to serve the asset graph")
        yield server, log_path.read_text
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        log.close()
