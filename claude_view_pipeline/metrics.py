"""Prometheus text exposition of the index's metrics: the latest run of each source from
``index_metrics`` (labels source, stage, result) plus what the index holds. The CLI writes it
after each run for node_exporter's textfile collector; ``claude-view-pipeline metrics``
prints it."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest, write_to_textfile
from prometheus_client.core import GaugeMetricFamily, Metric

from .store import connect

PREFIX = "claude_view"
# index_metrics metric -> (exposed name, help)
_PER_RESULT = {
    "files_scanned": ("files_scanned", "Session files found by discovery in the latest run."),
    "files": ("files", "Files by outcome of parsing (result = ok or the rejection reason) in the latest run."),
    "lines": ("lines", "JSONL lines by outcome (ok, parse_error) in the latest run."),
    "sessions_indexed": ("sessions_indexed", "Sessions written by the latest run."),
}
# index_metrics latency rows -> (sample suffix, labels) of the summary family
_LATENCY = {"parse_ms_p50": ("", {"quantile": "0.5"}), "parse_ms_p95": ("", {"quantile": "0.95"}),
            "parse_ms_max": ("", {"quantile": "1"}), "parse_ms_count": ("_count", {}), "parse_ms_sum": ("_sum", {})}


class _IndexCollector:
    def __init__(self, db_path: Path):
        self.db_path = db_path

    def collect(self):
        con = connect(self.db_path, read_only=True)
        try:
            rows = con.execute(
                """
                WITH latest AS (
                    SELECT source, arg_max(run_id, recorded_at) AS run_id, max(recorded_at) AS at
                    FROM index_metrics GROUP BY source)
                SELECT m.source, m.stage, m.result, m.metric, m.value, epoch(l.at)
                FROM index_metrics m JOIN latest l ON l.source = m.source AND l.run_id = m.run_id
                ORDER BY ALL
                """
            ).fetchall()
            totals = con.execute(
                "SELECT source, count(*), coalesce(sum(total_tokens), 0), count(*) FILTER (WHERE file_missing) FROM sessions GROUP BY source ORDER BY source"
            ).fetchall()
        finally:
            con.close()
        families = {k: GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=["source", "stage", "result"]) for k, (name, doc) in _PER_RESULT.items()}
        unknown = GaugeMetricFamily(f"{PREFIX}_unknown_events", "Line or payload types the parsers do not know, by type name, in the latest run.", labels=["source", "stage", "type"])
        # one summary family: quantiles 0.5, 0.95 and 1 (the slowest file), _count and _sum
        latency = Metric(f"{PREFIX}_parse_latency_ms", "Pass-2 parse time per file in the latest run, ms.", "summary")
        last_run = GaugeMetricFamily(f"{PREFIX}_last_run_timestamp_seconds", "When the latest run of the source recorded its metrics.", labels=["source"])
        seen_run = set()
        for source, stage, result, metric, value, at in rows:
            if source not in seen_run:
                last_run.add_metric([source], float(at))
                seen_run.add(source)
            if metric in families:
                families[metric].add_metric([source, stage, result], value)
            elif metric == "unknown_events":
                unknown.add_metric([source, stage, result], value)
            elif metric in _LATENCY:
                suffix, extra = _LATENCY[metric]
                latency.add_sample(latency.name + suffix, {"source": source, "stage": stage, **extra}, value)
        sessions = GaugeMetricFamily(f"{PREFIX}_sessions", "Sessions in the index.", labels=["source"])
        tokens = GaugeMetricFamily(f"{PREFIX}_tokens", "Total tokens of the sessions in the index.", labels=["source"])
        missing = GaugeMetricFamily(f"{PREFIX}_sessions_file_missing", "Indexed sessions whose file is gone from disk.", labels=["source"])
        for source, n, tok, gone in totals:
            sessions.add_metric([source], n)
            tokens.add_metric([source], float(tok))
            missing.add_metric([source], gone)
        yield from families.values()
        yield from (unknown, latency, last_run, sessions, tokens, missing)


def _registry(db_path: Path) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(_IndexCollector(db_path))
    return registry


def exposition(db_path: Path) -> str:
    return generate_latest(_registry(db_path)).decode()


def write_textfile(db_path: Path, dest: Path) -> Path:
    """Write atomically (temp file + rename), as the textfile collector requires. A new file
    is private (the process umask); a file whose mode you opened up (so that node_exporter,
    running as another user, can read it) keeps that mode."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        kept_mode = os.stat(dest).st_mode & 0o777
    except FileNotFoundError:
        kept_mode = None
    write_to_textfile(str(dest), _registry(db_path))
    if kept_mode is not None:
        os.chmod(dest, kept_mode)
    return dest


def default_textfile(db_path: Path) -> Path:
    return db_path.parent / "claude_view_pipeline.prom"
