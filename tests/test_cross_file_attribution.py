"""A record copied into several files counts once in the whole index (DESIGN.md): Claude
resumes copy earlier lines into the new file; a Codex branch replays its parent's token
history. Derived by hand from fixtures/claude/resumed and the ccusage branch-history files."""

import shutil

import duckdb

from claude_view_pipeline import pipeline
from claude_view_pipeline.sources import Source
from claude_view_pipeline.staging import StagingArea

from helpers import CORPUS, FIXTURES, requires_corpus

ORIG = "claude:5c1b0d2e-0009-4a5b-9c6d-7e8f90a1b2c3"
CONT = "claude:5c1b0d2e-0010-4a5b-9c6d-7e8f90a1b2c3"
COLS = "user_prompt_count, api_call_count, tool_call_count, total_tokens, inherited_records, parent_session_id, relation"


def index(source, roots, db, full=False):
    staging = StagingArea.beside(db)
    pipeline.stage_session_files(source, roots, db, staging)
    pipeline.stage_parsed_sessions(source, staging, full=full, workers=1)
    pipeline.load_session_index(source, staging, db)


def rows(db, source="claude"):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0]: r[1:] for r in con.execute(f"SELECT id, {COLS} FROM sessions WHERE source = ? ORDER BY id", [source]).fetchall()}
    finally:
        con.close()


EXPECTED = {
    ORIG: (1, 1, 0, 16009, 0, None, None),
    # its copies of the original prompt and answer are inherited: 1 prompt, 2 calls of its own
    CONT: (1, 2, 1, 32183, 2, ORIG, "continuation"),
}


def test_resumed_session_counts_copied_lines_once(tmp_path):
    db = tmp_path / "i.duckdb"
    index(Source.CLAUDE, [FIXTURES / "claude" / "resumed"], db)
    assert rows(db) == EXPECTED
    con = duckdb.connect(str(db), read_only=True)
    copies = con.execute(
        "SELECT role, text, input_tokens, origin_session_id FROM messages WHERE session_id = ? AND inherited ORDER BY ordinal", [CONT]
    ).fetchall()
    con.close()
    assert copies == [("user", "Say lol", None, ORIG), ("assistant", "lol", None, None)]
    index(Source.CLAUDE, [FIXTURES / "claude" / "resumed"], db, full=True)
    assert rows(db) == EXPECTED


def test_an_earlier_copy_arriving_later_takes_ownership(tmp_path):
    db = tmp_path / "i.duckdb"
    root = tmp_path / "projects"
    src = FIXTURES / "claude" / "resumed" / "-home-dev-cli"
    (root / "-home-dev-cli").mkdir(parents=True)
    shutil.copy(src / f"{CONT.split(':')[1]}.jsonl", root / "-home-dev-cli")
    index(Source.CLAUDE, [root], db)
    # alone, the continuation owns everything it holds
    assert rows(db) == {CONT: (2, 3, 1, 48192, 0, ORIG, "continuation")}
    shutil.copy(src / f"{ORIG.split(':')[1]}.jsonl", root / "-home-dev-cli")
    index(Source.CLAUDE, [root], db)  # incremental: only the original is parsed
    assert rows(db) == EXPECTED


@requires_corpus
def test_codex_branch_replaying_parent_token_history(tmp_path):
    """ccusage's branch-history fixture: the branch file repeats the parent's token event
    (same timestamp, same running total) before its own. No session_meta marks the fork,
    so the shared event is recognised across files and counted once, for the parent."""
    src = CORPUS / "ryoppippi+ccusage/apps/ccusage/test/fixtures/codex/sessions/branch-history"
    tree = tmp_path / "sessions" / "2026" / "05" / "12"
    tree.mkdir(parents=True)
    shutil.copy(src / "2026-05-12T08-00-00-parent.jsonl", tree / "rollout-2026-05-12T08-00-00-parent.jsonl")
    shutil.copy(src / "2026-05-12T08-02-00-branch.jsonl", tree / "rollout-2026-05-12T08-02-00-branch.jsonl")
    db = tmp_path / "i.duckdb"
    index(Source.CODEX, [tmp_path / "sessions"], db)
    con = duckdb.connect(str(db), read_only=True)
    got = con.execute(
        "SELECT source_session_id, api_call_count, input_tokens, cache_read_tokens, output_tokens, reasoning_tokens, total_tokens"
        " FROM sessions ORDER BY source_session_id"
    ).fetchall()
    con.close()
    assert got == [
        # parent: input 1000 (900 not cached), cached 100, output 200
        ("rollout-2026-05-12T08-00-00-parent", 1, 900, 100, 200, 20, 1200),
        # branch: (1600,300,450,40) - (1000,100,200,20) = input 600 (400 not cached), cached 200, output 250
        ("rollout-2026-05-12T08-02-00-branch", 1, 400, 200, 250, 20, 850),
    ]
