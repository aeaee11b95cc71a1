"""Performance benchmark with budgets (hardening plan Task 5, budgets ten times tighter).

    python -m claude_view_pipeline.bench            # the full run (minutes; ~170 MB corpus, 1 GB file)
    python -m claude_view_pipeline.bench --small    # seconds: what CI runs so a crash is caught
    ... [--json-out FILE] [--ccusage PATH] [--keep DIR]

Everything runs on a deterministic synthetic corpus it generates (claude_view_pipeline.synth).
It prints a table (figure, budget, verdict and by how much a budget is missed) and a JSON
summary. Wall times of subprocesses include interpreter start-up; peak RSS is the largest
single process of the measured command (its pool workers are separate processes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .config import environ_without_settings
from .discovery import discover
from .parsers import parse_file
from .pipeline import percentile
from .sources import Source
from .synth import generate

# budgets on a 2-core machine (issue: ten times the hardening plan's)
BUDGETS = {
    "discovery_1000_codex_ms": 15.0,
    "parse_median_ms_claude": 3.5,
    "parse_median_ms_codex": 3.5,
    "full_index_s": 3.0,
    "full_index_peak_rss_mb": 300.0,
    "noop_core_s": 0.1,
    "huge_file_peak_rss_mb": 300.0,
}
# per-source tool-output padding that makes an average session ~42 KB, as real ones are
PAD_BYTES = (2200, 10500)
REPO = Path(__file__).resolve().parent.parent


def _rusage_run(cmd: list[str], env: dict | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run cmd in a fresh wrapper so RUSAGE_CHILDREN covers this command only.
    Returns (wall seconds, peak RSS MB of its largest process, completed process)."""
    wrapper = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "wall = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps({'wall': wall, 'rss': rss, 'rc': p.returncode, 'out': p.stdout[-20000:], 'err': p.stderr[-5000:]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, env=env, check=True)
    r = json.loads(out.stdout)
    return r["wall"], r["rss"], subprocess.CompletedProcess(cmd, r["rc"], r["out"], r["err"])


