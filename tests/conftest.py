"""Fixtures shared by the tests."""

import os
from pathlib import Path

import pytest

from claude_view_pipeline.config import is_setting
from helpers import ccusage, shared_corpus  # noqa: F401 - fixtures for every test module


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty HOME with no Claude/Codex env vars: nothing leaks in from the machine."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    for k in list(os.environ):
        if is_setting(k):
            monkeypatch.delenv(k)
    return h



@pytest.fixture(scope="session")
def store():
    """A real PostgreSQL started by `./pipeline services up` for the team tests (stopped at
    the end); its environment as a dict. Its directory is one the postgres user can reach."""
    import re
    import shutil
    import subprocess
    import tempfile

    from helpers import REPO, missing

    base = tempfile.mkdtemp(prefix="cvp-team-", dir="/tmp")
    os.chmod(base, 0o755)
    env = {**os.environ, "CLAUDE_VIEW_SERVICES_DIR": base}
    up = subprocess.run([str(REPO / "pipeline"), "services", "up"], capture_output=True, text=True, env=env)
    if up.returncode:
        missing("PostgreSQL", f".ci/run installs Debian's postgresql ({up.stderr.strip()})")
    yield dict(re.findall(r"export (\w+)=(\S+)", up.stdout))
    subprocess.run([str(REPO / "pipeline"), "services", "down"], env=env, capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def fresh_store(store, tmp_path):
    """A team store of its own: a new catalog database in the test PostgreSQL, a new data
    directory (the session's store is shared by the tests that need no empty one)."""
    import uuid

    import sqlalchemy

    server, _ = store["CLAUDE_VIEW_TEAM_CATALOG"].rsplit("/", 1)
    name = f"team_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        con.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    data = tmp_path / "team-data"
    data.mkdir()
    return {**store, "CLAUDE_VIEW_TEAM_CATALOG": f"{server}/{name}", "CLAUDE_VIEW_TEAM_DATA": str(data)}
