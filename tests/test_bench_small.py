"""CI runs the benchmark's small mode (seconds) so a crash in it is caught; the numbers
are not judged here (budgets live in the benchmark's own output, not in timed tests)."""

import json

from claude_view_pipeline import bench


def test_small_benchmark_runs_and_reports_every_budget(tmp_path):
    result = bench.run(small=True, ccusage=None, keep=tmp_path / "work")
    assert set(result["budgets"]) == set(bench.BUDGETS)
    assert all(b["value"] is not None for b in result["budgets"].values())
    assert result["corpus"]["sessions_per_source"] == 50
    assert result["messages_stored"] > 0 and result["huge_file"]["turns"] > 0
    text = bench.table(result)
    assert "full_index_s" in text and "huge file" in text
    json.dumps(result)  # serialisable for CI artifacts
