"""The process pool gives exactly the rows a single process gives."""

import pyarrow as pa
import pytest
import pyarrow.parquet as pq

from claude_view_pipeline import pipeline
from claude_view_pipeline.discovery import discover
from claude_view_pipeline.sources import Source
from benchmarks.synth import generate


def parts(out_dir, name):
    return pa.concat_tables([pq.read_table(p) for p in sorted(out_dir.glob(f"{name}-*.parquet"))])


def test_pool_equals_sequential(tmp_path, monkeypatch):
    generate(tmp_path, claude_sessions=30, codex_sessions=30, seed=5)
    for source, root in ((Source.CLAUDE, tmp_path / "claude/projects"), (Source.CODEX, tmp_path / "codex/sessions")):
        files = discover(source, [root])
        seen = []
        one, two = tmp_path / f"{source.value}-seq", tmp_path / f"{source.value}-pool"
        one.mkdir()
        two.mkdir()
        sequential = pipeline.parse_files(source, files, one, workers=1)
        monkeypatch.setattr(pipeline, "POOL_MIN_FILES", 1)
        pooled = pipeline.parse_files(source, files, two, workers=2, progress=lambda s, done, total: seen.append((done, total)))
        monkeypatch.undo()
        assert parts(one, "sessions").num_rows == 30
        for name in ("sessions", "messages"):
            assert parts(one, name).equals(parts(two, name))
        drop_timing = lambda t: t.drop_columns(["parse_ms"])  # noqa: E731
        assert drop_timing(sequential).equals(drop_timing(pooled))
        assert seen[-1] == (30, 30)


def test_one_worker_pool_serves_every_source_of_a_run(tmp_path, monkeypatch):
    from claude_view_pipeline.parse_worker import WorkerPool

    generate(tmp_path, claude_sessions=12, codex_sessions=12, seed=5)
    monkeypatch.setattr(pipeline, "POOL_MIN_FILES", 1)
    with WorkerPool(2) as pool:
        for source, root in ((Source.CLAUDE, tmp_path / "claude/projects"), (Source.CODEX, tmp_path / "codex/sessions")):
            files = discover(source, [root])
            one, two = tmp_path / f"{source.value}-seq", tmp_path / f"{source.value}-pool"
            one.mkdir()
            two.mkdir()
            pipeline.parse_files(source, files, one, workers=1)
            pipeline.parse_files(source, files, two, pool=pool)
            assert parts(two, "sessions").num_rows == 12
            assert parts(one, "messages").equals(parts(two, "messages"))
    assert pool._executor is None  # the workers end with the run


@pytest.mark.parametrize("source", [Source.CLAUDE, Source.CODEX])
def test_a_large_file_streams_its_messages_and_stages_the_same_rows(tmp_path, monkeypatch, source):
    """At STREAM_MIN_BYTES and above a file's messages go to Parquet in batches while it is
    parsed (bounded memory); the staged rows equal those of a whole-file parse."""
    from claude_view_pipeline import parse_worker
    from claude_view_pipeline.parsers import claude, codex

    generate(tmp_path, claude_sessions=6, codex_sessions=6, seed=5)
    root = tmp_path / ("claude/projects" if source is Source.CLAUDE else "codex/sessions")
    files = discover(source, [root])
    whole, streamed = tmp_path / "whole", tmp_path / "streamed"
    whole.mkdir()
    streamed.mkdir()
    pipeline.parse_files(source, files, whole, workers=1)
    monkeypatch.setattr(parse_worker, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(claude, "FLUSH_EVERY", 2)  # many small batches
    monkeypatch.setattr(codex, "FLUSH_EVERY", 2)
    results = pipeline.parse_files(source, files, streamed, workers=1)
    assert len(list(streamed.glob("messages-*-*.parquet"))) == len(files) == 6  # one streamed file each
    key = [("session_id", "ascending"), ("ordinal", "ascending")]
    assert parts(whole, "messages").sort_by(key).equals(parts(streamed, "messages").sort_by(key))
    assert parts(whole, "sessions").equals(parts(streamed, "sessions"))
    assert sum(results.column("messages").to_pylist()) == parts(whole, "messages").num_rows
