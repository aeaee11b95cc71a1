"""Hostile but fair inputs and settings: a moved session tree, file names that are not
UTF-8, what other local users can read, and the one-line errors a user gets instead of a
traceback. Each case runs the real command line on real files."""

import json
import os
import shutil
import stat
import subprocess

import duckdb
import pytest

from helpers import FIXTURES, missing, run_cli

SESSION = "claude:5c1b0d2e-0001-4a5b-9c6d-7e8f90a1b2c3"
PROMPT = ('{"parentUuid":"5c1b0d2e-0002-4000-8000-000000000000","isSidechain":false,"userType":"external",'
          '"cwd":"/home/dev/webapp","sessionId":"5c1b0d2e-0001-4a5b-9c6d-7e8f90a1b2c3","version":"2.0.14",'
          '"type":"user","message":{"role":"user","content":"and now?"},"uuid":"5c1b0d2e-0003-4000-8000-000000000000",'
          '"timestamp":"2026-02-01T09:01:00.000Z"}\n')


def rows(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_moved_tree_is_followed_to_its_new_place(tmp_path):
    old = tmp_path / "a" / "projects"
    (old / "-home-dev-webapp").mkdir(parents=True)
    shutil.copy(FIXTURES / "claude" / "minimal.jsonl", old / "-home-dev-webapp" / "minimal.jsonl")
    db = tmp_path / "i.duckdb"
    assert run_cli("index", "--db", str(db), "--sources", "claude", "--claude-dir", str(old)).returncode == 0

    new = tmp_path / "b" / "projects"  # sorts after the old place
    new.parent.mkdir()
    shutil.move(old, new)
    with open(new / "-home-dev-webapp" / "minimal.jsonl", "a") as fh:
        fh.write(PROMPT)
    # a relative root, given from another directory
    proc = run_cli("index", "--db", str(db), "--sources", "claude", "--claude-dir", "b/projects", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    moved = str(new / "-home-dev-webapp" / "minimal.jsonl")
    assert rows(db, "SELECT id, file_path, user_prompt_count, file_missing FROM sessions") == [(SESSION, moved, 2, False)]
    assert rows(db, "SELECT path, status, missing FROM indexed_files ORDER BY path") == [
        (str(old / "-home-dev-webapp" / "minimal.jsonl"), "superseded", True), (moved, "indexed", False)]
    assert json.loads(proc.stdout)["sources"]["claude"]["files_rejected"] == {}


def test_file_names_that_are_not_utf8_are_indexed_and_the_run_goes_on(tmp_path):
    from claude_view_pipeline.freshness import source_drift
    from claude_view_pipeline.sources import SOURCE_NAMES, Source

    base = os.fsencode(tmp_path)
    claude = base + b"/projects"
    os.makedirs(claude + b"/-home-caf\xe9")  # a Latin-1 directory name
    shutil.copy(FIXTURES / "claude" / "minimal.jsonl", os.fsdecode(claude + b"/-home-caf\xe9/minimal.jsonl"))
    os.makedirs(claude + b"/-home-dev")
    shutil.copy(FIXTURES / "claude" / "tool_heavy.jsonl", os.fsdecode(claude + b"/-home-dev/tool_heavy.jsonl"))
    codex = base + b"/sessions-\xff"
    os.makedirs(codex + b"/2026/01/10")
    shutil.copy(FIXTURES / "codex" / "minimal.jsonl",
                os.fsdecode(codex + b"/2026/01/10/rollout-2026-01-10T09-00-00-0199a000-0000-7000-8000-000000000001.jsonl"))
    db = tmp_path / "i.duckdb"
    args = ["index", "--db", str(db), "--claude-dir", os.fsdecode(claude), "--codex-dir", os.fsdecode(codex), "--json"]
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert {s: v["sessions"] for s, v in json.loads(first.stdout)["sources"].items()} == {**dict.fromkeys(SOURCE_NAMES, 0), "claude": 2, "codex": 1}
    # stored as text, the undecodable byte written as \xNN
    assert rows(db, "SELECT path FROM indexed_files WHERE path LIKE '%\\x%' ORDER BY path") == [
        (f"{tmp_path}/projects/-home-caf\\xe9/minimal.jsonl",),
        (f"{tmp_path}/sessions-\\xff/2026/01/10/rollout-2026-01-10T09-00-00-0199a000-0000-7000-8000-000000000001.jsonl",)]
    again = run_cli(*args)
    assert [v["files_parsed"] for v in json.loads(again.stdout)["sources"].values()] == [0] * len(SOURCE_NAMES)  # recognised as unchanged
    assert source_drift(Source.CODEX, [os.fsdecode(codex)], db).in_sync
    # usage rescans the recorded roots, the one that is not UTF-8 included
    answer = run_cli("usage", "daily", "--db", str(db), "--json", "--timezone", "UTC")
    assert answer.returncode == 0, answer.stderr
    assert sum(r["total_tokens"] for r in json.loads(answer.stdout)) == rows(db, "SELECT sum(total_tokens) FROM sessions")[0][0]


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_what_the_index_writes_is_private_whatever_the_umask(tmp_path):
    root = tmp_path / "projects" / "-home-dev-webapp"
    root.mkdir(parents=True)
    shutil.copy(FIXTURES / "claude" / "minimal.jsonl", root / "minimal.jsonl")
    db = tmp_path / "data" / "i.duckdb"  # its directory is created by the run
    old = os.umask(0o022)  # a typical, permissive umask; the child inherits it
    try:
        args = ["index", "--db", str(db), "--sources", "claude", "--claude-dir", str(tmp_path / "projects")]
        assert run_cli(*args).returncode == 0
        assert run_cli("backup", "--db", str(db)).returncode == 0
        (backup,) = (db.parent / "backups").iterdir()
        prom = db.parent / "claude_view_pipeline.prom"
        staging = db.parent / "i.duckdb.staging"
        assert {p.name: mode(p) for p in (db.parent, db, prom, staging, db.parent / "backups", backup)} == {
            "data": 0o700, "i.duckdb": 0o600, "claude_view_pipeline.prom": 0o600, "i.duckdb.staging": 0o700,
            "backups": 0o700, backup.name: 0o600}
        # the hand-off (full message text) is gone once the run has loaded it
        assert [p for p in staging.rglob("*") if p.is_file()] == []

        # an index an older release left readable by others is tightened by the next run;
        # a metrics file opened up on purpose (node_exporter runs as another user) stays so
        os.chmod(db, 0o644)
        os.chmod(prom, 0o644)
        with open(root / "minimal.jsonl", "a") as fh:
            fh.write(PROMPT)
        assert run_cli(*args).returncode == 0
        assert (mode(db), mode(prom)) == (0o600, 0o644)
    finally:
        os.umask(old)


def one_line_failure(proc) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("claude-view-pipeline:")]
    return line


def claude_root(tmp_path):
    root = tmp_path / "projects" / "-home-dev-webapp"
    root.mkdir(parents=True)
    shutil.copy(FIXTURES / "claude" / "minimal.jsonl", root / "minimal.jsonl")
    return tmp_path / "projects"


def test_a_corrupt_index_names_the_backups_and_the_rebuild(tmp_path):
    db = tmp_path / "i.duckdb"
    db.write_bytes(b"not a database\n" * 100)
    proc = run_cli("index", "--db", str(db), "--sources", "claude", "--claude-dir", str(claude_root(tmp_path)))
    assert one_line_failure(proc) == (
        f"claude-view-pipeline: run failed: the index {db} is not a readable DuckDB database (damaged, or another "
        f"kind of file); restore a backup from {tmp_path / 'backups'} with 'claude-view-pipeline restore FILE', "
        "or move the file away and run 'index' to build it again")
    assert proc.stdout == ""  # no empty summary table


@pytest.fixture
def small_mount(tmp_path):
    """A 16 MB tmpfs of our own (needs the right to mount, as CI has; skipped elsewhere)."""
    point = tmp_path / "mnt"
    point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(point)], capture_output=True).returncode:
        missing("the right to mount a tmpfs", "CI runs as root and may mount")
    yield point
    subprocess.run(["umount", "-l", str(point)], check=True)


