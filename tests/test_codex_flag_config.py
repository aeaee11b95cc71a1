"""Rollout flags: Codex is on by default when its directory exists
(a missing one is no error), ENABLE_CODEX_SOURCE=false stops Codex discovery, parsing and
its sensor while its indexed rows stay, a Codex-only request says Codex is disabled and does
nothing, and a typo in a flag is an error."""

import json

import dagster as dg
import duckdb
import pytest

from orchestration.resources import IndexSettings
from assets.sensors import evaluate
from claude_view_pipeline.config import ConfigError, Settings
from claude_view_pipeline.sources import SOURCE_NAMES, Source
from benchmarks.synth import generate

from helpers import run_cli


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("flag-corpus")
    generate(out, claude_sessions=5, codex_sessions=4, seed=51)
    return out


def env_for(corpus, **extra):
    return {"CLAUDE_PROJECTS_DIR": str(corpus / "claude/projects"), "CODEX_SESSIONS_DIR": str(corpus / "codex/sessions"), **extra}


def all_rows(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {s: (con.execute("SELECT * FROM sessions WHERE source = ? ORDER BY id", [s]).fetchall(),
                    con.execute("SELECT * FROM messages WHERE source = ? ORDER BY session_id, ordinal", [s]).fetchall())
                for s in ("claude", "codex")}
    finally:
        con.close()


def test_codex_is_on_by_default_and_a_missing_directory_is_no_error(tmp_path, corpus):
    db = tmp_path / "i.duckdb"
    proc = run_cli("index", "--db", str(db), "--json", env=env_for(corpus))
    assert proc.returncode == 0, proc.stderr
    assert {s: v["sessions"] for s, v in json.loads(proc.stdout)["sources"].items()} == {**dict.fromkeys(SOURCE_NAMES, 0), "claude": 5, "codex": 4}

    proc = run_cli("index", "--db", str(tmp_path / "j.duckdb"), "--json", env=env_for(corpus, CODEX_SESSIONS_DIR=str(tmp_path / "no-codex-here")))
    assert proc.returncode == 0, proc.stderr
    codex = json.loads(proc.stdout)["sources"]["codex"]
    assert (codex["files_scanned"], codex["sessions"], codex["files_rejected"]) == (0, 0, {})


def test_disabled_codex_is_not_discovered_and_its_rows_stay(tmp_path, corpus):
    db = tmp_path / "i.duckdb"
    assert run_cli("index", "--db", str(db), env=env_for(corpus)).returncode == 0
    before = all_rows(db)
    proc = run_cli("index", "--db", str(db), "--json", "--full", env=env_for(corpus, ENABLE_CODEX_SOURCE="false"))
    assert proc.returncode == 0, proc.stderr
    assert list(json.loads(proc.stdout)["sources"]) == [s for s in SOURCE_NAMES if s != "codex"]  # no Codex discovery or parsing
    after = all_rows(db)
    assert after["codex"] == before["codex"]  # untouched, bookkeeping included
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM sessions WHERE source = 'codex'").fetchone()[0] == 4  # still queryable
    con.close()


@pytest.mark.parametrize("value", ["false", "0", "no", "OFF"])
def test_codex_only_request_with_codex_disabled_does_nothing(tmp_path, corpus, value):
    db = tmp_path / "i.duckdb"
    assert run_cli("index", "--db", str(db), env=env_for(corpus)).returncode == 0
    before = all_rows(db)
    proc = run_cli("index", "--db", str(db), "--sources", "codex", env=env_for(corpus, ENABLE_CODEX_SOURCE=value))
    assert proc.returncode == 2
    assert f"codex is disabled (ENABLE_CODEX_SOURCE={value}); nothing was indexed" in proc.stderr  # as the user spelled it
    assert all_rows(db) == before


@pytest.mark.parametrize("name,value", [("ENABLE_CODEX_SOURCE", "flase"), ("ENABLE_CODEX_SOURCE", "disabled"), ("ENABLE_CLAUDE_SOURCE", "2")])
def test_a_flag_typo_is_an_error_not_a_default(tmp_path, corpus, name, value):
    db = tmp_path / "i.duckdb"
    proc = run_cli("index", "--db", str(db), env=env_for(corpus, **{name: value}))
    assert proc.returncode == 2
    assert f"{name}={value!r} is not a boolean" in proc.stderr
    assert not db.exists()
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_disabled_codex_sensor_skips_and_says_why(tmp_path, corpus, monkeypatch):
    monkeypatch.setenv("ENABLE_CODEX_SOURCE", "false")
    index = IndexSettings(db_path=str(tmp_path / "i.duckdb"), dirs={"codex": str(corpus / "codex/sessions")})
    with dg.DagsterInstance.ephemeral() as instance:
        result = evaluate(dg.build_sensor_context(instance=instance, resources={"index": index}), Source.CODEX, index)
        assert isinstance(result, dg.SkipReason) and "ENABLE_CODEX_SOURCE=false" in result.skip_message
        monkeypatch.setenv("ENABLE_CODEX_SOURCE", "flase")
        typo = evaluate(dg.build_sensor_context(instance=instance, resources={"index": index}), Source.CODEX, index)
        assert isinstance(typo, dg.SkipReason) and "'flase' is not a boolean" in typo.skip_message