def _cli(args: list[str], env_extra: dict | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    return _rusage_run([sys.executable, "-m", "claude_view_pipeline", *args], environ_without_settings(env_extra))


def bench_discovery(base: Path, n: int) -> float:
    root = base / "discovery" / "sessions"
    generate(base / "discovery-src", claude_sessions=0, codex_sessions=n, seed=1)
    shutil.move(str(base / "discovery-src" / "codex" / "sessions"), str(root))
    times = []
    for _ in range(7):
        t = time.perf_counter()
        files = discover(Source.CODEX, [root, root.parent / "archived_sessions"])
        times.append((time.perf_counter() - t) * 1000)
    assert len(files) == n
    return statistics.median(times)


def bench_parse(corpus: Path) -> dict:
    out = {}
    for source, root in ((Source.CLAUDE, corpus / "claude/projects"), (Source.CODEX, corpus / "codex/sessions")):
        files = discover(source, [root])
        times = []
        for f in files:
            t = time.perf_counter()
            r = parse_file(source, f.path)
            times.append((time.perf_counter() - t) * 1000)
            assert r.ok, (f.path, r.rejection)
        times.sort()
        out[source.value] = {
            "files": len(files),
            "mean_kb": round(sum(f.size for f in files) / len(files) / 1024, 1),
            "median_ms": round(statistics.median(times), 3),
            "p95_ms": round(percentile(times, 0.95), 3),
        }
    return out


def bench_noop_core(corpus: Path, db: Path) -> float:
    """Discovery, the fingerprint diff, an empty parse and an empty write, without Dagster."""
    from . import pipeline
    from .staging import StagingArea

    staging = StagingArea.beside(db)
    t = time.perf_counter()
    for source, root in ((Source.CLAUDE, corpus / "claude/projects"), (Source.CODEX, corpus / "codex/sessions")):
        d = pipeline.stage_session_files(source, [root], db, staging)
        assert d.new == d.changed == 0, d
        pipeline.stage_parsed_sessions(source, staging)
        pipeline.load_session_index(source, staging, db)
    return time.perf_counter() - t


def write_huge_codex_file(path: Path, target_bytes: int) -> int:
    """One Codex session of about target_bytes, written in a stream (turns repeated)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"timestamp": "2026-01-01T00:00:00.000Z", "type": "session_meta",
            "payload": {"id": "0199f000-0000-7000-8000-000000000001", "cwd": "/home/dev/huge", "cli_version": "0.77.0"}}
    total_in = total_out = 0
    turns = 0
    with open(path, "w") as fh:
        fh.write(json.dumps(meta) + "\n")
        fh.write(json.dumps({"timestamp": "2026-01-01T00:00:00.100Z", "type": "turn_context", "payload": {"model": "gpt-5-codex"}}) + "\n")
        filler = "x" * 4000
        while fh.tell() < target_bytes:
            turns += 1
            total_in += 1000
            total_out += 50
            ts = f"2026-01-01T{(turns // 3600) % 24:02d}:{(turns // 60) % 60:02d}:{turns % 60:02d}.000Z"
            for line in (
                {"timestamp": ts, "type": "event_msg", "payload": {"type": "user_message", "message": f"turn {turns}"}},
                {"timestamp": ts, "type": "response_item", "payload": {"type": "function_call", "name": "shell", "arguments": "{}", "call_id": f"c{turns}"}},
                {"timestamp": ts, "type": "response_item", "payload": {"type": "function_call_output", "call_id": f"c{turns}", "output": filler}},
                {"timestamp": ts, "type": "event_msg", "payload": {"type": "token_count", "info": {"total_token_usage": {
                    "input_tokens": total_in, "cached_input_tokens": 0, "output_tokens": total_out, "reasoning_output_tokens": 0}}}},
            ):
                fh.write(json.dumps(line) + "\n")
    return turns


def bench_huge(base: Path, target_bytes: int) -> dict:
    path = base / "huge" / "sessions" / "2026" / "01" / "01" / "rollout-2026-01-01T00-00-00-0199f000-0000-7000-8000-000000000001.jsonl"
    turns = write_huge_codex_file(path, target_bytes)
    code = ("import sys; from claude_view_pipeline.parsers import parse_file; from claude_view_pipeline.sources import Source\n"
            "r = parse_file(Source.CODEX, sys.argv[1]); print(len(r.sessions[0].messages), r.rejection)")
    wall, rss, proc = _rusage_run([sys.executable, "-c", code, str(path)])
    assert proc.returncode == 0, proc.stderr
    messages = int(proc.stdout.split()[0])
    assert messages == 3 * turns, (messages, turns)
    return {"bytes": path.stat().st_size, "turns": turns, "parse_wall_s": round(wall, 2), "peak_rss_mb": round(rss, 1)}


def find_ccusage(explicit: str | None) -> str | None:
    for candidate in (explicit, os.environ.get("CCUSAGE"), str(REPO / ".tools/ccusage/node_modules/.bin/ccusage"), shutil.which("ccusage")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def bench_ccusage(ccusage: str, corpus: Path) -> float:
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(corpus / "claude"), "CODEX_HOME": str(corpus / "codex")}
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        proc = subprocess.run([ccusage, "session", "--json", "--offline"], capture_output=True, text=True, env=env)
        runs.append(time.perf_counter() - t)
        assert proc.returncode == 0, proc.stderr[-2000:]
    return statistics.median(runs)


def run(small: bool, ccusage: str | None, keep: Path | None) -> dict:
    sessions = 50 if small else 2000
    huge_bytes = 5 * 2**20 if small else 2**30
    base = keep or Path(tempfile.mkdtemp(prefix="cvp-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    corpus = base / "corpus"
    result: dict = {
        "mode": "small" if small else "full",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "corpus": {"sessions_per_source": sessions},
    }
    try:
        t = time.perf_counter()
        generate(corpus, claude_sessions=sessions, codex_sessions=sessions, seed=2026, pad_bytes=PAD_BYTES)
        result["corpus"]["generate_s"] = round(time.perf_counter() - t, 2)
        result["corpus"]["mb"] = round(sum(p.stat().st_size for p in corpus.rglob("*.jsonl")) / 2**20, 1)

        result["discovery_1000_codex_ms"] = round(bench_discovery(base, 1000 if not small else 200), 2)
        parse = bench_parse(corpus)
        result["parse"] = parse
        result["parse_median_ms_claude"] = parse["claude"]["median_ms"]
        result["parse_median_ms_codex"] = parse["codex"]["median_ms"]

        db = base / "index.duckdb"
        dirs = ["--claude-dir", str(corpus / "claude/projects"), "--codex-dir", str(corpus / "codex/sessions")]
        wall, rss, proc = _cli(["index", "--db", str(db), *dirs, "--json"])
        assert proc.returncode == 0, proc.stderr
        summary = json.loads(proc.stdout)
        assert [summary["sources"][s]["sessions"] for s in ("claude", "codex")] == [sessions, sessions]
        result["full_index_s"] = round(wall, 2)
        result["full_index_peak_rss_mb"] = round(rss, 1)
        result["messages_stored"] = sum(summary["sources"][s]["messages"] for s in ("claude", "codex"))

        wall, _, proc = _cli(["index", "--db", str(db), *dirs, "--json"])
        assert proc.returncode == 0, proc.stderr
        result["noop_end_to_end_s"] = round(wall, 2)
        result["noop_core_s"] = round(bench_noop_core(corpus, db), 3)

        huge = bench_huge(base, huge_bytes)
        result["huge_file"] = huge
        result["huge_file_peak_rss_mb"] = huge["peak_rss_mb"]

        if ccusage:
            cc = bench_ccusage(ccusage, corpus)
            result["ccusage"] = {"bin": ccusage, "session_json_offline_s": round(cc, 2),
                                 "ratio_full_index_to_ccusage": round(result["full_index_s"] / cc, 2)}
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
    result["budgets"] = {k: {"budget": b, "value": result.get(k), "ok": result.get(k) is not None and result[k] <= b,
                             "miss_factor": None if result.get(k) is None or result[k] <= b else round(result[k] / b, 1)}
                         for k, b in BUDGETS.items()}
    return result


def table(result: dict) -> str:
    lines = [f"claude-view-pipeline benchmark ({result['mode']}): {result['corpus']['sessions_per_source']} sessions per source, "
             f"{result['corpus']['mb']} MB, {result['machine']['cpus']} cores", "",
             f"{'figure':<28}{'value':>12}{'budget':>10}  verdict"]
    for k, b in result["budgets"].items():
        verdict = "ok" if b["ok"] else f"MISSED by {b['miss_factor']}x"
        lines.append(f"{k:<28}{b['value']!s:>12}{b['budget']!s:>10}  {verdict}")
    for k in ("noop_end_to_end_s", "messages_stored"):
        lines.append(f"{k:<28}{result[k]!s:>12}")
    for s, p in result["parse"].items():
        lines.append(f"parse {s:<22}median {p['median_ms']} ms, p95 {p['p95_ms']} ms over {p['files']} files of {p['mean_kb']} KB")
    h = result["huge_file"]
    lines.append(f"{'huge file':<28}{h['bytes'] / 2**20:.0f} MB, {h['turns']} turns: {h['parse_wall_s']} s, peak RSS {h['peak_rss_mb']} MB")
    if "ccusage" in result:
        c = result["ccusage"]
        lines.append(f"{'ccusage session --json':<28}{c['session_json_offline_s']} s; full index / ccusage = {c['ratio_full_index_to_ccusage']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true", help="a run of seconds (CI)")
    p.add_argument("--json-out", type=Path, help="also write the JSON summary here")
    p.add_argument("--ccusage", help="ccusage binary to compare with (default: $CCUSAGE, .tools/ccusage, PATH)")
    p.add_argument("--keep", type=Path, help="work in this directory and keep it")
    a = p.parse_args(argv)
    result = run(a.small, find_ccusage(a.ccusage), a.keep)
    print(table(result))
    print(json.dumps(result, sort_keys=True))
    if a.json_out:
        a.json_out.parent.mkdir(parents=True, exist_ok=True)
        a.json_out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
