"""The DuckDB store through the core stages (no Dagster): migrations, partition isolation,
incremental runs, vanished files, duplicate ids, bad input."""

import os
import shutil

import duckdb
import pytest

from claude_view_pipeline import pipeline

from claude_view_pipeline.sources import Source
from claude_view_pipeline.staging import StagingArea
from claude_view_pipeline.store import connect, migrate
from claude_view_pipeline.store.migrate import available_migrations
from claude_view_pipeline.store.writer import SourceScopeError
from benchmarks.synth import generate


@pytest.fixture
def corpus(tmp_path):
    out = tmp_path / "corpus"
    generate(out, claude_sessions=6, codex_sessions=5, seed=3)
    return {s: s.spec.roots_for_dir(out / s.value / s.spec.corpus_dir) for s in (Source.CLAUDE, Source.CODEX)}


def index(source, roots, db, full=False):
    staging = StagingArea.beside(db)
    d = pipeline.stage_session_files(source, roots, db, staging)
    p = pipeline.stage_parsed_sessions(source, staging, full=full, workers=1)
    i = pipeline.load_session_index(source, staging, db)
    return d, p, i


def content(db, source):
    """Every content column of a source's rows, in a stable order (bookkeeping excluded)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        s = con.execute("SELECT * EXCLUDE (run_id, indexed_at) FROM sessions WHERE source = ? ORDER BY id", [source]).fetchall()
        m = con.execute("SELECT * EXCLUDE (run_id) FROM messages WHERE source = ? ORDER BY session_id, ordinal", [source]).fetchall()
    finally:
        con.close()
    return s, m


def test_migrations_apply_once(tmp_path):
    con = connect(tmp_path / "i.duckdb")
    versions = [v for v, _, _ in available_migrations()]
    assert versions[:2] == [1, 2] and migrate(con).applied == versions
    con.execute("INSERT INTO sessions (id, source, source_session_id) VALUES ('claude:a', 'claude', 'a')")
    assert migrate(con).applied == []
    assert con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall() == [(v, n) for v, n, _ in available_migrations()]
    assert con.execute("SELECT id FROM sessions").fetchall() == [("claude:a",)]
    con.close()


def test_incremental_and_partition_isolation(tmp_path, corpus):
    db = tmp_path / "i.duckdb"
    d, p, i = index(Source.CLAUDE, corpus[Source.CLAUDE], db)
    assert (d.files_scanned, d.new, p.files_parsed, i.sessions_in_index) == (6, 6, 6, 6)
    index(Source.CODEX, corpus[Source.CODEX], db)
    claude_before, codex_before = content(db, "claude"), content(db, "codex")

    # nothing changed: nothing parsed, nothing changed
    d, p, i = index(Source.CLAUDE, corpus[Source.CLAUDE], db)
    assert (d.unchanged, p.files_parsed, i.write.sessions_written) == (6, 0, 0)
    assert content(db, "claude") == claude_before

    # one Claude file grows: only it is parsed, and Codex rows stay identical
    victim = sorted(corpus[Source.CLAUDE][0].rglob("*.jsonl"))[0]
    with open(victim, "a") as fh:
        fh.write('{"type":"user","sessionId":"%s","uuid":"zz","timestamp":"2026-12-01T00:00:00Z","message":{"role":"user","content":"one more"}}\n' % victim.stem)
    d, p, i = index(Source.CLAUDE, corpus[Source.CLAUDE], db)
    assert (d.changed, p.files_parsed, i.write.sessions_written) == (1, 1, 1)
    assert content(db, "codex") == codex_before
    after = {row[0]: row for row in content(db, "claude")[0]}
    before = {row[0]: row for row in claude_before[0]}
    changed = [k for k in before if before[k] != after[k]]
    assert changed == [f"claude:{victim.stem}"]

    # a full reindex re-parses everything and converges to the same content
    snapshot = content(db, "claude")
    d, p, i = index(Source.CLAUDE, corpus[Source.CLAUDE], db, full=True)
    assert p.files_parsed == 6
    assert content(db, "claude") == snapshot
    assert content(db, "codex") == codex_before


def test_vanished_file_keeps_its_rows(tmp_path, corpus):
    db = tmp_path / "i.duckdb"
    index(Source.CODEX, corpus[Source.CODEX], db)
    victim = sorted(corpus[Source.CODEX][0].rglob("rollout-*.jsonl"))[0]
    moved = tmp_path / "aside.jsonl"
    shutil.move(victim, moved)
    for full in (False, True):
        d, p, i = index(Source.CODEX, corpus[Source.CODEX], db, full=full)
        assert (d.missing, i.sessions_in_index, i.write.files_missing) == (1, 5, 1)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM sessions WHERE file_missing").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM messages m JOIN sessions s ON s.id = m.session_id WHERE s.file_missing").fetchone()[0] > 0
    con.close()
    shutil.move(moved, victim)
    d, p, i = index(Source.CODEX, corpus[Source.CODEX], db)
    assert (d.missing, i.write.files_missing) == (0, 0)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM sessions WHERE file_missing").fetchone()[0] == 0
    con.close()


def test_archived_copy_of_a_thread_is_a_counted_duplicate(tmp_path, corpus):
    db = tmp_path / "i.duckdb"
    active = sorted(corpus[Source.CODEX][0].rglob("rollout-*.jsonl"))[0]
    archive = corpus[Source.CODEX][1]
    archive.mkdir(parents=True)
    shutil.copy(active, archive / active.name)
    d, p, i = index(Source.CODEX, corpus[Source.CODEX], db)
    assert (d.files_scanned, p.sessions, p.rejected) == (6, 5, {"duplicate_session_id": 1})
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT file_path FROM sessions WHERE id = ?", [f"codex:{active.stem[-36:]}"]).fetchone()[0] == str(active)
    assert con.execute("SELECT status, reason FROM indexed_files WHERE kind = 'archived'").fetchall() == [("rejected", "duplicate_session_id")]
    con.close()


def test_a_partition_refuses_rows_of_another_source(tmp_path, corpus):
    db = tmp_path / "i.duckdb"
    staging = StagingArea.beside(db)
    pipeline.stage_session_files(Source.CLAUDE, corpus[Source.CLAUDE], db, staging)
    pipeline.stage_parsed_sessions(Source.CLAUDE, staging, workers=1)
    # stage Codex rows where the Claude partition will read them
    pipeline.stage_session_files(Source.CODEX, corpus[Source.CODEX], db, staging)
    pipeline.stage_parsed_sessions(Source.CODEX, staging, workers=1)
    codex_dir, claude_dir = staging.find(Source.CODEX, "parsed"), staging.find(Source.CLAUDE, "parsed")
    for part in codex_dir.glob("sessions-*.parquet"):
        shutil.copy(part, claude_dir / part.name)
    with pytest.raises(SourceScopeError, match="another source"):
        pipeline.load_session_index(Source.CLAUDE, staging, db)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0  # rolled back
    con.close()


def test_bad_files_are_counted_and_the_rest_indexed(tmp_path, corpus):
    db = tmp_path / "i.duckdb"
    root = corpus[Source.CLAUDE][0]
    (root / "-junk").mkdir()
    (root / "-junk" / "debug.jsonl").write_text("DEBUG not a transcript\n")
    (root / "-junk" / "empty.jsonl").write_text("")
    rollout = sorted(corpus[Source.CODEX][0].rglob("rollout-*.jsonl"))[0]
    shutil.copy(rollout, root / "-junk" / "misplaced.jsonl")  # a Codex file under the Claude root
    staging = StagingArea.beside(db)
    pipeline.stage_session_files(Source.CLAUDE, [root], db, staging)
    os.remove(sorted(root.rglob("*.jsonl"))[-1])  # vanishes between pass 1 and pass 2
    p = pipeline.stage_parsed_sessions(Source.CLAUDE, staging, workers=1)
    i = pipeline.load_session_index(Source.CLAUDE, staging, db)
    assert p.rejected == {"empty": 1, "io_error": 1, "not_a_session_log": 1, "source_mismatch": 1}
    assert i.sessions_in_index == 5
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT reason, count(*) FROM indexed_files WHERE status = 'rejected' GROUP BY reason ORDER BY reason").fetchall()
    metrics = dict(con.execute("SELECT result, value FROM index_metrics WHERE stage = 'pass2' AND metric = 'files'").fetchall())
    con.close()
    assert rows == [("empty", 1), ("io_error", 1), ("not_a_session_log", 1), ("source_mismatch", 1)]
    assert metrics == {"ok": 5, "empty": 1, "io_error": 1, "not_a_session_log": 1, "source_mismatch": 1}


def test_runs_in_any_order_converge_to_the_same_content(tmp_path, corpus):
    orders = {
        "claude_then_codex": [(Source.CLAUDE, False), (Source.CODEX, False)],
        "codex_then_claude": [(Source.CODEX, False), (Source.CLAUDE, False)],
        "full_twice_then_incremental": [(Source.CODEX, True), (Source.CLAUDE, True), (Source.CLAUDE, True), (Source.CODEX, True), (Source.CLAUDE, False), (Source.CODEX, False)],
    }
    results = {}
    for name, steps in orders.items():
        db = tmp_path / f"{name}.duckdb"
        for source, full in steps:
            index(source, corpus[source], db, full=full)
        results[name] = (content(db, "claude"), content(db, "codex"))
    first = results.pop("claude_then_codex")
    assert first[0][0] and first[1][0]
    assert all(r == first for r in results.values())


def test_a_write_that_runs_out_of_memory_under_the_default_limit_is_retried_with_more(tmp_path, monkeypatch, caplog):
    from claude_view_pipeline import config
    from claude_view_pipeline.indexing import run_index

    corpus = tmp_path / "corpus"
    generate(corpus, claude_sessions=20, codex_sessions=20, seed=3)
    monkeypatch.setattr(config, "DEFAULT_DUCKDB_MEMORY", "8MB")  # far too small for the writes
    roots = {Source.CLAUDE: [corpus / "claude/projects"], Source.CODEX: [corpus / "codex/sessions"]}
    run = run_index([Source.CLAUDE, Source.CODEX], tmp_path / "i.duckdb", roots)
    assert run.success, run.error
    assert [run.sources[s].index.sessions_in_index for s in (Source.CLAUDE, Source.CODEX)] == [20, 20]
    assert "retrying with more" in caplog.text


def test_a_memory_limit_the_user_chose_is_never_raised(tmp_path, monkeypatch):
    from claude_view_pipeline.indexing import run_index

    corpus = tmp_path / "corpus"
    # tool outputs of 100 KB: about 28 MB of text, more than the smallest limit one may set
    generate(corpus, claude_sessions=20, codex_sessions=0, seed=3, pad_bytes=100_000)
    monkeypatch.setenv("CLAUDE_VIEW_DUCKDB_MEMORY", "32MB")
    run = run_index([Source.CLAUDE], tmp_path / "i.duckdb", {Source.CLAUDE: [corpus / "claude/projects"]})
    assert not run.success and "Out of Memory" in run.error


def test_the_duckdb_memory_setting_is_a_size_or_an_error():
    from claude_view_pipeline.config import ConfigError, duckdb_memory

    assert duckdb_memory({}) == ("128MB", True)
    assert duckdb_memory({"CLAUDE_VIEW_DUCKDB_MEMORY": " 1.5GB "}) == ("1.5GB", False)
    for bad in ("abc", "0MB", "-1GB", "1GB'; DROP TABLE sessions; --", "12"):
        with pytest.raises(ConfigError, match="is not a size"):
            duckdb_memory({"CLAUDE_VIEW_DUCKDB_MEMORY": bad})
    for out_of_range in ("8MB", "31MiB", "1025TB", "99999999TB"):
        with pytest.raises(ConfigError, match="is out of range"):
            duckdb_memory({"CLAUDE_VIEW_DUCKDB_MEMORY": out_of_range})
    assert duckdb_memory({"CLAUDE_VIEW_DUCKDB_MEMORY": "32MB"}) == ("32MB", False)


def test_a_file_that_could_not_be_read_is_read_again_next_run(tmp_path, monkeypatch):
    """An io_error is not a verdict on the file: the next run reads it again even though its
    size and mtime did not change (a chmod 000 file made readable, a flaky mount)."""
    from claude_view_pipeline.indexing import run_index
    from claude_view_pipeline.parsers import base

    corpus = tmp_path / "corpus"
    generate(corpus, claude_sessions=3, codex_sessions=0, seed=3)
    roots = {Source.CLAUDE: [corpus / "claude/projects"]}
    db = tmp_path / "i.duckdb"
    unreadable = sorted((corpus / "claude/projects").rglob("*.jsonl"))[0]
    real_open = base.open_regular

    def refuse(path):
        if path == str(unreadable):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path)

    monkeypatch.setattr(base, "open_regular", refuse)
    first = run_index([Source.CLAUDE], db, roots, workers=1)
    assert first.sources[Source.CLAUDE].index.rejected["io_error"]["files"] == 1
    assert first.sources[Source.CLAUDE].index.sessions_in_index == 2
    monkeypatch.setattr(base, "open_regular", real_open)  # readable again, unchanged on disk
    second = run_index([Source.CLAUDE], db, roots, workers=1)
    assert (second.sources[Source.CLAUDE].parse.files_parsed, second.sources[Source.CLAUDE].index.sessions_in_index) == (1, 3)
    third = run_index([Source.CLAUDE], db, roots, workers=1)
    assert third.sources[Source.CLAUDE].parse.files_parsed == 0  # and once read, it is settled
