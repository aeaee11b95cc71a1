"""`./pipeline services up|down`: a real PostgreSQL on loopback for the team store, started
(as the postgres user under root), found again by a second `up`, reachable at the printed
address, and stopped; `eval "$(./pipeline services up)"` sets the environment."""

import glob
import os
import shutil
import subprocess
import tempfile

import pytest

from helpers import REPO

pytestmark = pytest.mark.skipif(not glob.glob("/usr/lib/postgresql/*/bin/pg_ctl") and not shutil.which("pg_ctl"),
                                reason="PostgreSQL is not installed (.ci/run installs it)")


@pytest.fixture
def base():
    # a directory the postgres user can reach (pytest's own tmp dirs are private to root)
    path = tempfile.mkdtemp(prefix="cvp-services-", dir="/tmp")
    os.chmod(path, 0o755)
    yield path
    subprocess.run([str(REPO / "pipeline"), "services", "down"], env={**os.environ, "CLAUDE_VIEW_SERVICES_DIR": path},
                   capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


def services(base, *args, shell=None):
    env = {**os.environ, "CLAUDE_VIEW_SERVICES_DIR": base}
    argv = ["bash", "-c", shell] if shell else [str(REPO / "pipeline"), "services", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def psql(port, sql):
    pg = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql")) or [shutil.which("psql")]
    return subprocess.run([pg[-1], "-h", "127.0.0.1", "-p", str(port), "-U", "claude_view", "-d", "claude_view", "-tAc", sql],
                          capture_output=True, text=True)


def test_up_prints_the_environment_and_down_stops_the_server(base):
    first = services(base, "up")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [
        "export CLAUDE_VIEW_TEAM_CATALOG", "export CLAUDE_VIEW_TEAM_DATA", "export CLAUDE_VIEW_DAGSTER_PG_URL"]
    catalog = lines[0].split("=", 1)[1]
    assert catalog.startswith("postgresql+psycopg2://claude_view@127.0.0.1:") and catalog.endswith("/claude_view")
    port = int(catalog.rsplit(":", 1)[1].split("/")[0])
    assert lines[1] == f"export CLAUDE_VIEW_TEAM_DATA={base}/team-data"
    assert lines[2] == f"export CLAUDE_VIEW_DAGSTER_PG_URL=postgresql+psycopg2://claude_view@127.0.0.1:{port}/dagster"
    assert psql(port, "SELECT 40 + 2").stdout.strip() == "42"
    assert services(base, "up").stdout == first.stdout  # found running, not started twice

    evaluated = services(base, shell='eval "$(./pipeline services up)" && echo "$CLAUDE_VIEW_TEAM_CATALOG"')
    assert evaluated.stdout.strip() == catalog

    down = services(base, "down")
    assert (down.returncode, down.stderr.strip()) == (0, "stopped")
    assert psql(port, "SELECT 1").returncode != 0  # nothing listens there now
    assert services(base, "down").stderr.strip() == "not running"
