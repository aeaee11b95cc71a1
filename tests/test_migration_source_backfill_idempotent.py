"""Legacy-id backfill: a database written under schema v1 (built
here from v1's own DDL, migrations/001_initial.sql) migrates to canonical identity, keeps
a backup, loses nothing, creates no duplicate, and a second run changes nothing."""

from datetime import datetime, timezone

import duckdb
import pytest

from claude_view_pipeline.store import connect, migrate
from claude_view_pipeline.store.backup import describe, restore
from claude_view_pipeline.store.migrate import available_migrations

T1 = datetime(2026, 1, 1, tzinfo=timezone.utc)
T2 = datetime(2026, 1, 2, tzinfo=timezone.utc)

# (v1 id, source, source_session_id, file_path, indexed_at, parent_session_id)
V1_SESSIONS = [
    ("abc", None, None, "/h/.claude/projects/p/abc.jsonl", T1, None),  # raw id, Claude era
    ("codex:def", "codex", None, "/h/.codex/sessions/2026/01/01/rollout-x-def.jsonl", T1, None),  # already prefixed
    ("codex:ghi", None, "", "/h/.codex/sessions/rollout-ghi.jsonl", T1, None),  # prefixed, empty ssid
    ("jkl", None, None, "/h/.codex/sessions/2026/01/02/rollout-2026-01-02T00-00-00-jkl.jsonl", T1, None),  # raw, rollout path
    ("xyz", "claude", "real-id", "/h/.claude/projects/p/real-id.jsonl", T1, "abc"),  # ssid given, parent raw
    ("dup", "claude", None, "/h/.claude/projects/p/dup.jsonl", T1, None),  # the same session twice:
    ("claude:dup", "claude", "dup", "/h/.claude/projects/p/dup.jsonl", T2, None),  # ... the later row wins
    ("claude:", None, None, "/h/.claude/projects/p/broken.jsonl", T1, None),  # no recoverable id
    ("   ", "claude", "  ", "/h/.claude/projects/p/blank.jsonl", T1, None),  # blank id
]
# (v1 session id, ordinal, role)
V1_MESSAGES = [("abc", 0, "user"), ("abc", 1, "assistant"), ("codex:def", 0, "user"), ("codex:ghi", 0, "user"),
               ("jkl", 0, "user"), ("xyz", 0, "user"), ("dup", 0, "user"), ("claude:dup", 0, "user"),
               ("claude:dup", 1, "assistant"), ("claude:", 0, "user"), ("   ", 0, "user")]

EXPECTED_SESSIONS = [
    ("claude:abc", "claude", "abc", None),
    ("claude:dup", "claude", "dup", None),
    ("claude:real-id", "claude", "real-id", "claude:abc"),
    ("codex:def", "codex", "def", None),
    ("codex:ghi", "codex", "ghi", None),
    ("codex:jkl", "codex", "jkl", None),
]
EXPECTED_MESSAGES = [
    ("claude:abc", 0, "claude"), ("claude:abc", 1, "claude"), ("claude:dup", 0, "claude"), ("claude:dup", 1, "claude"),
    ("claude:real-id", 0, "claude"), ("codex:def", 0, "codex"), ("codex:ghi", 0, "codex"), ("codex:jkl", 0, "codex"),
]


def build_v1(db) -> None:
    con = connect(db)
    assert migrate(con, target=1).applied == [1]
    for sid, source, ssid, path, at, parent in V1_SESSIONS:
        con.execute(
            "INSERT INTO sessions (id, source, source_session_id, file_path, indexed_at, parent_session_id, total_tokens)"
            " VALUES (?, ?, ?, ?, ?, ?, 7)", [sid, source, ssid, path, at, parent])
    for sid, ordinal, role in V1_MESSAGES:
        con.execute("INSERT INTO messages (session_id, source, ordinal, role) VALUES (?, 'claude', ?, ?)", [sid, ordinal, role])
    con.close()


