"""Every index an earlier release wrote opens with today's code, is migrated (backed up first)
by whichever command opens it, and keeps every session and token; a migration that has
shipped is never edited. The index files are the ones each release's own code wrote
(fixtures/releases/, built from this repository's history by benchmarks/release_indexes.py)."""

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from benchmarks.release_indexes import CORPUS, held, write_corpus
from claude_view_pipeline.store.migrate import BRIDGES, available_migrations

from helpers import FIXTURES, run_cli

RELEASES = json.loads((FIXTURES / "releases" / "manifest.json").read_text())
LATEST = available_migrations()[-1][0]

# The text of every migration as it shipped. A new migration is added here when it ships;
# one that has shipped is never edited again (an index it already ran on would not match an
# index it runs on now): a change to the schema is a new migration.
SHIPPED = {
    "001_initial.sql": "f26fe4c80a57d1b957304ebc0652347e142cb5b9a05bbe0094da62027b6b4c9e",
    "002_canonical_identity.sql": "a639ccfd0c732de29d6cb62e1bb742a18f1e39c409c617f93bdbe53474ef5f96",
    "003_verification.sql": "173aa16aba6b93caeb57f4086ab4b14b1f4654aaaeb626e496790d89be1c98b1",
    "004_usage.sql": "d56a5a171d69f8a20c150caca682b9987d5e53e8806abb65791f495102264adb",
    "005_source_roots.sql": "f705cd10a9bed7e8f5ad55916543aa2861df7e7a3c79c6ba86dc27f3fa8fc3a7",
    "006_model_prices.sql": "229d8cd7b39eab003a017dc61552d77368f58ca30b2c2b28af0eeb6101577a0a",
    "007_verification_daily_baseline.sql": "c4276cb6b11e1e89d14806078e6aa9dd44444f0e4e814fca9fd4261f2d512145",
    "008_column_comments.sql": "d815f2370e27cc3a0ffca42f777405d7f68960f7b66307b4785a6f50fbe402ff",
    "009_project_attribution.sql": "0d8994c8065eeb384c280531412ad94d8e54d3b39040e8aa6502310ca3181f42",
    "010_rate_limits.sql": "3def60fc664c0130670227dcd8ab2ba3c02e06e2f25e61be81fe266af990d671",
    "011_cache_lifetimes_and_price_provenance.sql": "1de77d05b0c95996f5ef3d3e1083cf7f658998a8d3f4e4831e8848541b9fcee9",
    "012_message_text_truncated.sql": "b03883ff6fb00cf7a53640df31a4c59f532b04df089a3db2d186dd7c7d8d8794",
    "013_sources_from_the_registry.sql": "7399d4e02ff3db86e8132419ee604f9ee9101709c1f1fb93d666154ef3b2e1d9",
    "014_agent_cost.sql": "1633d3fb06a6c11e729c1c9afe1cda4856382d32c28a7fd05649edfb34ed4247",
    "bridges/004_first_release_messages.sql": "cac7591dc81a9a2654de92b4fa95777e7896068be0c254ad1c882db51d5f277c",
    "bridges/011_rate_limits_event_at.sql": "5661c78bdccb95d215652db8fc0a8334fa99e7065858a17aedefb6e7b190c81d",
}


def test_a_shipped_migration_is_never_edited():
    root = Path(__file__).resolve().parent.parent / "claude_view_pipeline" / "store" / "migrations"
    files = {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.sql")}
    assert files == SHIPPED
    assert {b.sql_file for b in BRIDGES} == {n.split("/", 1)[1] for n in SHIPPED if n.startswith("bridges/")}


# the schema of the last release that shipped: its index is the newest in fixtures/releases
# (benchmarks/release_indexes.py adds the next release's when it has shipped)
LAST_RELEASED = 10


def test_there_is_an_index_of_every_release():
    # the first release as it shipped, and every later state of the schema up to the last
    assert [r["schema_versions"][-1] for r in RELEASES] == [1, 1, *range(2, LAST_RELEASED + 1), LAST_RELEASED]
    assert RELEASES[0]["commit"] == "7544e28" and RELEASES[-1]["schema_versions"] == list(range(1, LAST_RELEASED + 1))


def unpack(release: dict, into: Path) -> Path:
    db = into / f"{release['name']}.duckdb"
    with gzip.open(FIXTURES / "releases" / f"{release['name']}.duckdb.gz", "rb") as src, open(db, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return db


@pytest.mark.parametrize("release", RELEASES, ids=[r["name"] for r in RELEASES])
def test_an_index_of_every_release_opens_upgrades_and_keeps_every_session_and_token(release, tmp_path):
    db = unpack(release, tmp_path)
    # `status` opens it like every other command: migrated first, the old file kept
    proc = run_cli("status", "--db", str(db), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["schema_version"] == LATEST
    assert f"upgraded the index to schema v{LATEST}" in proc.stderr
    (backup,) = (tmp_path / "backups").iterdir()
    assert held(backup)["schema_versions"] == release["schema_versions"]  # the file as the release left it
    # nothing lost: every session, message and token the release wrote is still there
    assert held(db) == {"schema_versions": list(range(1, LATEST + 1)), "sources": release["sources"]}
    # and answers from it (the files are gone: as they were indexed)
    usage = run_cli("usage", "daily", "--db", str(db), "--json", "--no-refresh", "--timezone", "UTC")
    assert usage.returncode == 0, usage.stderr
    rows = json.loads(usage.stdout)
    assert sum(r["total_tokens"] for r in rows) == sum(s["total_tokens"] for s in release["sources"].values())
    # a run that finds the files gone keeps every row, marked missing
    index = run_cli("index", "--db", str(db), "--claude-dir", str(tmp_path / "gone"), "--codex-dir", str(tmp_path / "gone"))
    assert index.returncode == 0, index.stderr
    assert held(db)["sources"] == release["sources"]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT bool_and(file_missing) FROM sessions").fetchone()[0] is True
    con.close()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """The release corpus back where the releases read it, and today's index of it."""
    write_corpus()
    db = tmp_path_factory.mktemp("fresh") / "fresh.duckdb"
    proc = run_cli("index", "--db", str(db), "--claude-dir", str(CORPUS / "claude" / "projects"),
                   "--codex-dir", str(CORPUS / "codex" / "sessions"))
    assert proc.returncode == 0, proc.stderr
    yield db
    shutil.rmtree(CORPUS, ignore_errors=True)


CONTENT = ("id", "source", "source_session_id", "file_path", "parent_session_id", "relation", "cwd", "project", "git_branch",
           "started_at", "ended_at", "primary_model", "models", "message_count", "user_prompt_count", "api_call_count",
           "tool_call_count", "input_tokens", "cache_read_tokens", "cache_creation_tokens", "cache_creation_5m_tokens",
           "cache_creation_1h_tokens", "output_tokens", "reasoning_tokens", "total_tokens", "model_assumed")


def sessions_of(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT {', '.join(CONTENT)} FROM sessions ORDER BY id").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("release", RELEASES, ids=[r["name"] for r in RELEASES])
def test_an_upgraded_index_whose_files_are_there_equals_a_fresh_one(release, tmp_path, fresh):
    db = unpack(release, tmp_path)
    # the next run reads again every file an older release indexed (cache writes by lifetime,
    # the provider of each call): the upgraded index then holds what a new one would
    proc = run_cli("index", "--db", str(db), "--claude-dir", str(CORPUS / "claude" / "projects"),
                   "--codex-dir", str(CORPUS / "codex" / "sessions"))
    assert proc.returncode == 0, proc.stderr
    assert sessions_of(db) == sessions_of(fresh)
