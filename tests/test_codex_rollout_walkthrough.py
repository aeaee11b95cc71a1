"""The rollout playbook (docs/testing/codex-rollout-playbook.md), walked with the real CLI on
one real DuckDB file: schema migration -> Codex-disabled warm start -> Codex canary -> full
enable -> full reindex -> disable -> re-enable -> rollback to the pre-migration backup ->
migrate again. At every step no Claude row is lost or changed, no Codex row is duplicated,
and every integrity check passes."""

import re

import duckdb

from claude_view_pipeline.integrity import CHECKS, run_check
from claude_view_pipeline.store import connect, migrate
from claude_view_pipeline.store.migrate import available_migrations
from benchmarks.synth import generate

from helpers import run_cli


def cli(db, *args, codex=True, expect=0):
    env = {"CLAUDE_PROJECTS_DIR": str(db.parent / "corpus/claude/projects"),
           "CODEX_SESSIONS_DIR": str(db.parent / "corpus/codex/sessions"),
           "ENABLE_CODEX_SOURCE": "true" if codex else "false"}
    proc = run_cli(*args, "--db", str(db), env=env)
    assert proc.returncode == expect, (args, proc.stdout, proc.stderr)
    return proc.stdout


def state(db):
    """(Claude content, Codex content, Codex id counts), and every check must pass."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        for check in CHECKS:
            if check.name != "partition_writes_own_source":
                assert run_check(check, con).passed, check.name
        claude = (con.execute("SELECT * EXCLUDE (run_id, indexed_at) FROM sessions WHERE source = 'claude' ORDER BY id").fetchall(),
                  con.execute("SELECT * EXCLUDE (run_id) FROM messages WHERE source = 'claude' ORDER BY session_id, ordinal").fetchall())
        codex = (con.execute("SELECT * EXCLUDE (run_id, indexed_at) FROM sessions WHERE source = 'codex' ORDER BY id").fetchall(),
                 con.execute("SELECT * EXCLUDE (run_id) FROM messages WHERE source = 'codex' ORDER BY session_id, ordinal").fetchall())
        dup = con.execute("SELECT count(*) - count(DISTINCT source_session_id) FROM sessions WHERE source = 'codex'").fetchone()[0]
    finally:
        con.close()
    assert dup == 0
    return claude, codex


def claude_ids(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT id FROM sessions WHERE source = 'claude' ORDER BY id").fetchall()]
    finally:
        con.close()


def test_rollout_and_rollback(tmp_path):
    truth = generate(tmp_path / "corpus", claude_sessions=6, codex_sessions=5, seed=61)["sessions"]
    claude_truth = sorted(k for k in truth if k.startswith("claude:"))
    db = tmp_path / "index.duckdb"

    # the index as the Claude-only release left it: schema v1, raw ids
    con = connect(db)
    migrate(con, target=1)
    for sid in claude_truth:
        raw = sid.split(":", 1)[1]
        con.execute("INSERT INTO sessions (id, file_path, total_tokens) VALUES (?, ?, 0)", [raw, f"/old/{raw}.jsonl"])
        con.execute("INSERT INTO messages (session_id, source, ordinal, role) VALUES (?, 'claude', 0, 'user')", [raw])
    con.close()

    # 1. schema migration, with a backup taken first
    out = cli(db, "migrate")
    backup = re.search(r"backup of the previous schema: (\S+)", out).group(1)
    assert "applied migration(s) 002" in out
    assert claude_ids(db) == claude_truth
    state(db)

    # 2. warm start with Codex disabled
    cli(db, "index", codex=False)
    claude, codex = state(db)
    assert len(claude[0]) == 6 and codex == ([], [])
    assert f"schema v{available_migrations()[-1][0]}" in cli(db, "status")

    # 3. canary: Codex alone
    cli(db, "index", "--sources", "codex")
    c, codex = state(db)
    assert c == claude and len(codex[0]) == 5

    # 4. full enable, 5. full reindex: nothing moves, nothing doubles
    cli(db, "index")
    assert state(db) == (claude, codex)
    cli(db, "index", "--full")
    assert state(db) == (claude, codex)

    # 6. disable Codex again: its rows stay; a Codex-only request is refused
    cli(db, "index", codex=False)
    assert state(db) == (claude, codex)
    cli(db, "index", "--sources", "codex", codex=False, expect=2)
    assert state(db) == (claude, codex)

    # 7. re-enable
    cli(db, "index")
    assert state(db) == (claude, codex)

    # 8. roll back to the pre-migration backup, then migrate again
    out = cli(db, "restore", backup)
    assert "schema v1" in out and "replaced index is kept" in out
    cli(db, "migrate")
    assert claude_ids(db) == claude_truth  # no Claude session lost
    c, cx = state(db)
    assert cx == ([], [])  # the backup predates Codex
    # and going forward again converges to the same index
    cli(db, "index")
    assert state(db) == (claude, codex)
