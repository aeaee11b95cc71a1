"""Shared test helpers: paths to the repo and the shared corpus, JSONL writing, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import orjson

from claude_view_pipeline.config import environ_without_settings
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CLAUDE_VIEW_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"
FIXTURES = REPO / "fixtures"


def write_jsonl(path: Path, lines: list[dict | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for line in lines:
            fh.write((line.encode() if isinstance(line, str) else orjson.dumps(line)) + b"\n")
    return path


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real console script in a subprocess, with a clean, controlled environment."""
    return subprocess.run(
        [sys.executable, "-m", "claude_view_pipeline", *args],
        capture_output=True,
        text=True,
        env=environ_without_settings(env),
        cwd=cwd or REPO,
        timeout=600,
    )


# CI installs every real component the tests use (.ci/run): there, one that is missing is a
# failure, never a skip that leaves the run green
ON_CI = os.environ.get("CI", "").strip().lower() in ("true", "1")


def missing(component: str, how: str) -> None:
    """A real component a test needs is not here: fail under CI=true, skip elsewhere."""
    if ON_CI:
        pytest.fail(f"{component} is missing on CI; {how}", pytrace=False)
    pytest.skip(f"{component} is not here ({how})")


@pytest.fixture(scope="session")
def ccusage() -> str:
    """The ccusage 20.0.24 binary the comparisons run (.ci/run installs it)."""
    from benchmarks.bench import find_ccusage

    found = find_ccusage(None)
    if not found:
        missing("ccusage", ".ci/run installs ccusage@20.0.24 into .tools/ccusage (npm install --prefix .tools/ccusage ccusage@20.0.24)")
    return found


def source_rows(db, source: str) -> tuple[list, list]:
    """Every column of a source's sessions and messages, in a fixed order (bookkeeping included)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return (con.execute("SELECT * FROM sessions WHERE source = ? ORDER BY id", [source]).fetchall(),
                con.execute("SELECT * FROM messages WHERE source = ? ORDER BY session_id, ordinal", [source]).fetchall())
    finally:
        con.close()


@pytest.fixture
def shared_corpus() -> Path:
    if not CORPUS.is_dir():
        missing(f"the shared corpus ({CORPUS})", "CI checks it out beside the repository; set CLAUDE_VIEW_SHARED elsewhere")
    return CORPUS


# a test that reads the shared corpus of real session files
requires_corpus = pytest.mark.usefixtures("shared_corpus")


# what the synthetic generators record as ground truth, and the index holds to compare
TRUTH_COLUMNS = (
    "id", "input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "reasoning_tokens",
    "total_tokens", "user_prompt_count", "tool_call_count", "api_call_count", "primary_model",
)


def indexed_sessions(db) -> dict[str, dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            f"SELECT {', '.join(TRUTH_COLUMNS)},"
            " strftime(started_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%g') || 'Z',"
            " strftime(ended_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%g') || 'Z' FROM sessions"
        ).fetchall()
    finally:
        con.close()
    cols = (*TRUTH_COLUMNS, "started_at", "ended_at")
    return {r[0]: dict(zip(cols, r)) for r in rows}


def assert_matches_ground_truth(db, truth: dict) -> None:
    got = indexed_sessions(db)
    assert sorted(got) == sorted(truth)
    mismatches = {sid: {k: (got[sid][k], t[k]) for k in got[sid] if got[sid][k] != t[k]} for sid, t in truth.items()}
    assert {sid: d for sid, d in mismatches.items() if d} == {}
