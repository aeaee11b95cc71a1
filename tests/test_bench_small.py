"""CI runs the benchmark's small mode (seconds) so a crash in it is caught; the numbers
are not judged here (budgets live in the benchmark's own output, not in timed tests)."""

import json

from benchmarks import bench
from helpers import ON_CI


# the 10x growth run is part of the full benchmark only
FULL_ONLY = {"growth_time_factor", "growth_noop_factor"}
CCUSAGE_RATIOS = {"full_index_ratio", "noop_index_ratio", "usage_daily_ratio", "usage_daily_equal_to_ccusage", "dagster_run_ratio"}


def test_small_benchmark_runs_and_reports_every_budget(tmp_path, store, monkeypatch):
    for name, value in store.items():  # a team store, so the team push is measured too
        monkeypatch.setenv(name, value)
    ccusage = bench.find_ccusage(None)
    # elsewhere the benchmark runs without it; on CI, whose .ci/run installs it, it must be there
    assert ccusage or not ON_CI, "ccusage is missing on CI; .ci/run installs ccusage@20.0.24 into .tools/ccusage"
    result = bench.run(small=True, ccusage=ccusage, keep=tmp_path / "work")
    assert set(result["budgets"]) == set(bench.BUDGETS)
    measured = set(bench.BUDGETS) - FULL_ONLY - (set() if ccusage else CCUSAGE_RATIOS)
    assert all(result["budgets"][k]["value"] is not None for k in measured)
    assert result["corpus"]["sessions_per_source"] == 50
    assert result["messages_stored"] > 0 and result["turns"] > 0
    if ccusage:  # tokens per day x model equal to ccusage's after new sessions arrived
        assert result["usage_daily_equal_to_ccusage"] == 1.0
    text = bench.table(result)
    assert "full_index_ratio" in text and "huge file" in text
    json.dumps(result)  # serialisable for CI artifacts
