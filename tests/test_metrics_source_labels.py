"""Parser/indexer metrics carry source, stage and result labels with exact values, in the
index_metrics table, the Prometheus textfile and the structured logs.
The corpus has known failures: a corrupt Codex line, an unreadable Claude file (a dangling
link) and a Codex file under the Claude root."""

import json
import os
import shutil

import duckdb
import pytest
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.synth import generate
from claude_view_pipeline.sources import SOURCE_NAMES

from helpers import run_cli


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    base = tmp_path_factory.mktemp("metrics")
    generate(base / "corpus", claude_sessions=3, codex_sessions=3, seed=71)
    claude_root, codex_root = base / "corpus/claude/projects", base / "corpus/codex/sessions"
    codex_files = sorted(codex_root.rglob("rollout-*.jsonl"))
    corrupt = codex_files[0]
    lines = corrupt.read_text().splitlines(keepends=True)
    corrupt.write_text("".join(lines[:3]) + '{"timestamp": "2026-03-01T08:00:00Z", "type": "event_msg", "payl\n' + "".join(lines[3:]))
    (claude_root / "-broken").mkdir()
    os.symlink(base / "gone.jsonl", claude_root / "-broken" / "dangling.jsonl")
    shutil.copy(codex_files[1], claude_root / "-broken" / "misplaced.jsonl")
    db = base / "index.duckdb"
    prom = base / "textfile" / "claude_view.prom"
    proc = run_cli("index", "--db", str(db), "--claude-dir", str(claude_root), "--codex-dir", str(codex_root),
                   "--json", "--log-format", "json", "--metrics-file", str(prom))
    assert proc.returncode == 0, proc.stderr
    non_blank = {p: sum(1 for line in p.read_text().splitlines() if line.strip()) for p in [*codex_files, *claude_root.rglob("*.jsonl")] if p.exists()}
    return {"db": db, "prom": prom, "stderr": proc.stderr, "summary": json.loads(proc.stdout), "corrupt": corrupt,
            "codex_lines": sum(n for p, n in non_blank.items() if p in codex_files),
            "claude_lines": sum(n for p, n in non_blank.items() if p.suffix == ".jsonl" and "projects" in str(p) and p.name != "misplaced.jsonl")}


def expected_rows(indexed):
    return {
        ("claude", "pass1", "ok", "files_scanned"): 5.0,
        ("claude", "pass2", "ok", "files"): 3.0,
        ("claude", "pass2", "io_error", "files"): 1.0,
        ("claude", "pass2", "source_mismatch", "files"): 1.0,
        ("claude", "pass2", "ok", "lines"): float(indexed["claude_lines"]),
        ("claude", "pass2", "parse_error", "lines"): 0.0,
        ("claude", "pass2", "ok", "sessions_indexed"): 3.0,
        ("codex", "pass1", "ok", "files_scanned"): 3.0,
        ("codex", "pass2", "ok", "files"): 3.0,
        ("codex", "pass2", "ok", "lines"): float(indexed["codex_lines"] - 1),
        ("codex", "pass2", "parse_error", "lines"): 1.0,
        ("codex", "pass2", "ok", "sessions_indexed"): 3.0,
        # a source with no files here still reports its zeros, so its series exist from the start
        **{(s, stage, result, metric): 0.0 for s in SOURCE_NAMES if s not in ("claude", "codex")
           for stage, result, metric in [("pass1", "ok", "files_scanned"), ("pass2", "ok", "lines"),
                                         ("pass2", "parse_error", "lines"), ("pass2", "ok", "sessions_indexed")]},
    }


def test_index_metrics_table_has_labelled_exact_values(indexed):
    con = duckdb.connect(str(indexed["db"]), read_only=True)
    rows = con.execute("SELECT source, stage, result, metric, value FROM index_metrics WHERE metric NOT LIKE 'parse_ms%'").fetchall()
    latency = con.execute("SELECT source, metric, value FROM index_metrics WHERE metric = 'parse_ms_count' ORDER BY source").fetchall()
    con.close()
    assert {(s, st, r, m): v for s, st, r, m, v in rows} == expected_rows(indexed)
    assert latency == [("claude", "parse_ms_count", 5.0), ("codex", "parse_ms_count", 3.0)]


def test_prometheus_textfile_parses_with_the_same_values(indexed):
    text = indexed["prom"].read_text()
    samples, types = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    name = {"files_scanned": "claude_view_files_scanned", "files": "claude_view_files", "lines": "claude_view_lines",
            "sessions_indexed": "claude_view_sessions_indexed"}
    for (source, stage, result, metric), value in expected_rows(indexed).items():
        key = (name[metric], tuple(sorted({"source": source, "stage": stage, "result": result}.items())))
        assert samples[key] == value, key
    assert samples[("claude_view_sessions", (("source", "claude"),))] == 3.0
    assert samples[("claude_view_parse_latency_ms_count", (("source", "codex"), ("stage", "pass2")))] == 3.0
    # parse latency is one summary family (quantiles, _count, _sum), not gauges named like one
    assert types["claude_view_parse_latency_ms"] == "summary"
    assert {q for (n, labels) in samples if n == "claude_view_parse_latency_ms"
            for k, q in labels if k == "quantile"} == {"0.5", "0.95", "1"}
    # the metrics command prints the same exposition
    proc = run_cli("metrics", "--db", str(indexed["db"]))
    assert proc.returncode == 0 and proc.stdout == text


def test_structured_logs_name_source_file_parser_stage_and_result(indexed):
    events = [json.loads(line) for line in indexed["stderr"].splitlines() if line.startswith("{")]
    by_result = {(e["source"], e["result"]): e for e in events}
    assert set(by_result) == {("claude", "io_error"), ("claude", "source_mismatch"), ("codex", "parse_error")}
    io = by_result[("claude", "io_error")]
    assert io["file_path"].endswith("-broken/dangling.jsonl") and io["stage"] == "pass2"
    assert io["parser"] == "claude_view_pipeline.parsers.claude" and io["level"] == "warning"
    bad_line = by_result[("codex", "parse_error")]
    assert bad_line["file_path"] == str(indexed["corrupt"]) and bad_line["session_id"].startswith("codex:")
    assert bad_line["detail"] == "1 malformed line(s)"


def test_percentile_is_nearest_rank():
    from claude_view_pipeline.pipeline import percentile

    values = [float(v) for v in range(1, 21)]
    assert [percentile(values, q) for q in (0.5, 0.95, 0.99, 1.0, 0.0)] == [10.0, 19.0, 20.0, 20.0, 1.0]
    assert percentile([7.0], 0.95) == 7.0 and percentile([], 0.5) == 0.0
