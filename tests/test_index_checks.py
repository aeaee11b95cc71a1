"""Each integrity check passes on a good index and fails, naming the offending rows, on a
deliberately corrupted one. Corruption is written into a schema-v1 table (v1 lacked the
constraints v2 enforces), or handed to the check as a frame where even v1 forbids it."""

import logging

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.index import index_assets
from orchestration.resources import IndexSettings
from assets.index import partition_keys_from_tags
from checks.index_checks import index_checks
from claude_view_pipeline.integrity import CHECKS, CHECKS_BY_NAME, check_sql, run_check
from claude_view_pipeline.integrity.schemas import validate
from claude_view_pipeline.store import connect, migrate

from helpers import FIXTURES

GOOD = [("claude:a", "claude", "a", 1, 2, 3, 4, 10, "r1"), ("codex:b", "codex", "b", 5, 0, 0, 5, 10, "r1")]

# check -> (session rows to add to GOOD, message rows to add, ids the check must name)
CORRUPTIONS = {
    "sessions_source_valid": ([("nosuch:c", "nosuch", "c", 0, 0, 0, 0, 0, "r1"), ("claude:n", None, "n", 0, 0, 0, 0, 0, "r1")], [], ["nosuch:c", "claude:n"]),
    "sessions_source_session_id_present": ([("claude:", "claude", "", 0, 0, 0, 0, 0, "r1"), ("claude:x", "claude", None, 0, 0, 0, 0, 0, "r1")], [], ["claude:", "claude:x"]),
    "sessions_id_canonical": ([("abc", "claude", "abc", 0, 0, 0, 0, 0, "r1"), ("codex:d", "claude", "d", 0, 0, 0, 0, 0, "r1")], [], ["abc", "codex:d"]),
    "sessions_source_session_id_unique": ([("codex:b2", "codex", "b", 0, 0, 0, 0, 0, "r1")], [], ["codex:b", "codex:b2"]),
    "sessions_tokens_consistent": ([("claude:t", "claude", "t", -5, 0, 0, 5, 0, "r1"), ("claude:u", "claude", "u", 1, 1, 1, 1, 5, "r1")], [], ["claude:t", "claude:u"]),
    "messages_reference_sessions": ([], [("claude:ghost", "claude", 0, "r1")], ["claude:ghost"]),
    "partition_writes_own_source": ([], [("codex:b", "codex", 0, "r1")], ["codex:b#0"]),
}


def v1_index(tmp_path, sessions, messages):
    con = connect(tmp_path / "i.duckdb")
    migrate(con, target=1)
    # GOOD first, then the corrupt rows: the first of a duplicated pair is the good one
    con.executemany(
        "INSERT INTO sessions (id, source, source_session_id, input_tokens, cache_read_tokens, cache_creation_tokens,"
        " output_tokens, total_tokens, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", sessions)
    con.executemany("INSERT INTO messages (session_id, source, ordinal, role, run_id) VALUES (?, ?, ?, 'user', ?)",
                    [("claude:a", "claude", 0, "r1"), *messages])
    return con


