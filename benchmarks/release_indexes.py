"""Index files as every earlier release of the index wrote them: each release's own code
(checked out from this repository's history) indexes the same small corpus, and the file it
wrote is kept, compressed, in fixtures/releases/ with what it held (sessions and tokens per
source). tests/test_upgrades.py opens each with today's code.

    python -m benchmarks.release_indexes            # rebuild fixtures/releases/ (needs the git history)

A release is every state of the schema the history holds: each commit that changed the
migrations, the first one as it was first released (before its migration was edited).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

from benchmarks.synth import generate

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "fixtures" / "releases"

# (name, commit): the schema version it wrote, and the last commit of that state
RELEASES = (
    ("v01-first-release", "7544e28"),  # 001 as first released (response_key; no api_call)
    ("v01-edited", "e85f9c9"),  # 001 after it was edited in place (api_call, dedup_key)
    ("v02", "a46b3eb"),
    ("v03", "6b23dac"),
    ("v04", "f23a156"),
    ("v05", "1046ca5"),
    ("v06", "dc24d5d"),
    ("v07", "248842c"),
    ("v08", "ac3ec3a"),
    ("v09", "e0fbb8f"),
    ("v10-event-at", "1acbbbc"),
    ("v10", "dcac7c6"),
)


def _checkout(commit: str, into: Path) -> None:
    archive = subprocess.run(["git", "archive", commit], cwd=REPO, capture_output=True, check=True).stdout
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def held(db: Path) -> dict:
    """What an index holds: per source, sessions and token sums; its schema versions."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        versions = sorted(r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()) \
            if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'").fetchone()[0] else []
        # v1 ids may lack the source prefix, and its source column may be NULL (002 settles both)
        rows = con.execute(
            "SELECT coalesce(source, CASE WHEN id LIKE 'codex:%' THEN 'codex' ELSE 'claude' END) AS src, count(*),"
            " sum(input_tokens), sum(cache_read_tokens), sum(cache_creation_tokens), sum(output_tokens), sum(total_tokens),"
            " (SELECT count(*) FROM messages m WHERE m.source = src)"
            " FROM sessions GROUP BY src ORDER BY src").fetchall()
    finally:
        con.close()
    keys = ("sessions", "input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "total_tokens", "messages")
    return {"schema_versions": versions, "sources": {r[0]: dict(zip(keys, (int(v or 0) for v in r[1:]))) for r in rows}}


def build(name: str, commit: str, corpus: Path, work: Path) -> dict:
    code = work / commit
    _checkout(commit, code)
    db = work / f"{name}.duckdb"
    home = work / f"home-{name}"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "CODEX_", "ENABLE_")) and k != "DAGSTER_HOME"}
    env.update(HOME=str(home), PYTHONPATH=str(code), TZ="UTC")
    proc = subprocess.run([sys.executable, "-m", "claude_view_pipeline", "index", "--db", str(db),
                           "--claude-dir", str(corpus / "claude" / "projects"), "--codex-dir", str(corpus / "codex" / "sessions")],
                          cwd=code, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{name} ({commit}) failed to index: {proc.stderr[-2000:]}")
    with open(db, "rb") as src, gzip.open(OUT / f"{name}.duckdb.gz", "wb", compresslevel=9) as dst:
        shutil.copyfileobj(src, dst)
    return {"name": name, "commit": commit, **held(db)}


# where the releases read their corpus: a fixed place, so a test can put the same files back
# where the index says they are
CORPUS = Path(tempfile.gettempdir()) / "claude-view-release-corpus"


def write_corpus(corpus: Path = CORPUS) -> Path:
    """The sessions every release indexes: synthetic ones of both tools, a resumed Claude
    session and a forked Codex one (records copied across files)."""
    shutil.rmtree(corpus, ignore_errors=True)
    generate(corpus, claude_sessions=5, codex_sessions=4, seed=1313)
    shutil.copytree(REPO / "fixtures" / "claude" / "resumed" / "-home-dev-cli", corpus / "claude" / "projects" / "-home-dev-cli")
    shutil.copy(REPO / "fixtures" / "codex" / "forked.jsonl",
                corpus / "codex" / "sessions" / "rollout-2026-01-12T10-00-00-0199a000-0000-7000-8000-0000000000bb.jsonl")
    return corpus


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cvp-releases-") as tmp:
        corpus = write_corpus()
        try:
            manifest = [build(name, commit, corpus, Path(tmp)) for name, commit in RELEASES]
        finally:
            shutil.rmtree(corpus, ignore_errors=True)
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    for entry in manifest:
        print(entry["name"], entry["commit"], entry["schema_versions"], entry["sources"])


if __name__ == "__main__":
    main()
