import os

from claude_view_pipeline.discovery import discover
from claude_view_pipeline.sources import Source


def touch(path, text="{}\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_claude_layouts(tmp_path):
    root = tmp_path / "projects"
    main = touch(root / "-home-me-app" / "s1.jsonl")
    old_agent = touch(root / "-home-me-app" / "agent-a1.jsonl")
    new_agent = touch(root / "-home-me-app" / "s1" / "subagents" / "agent-b2.jsonl")
    touch(root / "-home-me-app" / "s1" / "subagents" / "agent-b2.meta.json")  # not a transcript
    touch(root / "-home-me-app" / "sessions-index.json")
    files = discover(Source.CLAUDE, [root, tmp_path / "does-not-exist"])
    assert [f.path for f in files] == sorted(map(str, [main, old_agent, new_agent]))
    kinds = {os.path.basename(f.path): f.kind for f in files}
    assert kinds == {"s1.jsonl": "main", "agent-a1.jsonl": "subagent", "agent-b2.jsonl": "subagent"}


def test_codex_layouts(tmp_path):
    home = tmp_path / ".codex"
    dated = touch(home / "sessions" / "2026" / "01" / "02" / "rollout-2026-01-02T03-04-05-u1.jsonl")
    flat = touch(home / "sessions" / "rollout-u2.jsonl")  # oldest builds: flat
    archived = touch(home / "archived_sessions" / "rollout-u3.jsonl")
    touch(home / "history.jsonl")  # prompt history, not a session
    touch(home / "sessions" / "2026" / "01" / "02" / "notes.jsonl")
    files = discover(Source.CODEX, [home / "sessions", home / "archived_sessions"])
    assert [f.path for f in files] == sorted(map(str, [dated, flat, archived]))
    assert {f.path: f.kind for f in files}[str(archived)] == "archived"
    assert all(f.source is Source.CODEX for f in files)


def test_fingerprint_and_order_are_deterministic(tmp_path):
    root = tmp_path / "p"
    for name in ("c", "a", "b"):
        touch(root / "x" / f"{name}.jsonl", "{}\n" * (ord(name) - 96))
    first = discover(Source.CLAUDE, [root])
    assert [os.path.basename(f.path) for f in first] == ["a.jsonl", "b.jsonl", "c.jsonl"]
    assert [f.size for f in first] == [3, 6, 9]
    st = os.stat(first[0].path)
    assert first[0].fingerprint == (st.st_size, st.st_mtime_ns)
    assert discover(Source.CLAUDE, [root, root]) == first  # overlapping roots: no duplicates


def test_symlink_loop_does_not_hang(tmp_path):
    root = tmp_path / "p"
    touch(root / "x" / "a.jsonl")
    os.symlink(root, root / "x" / "loop")
    assert len(discover(Source.CLAUDE, [root])) == 1
