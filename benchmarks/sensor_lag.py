"""Sensor lag: from a session file written to disk to its row visible in `sessions`, under a
real `dagster dev` on this machine. Prints p50/p95/max over several files and a JSON line.

    .venv/bin/python -m benchmarks.sensor_lag [--files 8] [--interval 5]

Files are written one at a time (each waits for the previous to be indexed), into the Codex
and Claude roots in turn, so each measurement is one sensor tick plus one run."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.synth import generate
from claude_view_pipeline.pipeline import percentile

from .devserver import dagster_dev, wait_for

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=8)
    p.add_argument("--interval", type=int, default=3, help="sensor minimum interval, seconds (the shipped default is 3)")
    a = p.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="sensor-lag-"))
    corpus = base / "corpus"
    generate(corpus, claude_sessions=20, codex_sessions=20, seed=5)
    started = time.monotonic()
    with dagster_dev(base, corpus, a.interval) as (server, _):
        serve_s = time.monotonic() - started
        # the initial index of both roots, by the sensors themselves
        wait_for(lambda: server.db.exists() and server.sessions() == {"claude": 20, "codex": 20}, 300, "the initial index")
        lags = []
        codex_text = (FIXTURES / "codex" / "minimal.jsonl").read_text()
        claude_text = (FIXTURES / "claude" / "minimal.jsonl").read_text()
        for i in range(a.files):
            if i % 2 == 0:
                sid = f"0199b000-0000-7000-8000-{i:012d}"
                path = corpus / "codex/sessions/2026/11/26" / f"rollout-2026-11-26T10-00-{i:02d}-{sid}.jsonl"
                text, wanted = codex_text.replace("0199a000-0000-7000-8000-000000000001", sid), f"codex:{sid}"
            else:
                sid = f"5c1b0d2e-{i:04d}-4a5b-9c6d-7e8f90a1b2c3"
                path = corpus / "claude/projects/-lag" / f"{sid}.jsonl"
                text, wanted = claude_text.replace("5c1b0d2e-0001-4a5b-9c6d-7e8f90a1b2c3", sid), f"claude:{sid}"
            path.parent.mkdir(parents=True, exist_ok=True)
            t0 = time.monotonic()
            path.write_text(text)
            wait_for(lambda: server.has_session(wanted), 300, f"{wanted} to be indexed", interval=0.1)
            lags.append(time.monotonic() - t0)
            print(f"  file {i + 1}/{a.files} ({wanted.split(':')[0]}): {lags[-1]:.2f} s", flush=True)
    lags.sort()
    result = {
        "files": len(lags),
        "sensor_interval_s": a.interval,
        "dagster_dev_serve_s": round(serve_s, 1),
        "lag_p50_s": round(statistics.median(lags), 2),
        "lag_p95_s": round(percentile(lags, 0.95), 2),
        "lag_max_s": round(lags[-1], 2),
    }
    print(f"sensor lag over {len(lags)} files (interval {a.interval} s): p50 {result['lag_p50_s']} s, "
          f"p95 {result['lag_p95_s']} s, max {result['lag_max_s']} s; dagster dev served in {result['dagster_dev_serve_s']} s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
