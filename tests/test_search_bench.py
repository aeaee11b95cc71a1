"""The search benchmark runs on a small corpus (seconds), so a crash in it is caught; its
numbers are not judged here (budgets live in its own output, not in timed tests)."""

from benchmarks import search_bench


def test_small_search_benchmark_runs_and_reports_every_budget(tmp_path):
    result = search_bench.run(20, None, tmp_path / "work", runs=1)
    assert set(result["budgets"]) == set(search_bench.BUDGETS)
    measured = set(search_bench.BUDGETS) - {"cli_search_ratio"}  # that one needs ccusage
    assert all(result["budgets"][k]["value"] is not None for k in measured)
    # every message with text of the corpus is a document; the new sessions (2 per source)
    # are the incremental run's only rewrites
    assert result["documents"] > 0 and result["incremental_sessions_written"] == 4
    assert result["queries_timed"] == 10 * len(search_bench.QUERIES)
    assert "query_p95_ms" in search_bench.table(result)
