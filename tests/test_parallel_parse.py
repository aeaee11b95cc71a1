"""The process pool gives exactly the tables a single process gives."""

from claude_view_pipeline import pipeline
from claude_view_pipeline.discovery import discover
from claude_view_pipeline.sources import Source
from claude_view_pipeline.synth import generate


def test_pool_equals_sequential(tmp_path, monkeypatch):
    generate(tmp_path, claude_sessions=30, codex_sessions=30, seed=5)
    for source, root in ((Source.CLAUDE, tmp_path / "claude/projects"), (Source.CODEX, tmp_path / "codex/sessions")):
        files = discover(source, [root])
        seen = []
        sequential = pipeline.parse_files(source, files, workers=1)
        monkeypatch.setattr(pipeline, "POOL_MIN_FILES", 1)
        pooled = pipeline.parse_files(source, files, workers=2, progress=lambda s, done, total: seen.append((done, total)))
        monkeypatch.undo()
        assert sequential[0].num_rows == 30
        assert sequential[0].equals(pooled[0]) and sequential[1].equals(pooled[1])
        drop_timing = lambda t: t.drop_columns(["parse_ms"])  # noqa: E731
        assert drop_timing(sequential[2]).equals(drop_timing(pooled[2]))
        assert seen[-1] == (30, 30)
