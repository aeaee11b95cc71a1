"""Declarative automation, evaluated the way the automation sensor does
(dg.evaluate_automation_conditions): daily_usage follows every index change, also with one
source never indexed (Codex disabled), and waits while nothing is indexed; the
verification report runs once a day."""

from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest

from assets.definitions import automation_sensor, defs
from assets.index import index_assets
from orchestration.resources import IndexSettings
from assets.usage import daily_usage
from benchmarks.synth import generate

# Dagster's own evaluation helper passes a beta parameter
pytestmark = pytest.mark.filterwarnings("ignore:Parameter `include_sources`:dagster.BetaWarning")
DAILY_USAGE = dg.AssetKey("daily_usage")
REPORT = dg.AssetKey("verification_report")


@pytest.fixture
def index(tmp_path):
    generate(tmp_path / "c", claude_sessions=2, codex_sessions=2, seed=5)
    return IndexSettings(db_path=str(tmp_path / "i.duckdb"), dirs={"claude": str(tmp_path / "c/claude/projects"), "codex": str(tmp_path / "c/codex/sessions")})


def requested(result) -> set[str]:
    return {key.to_user_string() for key in (DAILY_USAGE, REPORT) if result.get_num_requested(key)}


def test_daily_usage_follows_each_index_change_with_one_source_never_indexed(index):
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert requested(first) == set()  # nothing indexed yet: nothing to roll up

        # only the claude partition (codex disabled, say): its partition stays missing
        assert dg.materialize(index_assets, partition_key="claude", resources={"index": index}, instance=instance).success
        after_index = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
        assert requested(after_index) == {"daily_usage"}

        assert dg.materialize([daily_usage], resources={"index": index}, instance=instance).success
        settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after_index.cursor)
        assert requested(settled) == set()

        assert dg.materialize(index_assets, partition_key="claude", resources={"index": index}, instance=instance).success
        again = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
        assert requested(again) == {"daily_usage"}


def test_daily_usage_waits_for_the_blocking_checks_of_the_run_that_wrote_the_index(index):
    import duckdb

    from checks.index_checks import index_checks

    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert dg.materialize(index_assets + index_checks, partition_key="claude", resources={"index": index}, instance=instance).success
        settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
        assert {"daily_usage"} <= requested(settled)  # checks passed: refresh
        assert dg.materialize([daily_usage], resources={"index": index}, instance=instance).success
        settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)

        # a session's totals corrupted: the next run writes the tables, then its blocking check fails
        con = duckdb.connect(index.db_path)
        con.execute("UPDATE sessions SET total_tokens = total_tokens + 1 WHERE source = 'claude'")
        con.close()
        failed = dg.materialize(index_assets + index_checks, partition_key="claude", resources={"index": index},
                                instance=instance, raise_on_error=False)
        assert not failed.success and any(not e.passed for e in failed.get_asset_check_evaluations())
        after_failure = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
        assert "daily_usage" not in requested(after_failure)  # no refresh from an index that failed its checks

        # repaired (a full reindex rewrites every row): the checks pass and the refresh follows
        full = IndexSettings(db_path=index.db_path, dirs=index.dirs)
        con = duckdb.connect(index.db_path)
        con.execute("UPDATE indexed_files SET size = -1")
        con.close()
        assert dg.materialize(index_assets + index_checks, partition_key="claude", resources={"index": full}, instance=instance).success
        repaired = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after_failure.cursor)
        assert "daily_usage" in requested(repaired)


def test_verification_report_runs_once_a_day():
    day = datetime(2026, 11, 26, 15, 0, tzinfo=timezone.utc)
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=day)
        assert REPORT.to_user_string() not in requested(first)
        same_day = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor,
                                                     evaluation_time=day + timedelta(hours=8))
        assert REPORT.to_user_string() not in requested(same_day)
        next_day = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=same_day.cursor,
                                                     evaluation_time=day + timedelta(hours=9, minutes=1))
        assert REPORT.to_user_string() in requested(next_day)


def test_automation_sensor_is_on_by_default_and_covers_both_assets():
    assert automation_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    graph = defs.resolve_asset_graph()
    automated = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).automation_condition}
    assert automated == {"daily_usage", "usage_blocks", "verification_report", "search_index"}


def test_the_search_index_follows_each_source_partition_of_the_index(index, tmp_path):
    """Only the partition of the source that was indexed is requested (the other sources'
    index partitions never materialize), and once it ran, nothing is."""
    from assets.search import search_index
    from claude_view_pipeline import search

    key = dg.AssetKey("search_index")
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert first.get_num_requested(key) == 0
        assert dg.materialize(index_assets, partition_key="claude", resources={"index": index}, instance=instance).success
        after_index = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
        assert after_index.get_requested_partitions(key) == {"claude"}

        assert dg.materialize([search_index], partition_key="claude", resources={"index": index}, instance=instance).success
        settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after_index.cursor)
        assert settled.get_num_requested(key) == 0
    # the two Claude sessions of the corpus, searchable: each of its prompts says "please look at module"
    prompts = sum(f.read_text().count("please look at module") for f in (tmp_path / "c/claude/projects").rglob("*.jsonl"))
    hits = search.search(tmp_path / "i.duckdb", "module", limit=100)
    assert len(hits) == prompts and {h["source"] for h in hits} == {"claude"}
