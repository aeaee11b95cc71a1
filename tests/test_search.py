"""`search`: full-text search over the index's messages, through the real command line, on a
generated corpus with a phrase planted in one Claude prompt and one Codex prompt."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from benchmarks.synth import generate
from claude_view_pipeline.search import fts_query, QueryError, search_path

from helpers import run_cli

PHRASE = "frobnicated migration lock"


def plant(corpus: Path) -> dict[str, str]:
    """Put PHRASE into the first prompt of the first Claude file and of the first Codex file
    (by path); return the canonical ids of those two sessions, by source. Codex writes each
    prompt twice (response_item and its event_msg mirror): both copies are changed."""
    claude = sorted((corpus / "claude/projects").rglob("*.jsonl"))[0]
    data = claude.read_bytes()
    planted = data.replace(b'"Task 0: please look at', b'"Task 0: about the ' + PHRASE.encode() + b', please look at', 1)
    assert planted != data
    claude.write_bytes(planted)
    codex = sorted((corpus / "codex/sessions").rglob("*.jsonl"))[0]
    data = codex.read_bytes()
    planted = data.replace(b"Turn 0: fix issue", b"Turn 0: the " + PHRASE.encode() + b" again, fix issue")
    assert planted.count(PHRASE.encode()) == 2
    codex.write_bytes(planted)
    # Claude's session id is the file's stem; Codex's the uuid that ends the rollout name
    return {"claude": f"claude:{claude.stem}", "codex": f"codex:{codex.stem[-36:]}"}


def planted_prompt(corpus: Path) -> str:
    """The Claude prompt PHRASE was planted in, as written in its file."""
    claude = sorted((corpus / "claude/projects").rglob("*.jsonl"))[0]
    lines = [json.loads(line) for line in claude.read_text().splitlines()]
    return next(line["message"]["content"] for line in lines if line.get("type") == "user"
                and isinstance(line["message"]["content"], str) and PHRASE in line["message"]["content"])


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    generate(root / "c", claude_sessions=6, codex_sessions=6, seed=11)
    planted = plant(root / "c")
    # a prompt with a terminal escape and line breaks in it
    evil = sorted((root / "c/claude/projects").rglob("*.jsonl"))[1]
    evil.write_bytes(evil.read_bytes().replace(b'"Task 0: please look at', b'"Task 0: \\u001b[2J quuxword\\nsecond line, please look at', 1))
    db = root / "i.duckdb"
    proc = run_cli("index", "--db", str(db), *dirs(root), "--json")
    assert proc.returncode == 0, proc.stderr
    return root, db, planted


def dirs(root: Path) -> list[str]:
    return ["--claude-dir", str(root / "c/claude/projects"), "--codex-dir", str(root / "c/codex/sessions")]


def search_json(db: Path, *args: str) -> list[dict]:
    proc = run_cli("search", "--db", str(db), "--no-refresh", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_planted_phrase_is_found_in_exactly_the_two_sessions_it_was_planted_in(indexed):
    root, db, planted = indexed
    hits = search_json(db, f'"{PHRASE}"')
    assert sorted((h["session_id"], h["source"], h["role"]) for h in hits) == sorted(
        [(planted["claude"], "claude", "user"), (planted["codex"], "codex", "user")])
    # each hit says when, where and shows the match marked
    claude_hit = next(h for h in hits if h["source"] == "claude")
    # the whole prompt is shorter than a snippet: all of it, the phrase marked as one match
    assert claude_hit["snippet"] == planted_prompt(root / "c").replace(PHRASE, f"«{PHRASE}»")
    assert claude_hit["snippet"].startswith(f"Task 0: about the «{PHRASE}», please look at module ")
    assert set(claude_hit) == {"session_id", "source", "timestamp", "project", "role", "ordinal", "score", "snippet"}
    assert claude_hit["timestamp"].endswith("Z") and claude_hit["project"]


def test_words_in_another_order_are_no_phrase_and_no_match_is_exit_0(indexed):
    _, db, planted = indexed
    proc = run_cli("search", "--db", str(db), "--no-refresh", '"lock migration frobnicated"')
    assert (proc.returncode, proc.stdout) == (0, "no matches\n")
    # the same words, not as a phrase, match in any order
    assert {h["session_id"] for h in search_json(db, "lock migration frobnicated")} == set(planted.values())


def test_a_prefix_query_finds_the_words_it_begins(indexed):
    _, db, planted = indexed
    assert {h["session_id"] for h in search_json(db, "frobnic*")} == set(planted.values())
    assert search_json(db, "frobnicatedx*") == []


def test_filters_narrow_the_hits(indexed):
    _, db, planted = indexed
    assert [h["session_id"] for h in search_json(db, PHRASE, "--sources", "codex")] == [planted["codex"]]
    assert search_json(db, PHRASE, "--role", "assistant,tool_result") == []
    hits = search_json(db, PHRASE)
    claude = next(h for h in hits if h["source"] == "claude")
    assert {h["session_id"] for h in search_json(db, PHRASE, "--project", claude["project"])} == {
        h["session_id"] for h in hits if h["project"] == claude["project"]} >= {planted["claude"]}
    assert search_json(db, PHRASE, "--project", "no-such-project") == []
    day = claude["timestamp"][:10]
    on_day = search_json(db, PHRASE, "--since", day, "--until", day, "--timezone", "UTC")
    assert planted["claude"] in {h["session_id"] for h in on_day}
    assert all(h["timestamp"][:10] == day for h in on_day)


def test_newest_first_orders_hits_by_time(indexed):
    root, db, _ = indexed
    # every Claude prompt of the corpus says "please look at module N", once per line
    prompts = sum(f.read_text().count("please look at module") for f in (root / "c/claude/projects").rglob("*.jsonl"))
    assert len(search_json(db, "module", "--limit", "1000")) == prompts > 10
    hits = search_json(db, "module", "--sort", "newest", "--limit", "10")
    assert len(hits) == 10
    stamps = [h["timestamp"] for h in hits]
    assert stamps == sorted(stamps, reverse=True)
    newest = max(h["timestamp"] for h in search_json(db, "module", "--limit", "1000"))
    assert stamps[0] == newest


def test_a_malformed_query_is_exit_2_with_one_line(indexed):
    _, db, _ = indexed
    for query in ('"unclosed phrase', "OR lock", "lock NOT", "*", "!!!"):
        proc = run_cli("search", "--db", str(db), "--no-refresh", query)
        assert proc.returncode == 2, (query, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("claude-view-pipeline: error: "), proc.stderr
    assert run_cli("search", "--db", str(db), "--no-refresh", "x", "--role", "robot").returncode == 2


def test_control_characters_from_a_session_are_shown_escaped(indexed):
    _, db, _ = indexed
    proc = run_cli("search", "--db", str(db), "--no-refresh", "quuxword")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout
    assert "\\x1b[2J «quuxword» second line" in proc.stdout  # the escape shown, the line break as a space
    assert "\\u001b" in run_cli("search", "--db", str(db), "--no-refresh", "--json", "quuxword").stdout


@pytest.fixture
def copy(indexed, tmp_path):
    """A copy of the corpus and its index for a test that changes them."""
    root, _, planted = indexed
    shutil.copytree(root / "c", tmp_path / "c")
    proc = run_cli("index", "--db", str(tmp_path / "i.duckdb"), *dirs(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr
    return tmp_path, tmp_path / "i.duckdb", planted


def test_an_index_run_rewrites_only_the_sessions_that_changed(copy):
    root, db, planted = copy
    codex = sorted((root / "c/codex/sessions").rglob("*.jsonl"))[0]
    codex.write_bytes(codex.read_bytes().replace(PHRASE.encode(), b"plain words here"))
    proc = run_cli("index", "--db", str(db), *dirs(root), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)["search_index"]
    assert (report["sessions_written"], report["sessions_dropped"], report["rebuilt"]) == (1, 0, False)
    assert [h["session_id"] for h in search_json(db, f'"{PHRASE}"')] == [planted["claude"]]
    # nothing changed: nothing rewritten
    again = json.loads(run_cli("index", "--db", str(db), *dirs(root), "--json").stdout)["search_index"]
    assert (again["sessions_written"], again["documents_written"]) == (0, 0)


def test_a_damaged_search_index_is_rebuilt_and_never_fails_index(copy):
    root, db, planted = copy
    path = search_path(db)
    path.write_bytes(b"this is not a SQLite file" * 200)
    proc = run_cli("index", "--db", str(db), *dirs(root), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)["search_index"]
    assert report["rebuilt"] is True and report["reason"].startswith("unreadable")
    assert {h["session_id"] for h in search_json(db, f'"{PHRASE}"')} == set(planted.values())
    # missing: `search` builds it again by itself; --rebuild on request
    path.unlink()
    assert {h["session_id"] for h in search_json(db, f'"{PHRASE}"')} == set(planted.values())
    proc = run_cli("search", "--db", str(db), "--no-refresh", "--rebuild")
    assert proc.returncode == 0 and "built the search index" in proc.stderr, proc.stderr


def test_a_search_index_that_cannot_be_written_leaves_index_successful(copy):
    root, db, _ = copy
    path = search_path(db)
    path.unlink()
    path.mkdir()  # a directory where the file belongs: it can be neither opened nor replaced
    proc = run_cli("index", "--db", str(db), *dirs(root), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["success"] is True and summary["search_error"].startswith("the search index was not updated")
    assert "warning: the search index was not updated" in proc.stderr


def test_the_search_index_is_readable_by_its_owner_only(indexed):
    _, db, _ = indexed
    for p in (search_path(db), Path(f"{search_path(db)}-wal")):
        if p.exists():
            assert stat.S_IMODE(os.stat(p).st_mode) & 0o077 == 0, p


def test_search_brings_the_index_up_to_date_first(copy):
    root, db, planted = copy
    codex = sorted((root / "c/codex/sessions").rglob("*.jsonl"))[1]
    codex.write_bytes(codex.read_bytes().replace(b"Turn 0: fix issue", b"Turn 0: " + PHRASE.encode() + b" too, fix issue"))
    env = {"CLAUDE_PROJECTS_DIR": str(root / "c/claude/projects"), "CODEX_SESSIONS_DIR": str(root / "c/codex/sessions")}
    assert len({h["session_id"] for h in search_json(db, f'"{PHRASE}"')}) == 2  # --no-refresh: as it was
    proc = run_cli("search", "--db", str(db), "--json", f'"{PHRASE}"', env=env)
    assert proc.returncode == 0, proc.stderr
    assert {h["session_id"] for h in json.loads(proc.stdout)} == {*planted.values(), f"codex:{codex.stem[-36:]}"}


@pytest.mark.parametrize("query, expression", [
    ("migration lock", '"migration" "lock"'),
    ('"migration lock"', '"migration lock"'),
    ("migr*", '"migr"*'),
    ('"migration lo"*', '"migration lo"*'),
    ("migration-lock OR deadlock", '"migration-lock" OR "deadlock"'),
    ("lock NOT table", '"lock" NOT "table"'),
    ('say "hi"', '"say" "hi"'),
])
def test_the_query_language(query, expression):
    assert fts_query(query) == expression


def test_a_query_cannot_reach_fts5_syntax():
    # column filters, NEAR and parentheses are words here, never FTS5 operators
    assert fts_query("text:lock NEAR(a b)") == '"text:lock" "NEAR(a" "b)"'
    with pytest.raises(QueryError):
        fts_query('a"b')


def test_a_hand_made_sqlite_file_of_another_layout_is_replaced(copy):
    root, db, planted = copy
    path = search_path(db)
    path.unlink()
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '0')")
    con.commit()
    con.close()
    assert {h["session_id"] for h in search_json(db, f'"{PHRASE}"')} == set(planted.values())


def test_a_session_whose_project_changed_without_its_messages_is_found_under_its_new_project(copy):
    # the writer re-attributes a subagent to its parent's project without rewriting it: here
    # the same change is made by hand to the planted Claude session
    import duckdb

    from claude_view_pipeline import search

    _, db, planted = copy
    con = duckdb.connect(str(db))
    con.execute("UPDATE sessions SET project = 'elsewhere', project_key = '/x/elsewhere' WHERE id = ?", [planted["claude"]])
    con.close()
    report = search.sync(db)
    assert (report.sessions_written, report.documents_written) == (0, 0)
    assert [h["session_id"] for h in search_json(db, PHRASE, "--project", "elsewhere")] == [planted["claude"]]
    assert [h["session_id"] for h in search_json(db, PHRASE, "--project", "/x/elsewhere")] == [planted["claude"]]


def test_two_syncs_at_once_write_each_session_once(copy):
    # every session looks rewritten (a new run_id) to two processes started together: however
    # their syncs overlap, the second reads what the file holds only once the first committed
    # (a race this test can catch only when they do overlap)
    import subprocess
    import sys

    import duckdb

    _, db, _ = copy
    con = duckdb.connect(str(db))
    con.execute("UPDATE sessions SET run_id = 'rewritten'")
    with_text = con.execute("SELECT count(*) FROM messages WHERE length(text) > 0").fetchone()[0]
    con.close()
    code = f"from claude_view_pipeline import search; print(search.sync({str(db)!r}).sessions_written)"
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    written = sorted(int(p.communicate(timeout=120)[0]) for p in procs)
    assert written == [0, 12]  # one process rewrote all twelve sessions, the other found nothing to do
    search_file = sqlite3.connect(search_path(db))
    counts = search_file.execute("SELECT count(*), count(DISTINCT session_id || ':' || ordinal) FROM docs").fetchone()
    fts = search_file.execute("SELECT count(*) FROM body").fetchone()[0]
    search_file.close()
    assert counts == (with_text, with_text) and fts == with_text
