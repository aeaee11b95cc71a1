"""A real `index` process killed with SIGKILL at several points leaves an index that opens,
passes every integrity check and, after the next run, equals a clean run's content. Two
runs at once neither corrupt nor lose anything; a writer held too long gives a clear error."""

import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from claude_view_pipeline.integrity import CHECKS, run_check
from claude_view_pipeline.config import environ_without_settings
from claude_view_pipeline.faults import POINTS
from benchmarks.synth import generate

from helpers import REPO, run_cli


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("crash-corpus")
    generate(out, claude_sessions=40, codex_sessions=40, seed=21)
    return out


def cli_args(corpus, db):
    return ["index", "--db", str(db), "--claude-dir", str(corpus / "claude/projects"), "--codex-dir", str(corpus / "codex/sessions"), "--json"]


def content(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return (
            con.execute("SELECT * EXCLUDE (run_id, indexed_at) FROM sessions ORDER BY id").fetchall(),
            con.execute("SELECT * EXCLUDE (run_id) FROM messages ORDER BY session_id, ordinal").fetchall(),
        )
    finally:
        con.close()


def assert_checks_pass(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        for check in CHECKS:
            if check.name != "partition_writes_own_source":  # needs the run that wrote
                outcome = run_check(check, con)
                assert outcome.passed, (check.name, outcome.failing_rows)
    finally:
        con.close()


@pytest.fixture(scope="module")
def clean(corpus, tmp_path_factory):
    db = tmp_path_factory.mktemp("clean") / "index.duckdb"
    proc = run_cli(*cli_args(corpus, db))
    assert proc.returncode == 0, proc.stderr
    return content(db)


def start_cli(args, env_extra):
    return subprocess.Popen([sys.executable, "-m", "claude_view_pipeline", *args], cwd=REPO, env=environ_without_settings(env_extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


@pytest.mark.parametrize("point", POINTS)
def test_sigkill_at_any_point_leaves_a_sound_index(tmp_path, corpus, clean, point):
    db = tmp_path / "index.duckdb"
    marker = tmp_path / "paused"
    proc = start_cli(cli_args(corpus, db), {"CLAUDE_VIEW_PAUSE_AT": point, "CLAUDE_VIEW_PAUSE_FILE": str(marker), "CLAUDE_VIEW_WORKERS": "1"})
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"never reached {point}"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    if db.exists():
        assert_checks_pass(db)  # opens, and is sound
        sessions, messages = content(db)
        if point in ("after_discovery", "mid_parse", "before_commit"):
            assert (sessions, messages) == ([], [])  # nothing of the first partition is half-written
        else:  # after_commit: the first partition (claude) is complete, the other untouched
            assert sessions == [s for s in clean[0] if s[1] == "claude"]
    again = run_cli(*cli_args(corpus, db))
    assert again.returncode == 0, again.stderr
    assert content(db) == clean
    assert_checks_pass(db)


def test_two_runs_at_once(tmp_path, corpus, clean):
    db = tmp_path / "index.duckdb"
    procs = [start_cli(cli_args(corpus, db), {}) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    assert content(db) == clean
    assert_checks_pass(db)


def test_a_writer_held_too_long_is_a_clear_error(tmp_path, corpus):
    db = tmp_path / "index.duckdb"
    holder = duckdb.connect(str(db))  # another process's writer, as far as the CLI can tell
    try:
        proc = run_cli(*cli_args(corpus, db), env={"CLAUDE_VIEW_LOCK_TIMEOUT": "2"})
    finally:
        holder.close()
    assert proc.returncode == 1
    assert "is locked by another process" in proc.stdout + proc.stderr
    assert "CLAUDE_VIEW_LOCK_TIMEOUT" in proc.stdout + proc.stderr


def test_a_writer_released_within_the_wait_lets_the_run_go_on(tmp_path, corpus, clean):
    db = tmp_path / "index.duckdb"
    holder = duckdb.connect(str(db))
    try:
        proc = start_cli(cli_args(corpus, db), {"CLAUDE_VIEW_LOCK_TIMEOUT": "60"})
        time.sleep(2.0)  # the run is waiting for the file, backing off between tries
        assert proc.poll() is None
    finally:
        holder.close()
    out, errs = proc.communicate(timeout=300)
    assert proc.returncode == 0, errs[-2000:]
    assert content(db) == clean


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def running(pid: int) -> bool:
    """Alive and not a zombie (an exited child the container's init has not reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_ctrl_c_stops_the_whole_run_promptly_workers_included(tmp_path_factory, tmp_path):
    """SIGINT to the run alone (as a supervisor sends it; a terminal sends it to the whole
    group, which workers ignore) while parse workers are busy: the run ends within seconds,
    its workers with it, the index as it was; the next run completes."""
    corpus = tmp_path_factory.mktemp("ctrl-c-corpus")
    generate(corpus, claude_sessions=450, codex_sessions=0, seed=23)  # enough files for the worker pool
    db = tmp_path / "index.duckdb"
    marker = tmp_path / "paused"
    args = ["index", "--db", str(db), "--sources", "claude", "--claude-dir", str(corpus / "claude/projects")]
    proc = start_cli(args, {"CLAUDE_VIEW_PAUSE_AT": "mid_parse", "CLAUDE_VIEW_PAUSE_FILE": str(marker), "CLAUDE_VIEW_WORKERS": "2"})
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "never reached mid_parse"
            time.sleep(0.05)
        workers = children(proc.pid)
        assert len(workers) >= 2  # the parse workers (and multiprocessing's helper)
        started = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        stopped_in = time.monotonic() - started
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert err.decode().strip().splitlines()[-1] == "claude-view-pipeline: interrupted; the index keeps its last committed state"
    assert "Traceback" not in err.decode()
    assert stopped_in < 10, stopped_in
    time.sleep(0.5)
    assert [p for p in workers if running(p)] == []
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM sessions").fetchall() == [(0,)]  # nothing half-written
    con.close()
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM sessions").fetchall() == [(450,)]
    con.close()


def test_ctrl_c_during_the_write_rolls_it_back(tmp_path, corpus, clean):
    """SIGINT while the index write's transaction is open (stopped at before_commit, every
    row of the first partition written but not committed): the run ends with 130, nothing of
    the write is in the index, and the next run completes."""
    db = tmp_path / "index.duckdb"
    marker = tmp_path / "paused"
    proc = start_cli(cli_args(corpus, db), {"CLAUDE_VIEW_PAUSE_AT": "before_commit", "CLAUDE_VIEW_PAUSE_FILE": str(marker),
                                            "CLAUDE_VIEW_WORKERS": "1"})
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "never reached before_commit"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert err.decode().strip().splitlines()[-1] == "claude-view-pipeline: interrupted; the index keeps its last committed state"
    assert content(db) == ([], [])  # the open write was rolled back
    assert_checks_pass(db)
    again = run_cli(*cli_args(corpus, db))
    assert again.returncode == 0, again.stderr
    assert content(db) == clean