def test_a_full_disk_says_so_and_the_next_run_converges(tmp_path, small_mount):
    root = claude_root(tmp_path)
    db = small_mount / "i.duckdb"
    args = ["index", "--db", str(db), "--sources", "claude", "--claude-dir", str(root)]
    assert run_cli(*args).returncode == 0
    filler = small_mount / "filler"
    with open(filler, "wb") as fh:  # fill what is left
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    shutil.copy(FIXTURES / "claude" / "tool_heavy.jsonl", root / "-home-dev-webapp" / "tool_heavy.jsonl")
    assert one_line_failure(run_cli(*args)) == (
        f"claude-view-pipeline: run failed: the disk that holds {small_mount} is full; free some space (or choose "
        "another place with --db / CLAUDE_VIEW_DB) and run again (an index write that fails is rolled back: the "
        "index is as it was)")
    assert rows(db, "SELECT count(*) FROM sessions") == [(1,)]  # as it was
    filler.unlink()
    assert run_cli(*args).returncode == 0
    assert rows(db, "SELECT count(*) FROM sessions") == [(2,)]


def test_a_read_only_place_says_so(tmp_path, small_mount):
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    db = small_mount / "index" / "i.duckdb"
    proc = run_cli("index", "--db", str(db), "--sources", "claude", "--claude-dir", str(claude_root(tmp_path)))
    assert one_line_failure(proc) == (
        f"claude-view-pipeline: run failed: cannot write under {db.parent}: the file system is read-only; choose a "
        "writable place with --db or CLAUDE_VIEW_DB")