def named_ids(outcome):
    frame = outcome.failing_rows
    col = next(c for c in ("id", "session_id", "row_id") if c in frame.columns)
    return sorted(frame[col].to_list())


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_check_fails_on_corruption_and_names_the_rows(tmp_path, name):
    sessions, messages, expected = CORRUPTIONS[name]
    # partition_writes_own_source: run r1 wrote the 'claude' partition only
    sources = ["claude"] if name == "partition_writes_own_source" else None
    con = v1_index(tmp_path, (GOOD if name != "partition_writes_own_source" else GOOD[:1]) + sessions, messages)
    outcome = run_check(CHECKS_BY_NAME[name], con, run_id="r1", sources=sources)
    con.close()
    assert not outcome.passed
    assert named_ids(outcome) == sorted(expected)


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_check_passes_on_a_good_index(tmp_path, check):
    con = v1_index(tmp_path, GOOD, [("codex:b", "codex", 0, "r1")])
    outcome = run_check(check, con, run_id="r1", sources=["claude", "codex"])
    con.close()
    assert outcome.passed and outcome.rows_checked > 0


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_each_checks_sql_rule_equals_its_pandera_schema(tmp_path, name):
    """DuckDB narrows a check's rows to the offending ones and only those reach pandera: on
    every corruption, the rows the SQL rule selects are exactly the rows pandera fails."""
    sessions, messages, expected = CORRUPTIONS[name]
    sources = ["claude"] if name == "partition_writes_own_source" else None
    con = v1_index(tmp_path, (GOOD if name != "partition_writes_own_source" else GOOD[:1]) + sessions, messages)
    check = CHECKS_BY_NAME[name]
    rows_sql, rows_params = check_sql(check.rows, "r1", sources)
    judged = validate(check, con.sql(rows_sql, params=rows_params).pl(), sources)
    offending_sql, params = check_sql(check.offending, "r1", sources)
    offending = con.sql(offending_sql, params=params).pl()
    con.close()
    key = next(c for c in ("id", "session_id", "row_id") if c in offending.columns)
    assert sorted(offending[key].to_list()) == named_ids(judged) == sorted(expected)


def test_pandera_judges_every_row_the_run_wrote_not_only_what_sql_flagged(tmp_path):
    # an id of an em space only: DuckDB's \s (ASCII) does not call it blank, pandera does.
    # Were pandera shown only the rows SQL flags, this row would pass
    con = v1_index(tmp_path, GOOD + [("claude:\u2003", "claude", "\u2003", 0, 0, 0, 0, 0, "r1")], [])
    check = CHECKS_BY_NAME["sessions_source_session_id_present"]
    offending_sql, params = check_sql(check.offending, "r1")
    assert con.execute(f"SELECT count(*) FROM ({offending_sql})", params).fetchone()[0] == 0
    outcome = run_check(check, con, run_id="r1")
    con.close()
    assert not outcome.passed and outcome.rows_checked == 3 and named_ids(outcome) == ["claude:\u2003"]


def test_duplicate_ids_fail_the_uniqueness_check():
    # even schema v1 had a primary key on id, so this corruption is checked as a frame
    outcome = validate(CHECKS_BY_NAME["sessions_id_unique"], pl.DataFrame({"id": ["claude:a", "codex:b", "claude:a"]}))
    assert not outcome.passed and outcome.failing_rows["id"].to_list() == ["claude:a", "claude:a"]


def test_partition_keys_from_run_tags():
    assert partition_keys_from_tags({"dagster/partition": "codex"}) == ["codex"]
    assert partition_keys_from_tags({"dagster/asset_partition_range_start": "claude", "dagster/asset_partition_range_end": "codex"}) == ["claude", "codex"]
    assert partition_keys_from_tags({"dagster/asset_partition_range_start": "codex", "dagster/asset_partition_range_end": "codex"}) == ["codex"]
    assert partition_keys_from_tags({}) == []


def test_blocking_check_fails_the_run_and_shows_failing_rows(tmp_path):
    index = IndexSettings(db_path=str(tmp_path / "i.duckdb"), dirs={"claude": str(FIXTURES / "claude")})
    assert dg.materialize(index_assets + index_checks, resources={"index": index}, partition_key="claude").success
    con = duckdb.connect(index.db_path)
    con.execute("UPDATE sessions SET total_tokens = total_tokens + 1 WHERE id = 'claude:5c1b0d2e-0001-4a5b-9c6d-7e8f90a1b2c3'")
    con.close()
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(index_assets + index_checks, resources={"index": index}, partition_key="claude",
                                raise_on_error=False, instance=instance)
        logged = [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.ERROR]
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [e.check_name for e in failed] == ["sessions_tokens_consistent"]
    assert "claude:5c1b0d2e-0001-4a5b-9c6d-7e8f90a1b2c3" in failed[0].metadata["failing_rows_sample"].value
    # where Dagster users look: the run's event log
    (line,) = [m for m in logged if m.startswith("check ")]
    assert line.startswith("check sessions_tokens_consistent failed on 1 of 14 rows: ")
