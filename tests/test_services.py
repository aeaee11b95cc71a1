"""`./pipeline services up|down`: a real PostgreSQL on loopback for the team store, started
(as the postgres user under root), found again by a second `up`, reachable at the printed
address, and stopped; `eval "$(./pipeline services up)"` sets the environment."""

import glob
import os
import shutil
import subprocess
import tempfile

import pytest

from helpers import REPO, missing

@pytest.fixture(autouse=True)
def postgresql_installed():
    if not glob.glob("/usr/lib/postgresql/*/bin/pg_ctl") and not shutil.which("pg_ctl"):
        missing("PostgreSQL", ".ci/run installs Debian's postgresql")


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


def test_a_services_directory_that_is_a_file_is_one_line(tmp_path):
    in_the_way = tmp_path / "services"
    in_the_way.write_text("not a directory")
    proc = services(str(in_the_way), "up")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"services: cannot use {in_the_way}") and line.endswith("set CLAUDE_VIEW_SERVICES_DIR to a directory you can write")


@pytest.mark.skipif(os.geteuid() != 0, reason="runuser is needed only under root")
def test_without_runuser_under_root_it_is_one_line(base, tmp_path):
    # a PATH with everything but runuser
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for d in os.environ["PATH"].split(os.pathsep):
        for p in glob.glob(os.path.join(d, "*")):
            name = os.path.basename(p)
            if name != "runuser" and not (bin_dir / name).exists() and os.access(p, os.X_OK):
                (bin_dir / name).symlink_to(p)
    env = {**os.environ, "CLAUDE_VIEW_SERVICES_DIR": base, "PATH": str(bin_dir)}
    proc = subprocess.run([str(REPO / ".venv/bin/python"), "-m", "claude_view_pipeline.services", "up"], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("services: PostgreSQL does not run as root, and runuser (util-linux)")
