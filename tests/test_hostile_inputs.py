"""Hostile but fair inputs and settings: a moved session tree, file names that are not
UTF-8, what other local users can read, and the one-line errors a user gets instead of a
traceback. Each case runs the real command line on real files."""

import json
import os
import shutil
import stat

import duckdb

from helpers import FIXTURES, run_cli

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