def snapshot(con):
    return (
        con.execute("SELECT * FROM sessions ORDER BY id").fetchall(),
        con.execute("SELECT * FROM messages ORDER BY session_id, ordinal").fetchall(),
        con.execute("SELECT * FROM legacy_unresolved_sessions ORDER BY id").fetchall(),
        con.execute("SELECT * FROM legacy_unresolved_messages ORDER BY session_id, ordinal").fetchall(),
    )


@pytest.fixture
def migrated(tmp_path):
    db = tmp_path / "index.duckdb"
    build_v1(db)
    con = connect(db)
    report = migrate(con)
    yield db, con, report
    con.close()


def test_backfill_gives_canonical_identity(migrated):
    db, con, report = migrated
    assert report.applied == [v for v, _, _ in available_migrations() if v > 1]
    assert con.execute("SELECT id, source, source_session_id, parent_session_id FROM sessions ORDER BY id").fetchall() == EXPECTED_SESSIONS
    assert con.execute("SELECT session_id, ordinal, source FROM messages ORDER BY session_id, ordinal").fetchall() == EXPECTED_MESSAGES
    # the later of the two 'dup' rows survived, with its own two messages
    assert con.execute("SELECT indexed_at FROM sessions WHERE id = 'claude:dup'").fetchone()[0] == T2
    # identity that cannot be recovered is set aside with its messages, not lost
    assert con.execute("SELECT id FROM legacy_unresolved_sessions ORDER BY id").fetchall() == [("   ",), ("claude:",)]
    assert con.execute("SELECT session_id FROM legacy_unresolved_messages ORDER BY session_id").fetchall() == [("   ",), ("claude:",)]
    # the invariants the index relies on
    assert con.execute(
        "SELECT count(*) FROM sessions WHERE source IS NULL OR source NOT IN ('claude','codex') OR coalesce(trim(source_session_id), '') = ''"
        " OR id <> source || ':' || source_session_id").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM messages WHERE session_id NOT IN (SELECT id FROM sessions)").fetchone()[0] == 0
    # the database now refuses what v1 allowed (which sources exist is the registry's to say,
    # and the check sessions_source_valid's to hold: migration 013)
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO sessions (id, source, source_session_id) VALUES ('claude:x', 'claude', '')")
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO sessions (id, source, source_session_id) VALUES ('claude:dup2', 'claude', 'dup')")


def test_backfill_twice_changes_nothing(migrated, tmp_path):
    db, con, _ = migrated
    before = snapshot(con)
    assert migrate(con).applied == []  # recorded: not applied again
    assert snapshot(con) == before
    # and the backfill itself, run again on the canonical data it produced, is a no-op
    db2 = tmp_path / "at-v2.duckdb"
    build_v1(db2)
    con2 = connect(db2)
    migrate(con2, target=2)
    at_v2 = snapshot(con2)
    (sql,) = [s for v, _, s in available_migrations() if v == 2]
    con2.execute("BEGIN")
    con2.execute(sql)
    con2.execute("COMMIT")
    assert snapshot(con2) == at_v2
    con2.close()


def test_a_backup_is_taken_before_and_restores_v1(migrated, tmp_path):
    db, con, report = migrated
    assert report.backup is not None and report.backup.parent == tmp_path / "backups"
    assert report.backup.name.startswith("index.pre-v002-")
    con.close()
    info = describe(report.backup)
    assert info["schema_versions"] == [1]
    kept = restore(report.backup, db)
    assert kept is not None and kept.exists()
    con = duckdb.connect(str(db), read_only=True)
    ids = [r[0] for r in con.execute("SELECT id FROM sessions ORDER BY id").fetchall()]
    con.close()
    assert ids == sorted(r[0] for r in V1_SESSIONS)
    # migrating the restored file again lands on the same canonical content
    con = connect(db)
    migrate(con)
    assert con.execute("SELECT id, source, source_session_id, parent_session_id FROM sessions ORDER BY id").fetchall() == EXPECTED_SESSIONS
    con.close()


def test_fresh_database_takes_no_backup(tmp_path):
    con = connect(tmp_path / "new.duckdb")
    report = migrate(con)
    con.close()
    assert report.backup is None and not (tmp_path / "backups").exists()
