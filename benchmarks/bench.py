"""Speed and memory against budgets, measured as ratios to ccusage in the same run.

    .venv/bin/python -m benchmarks.bench              # the full run (minutes; ~170 MB corpus, 1 GB file, 10x growth)
    .venv/bin/python -m benchmarks.bench --small      # seconds: what CI runs so a crash is caught
    ... [--json-out FILE] [--ccusage PATH] [--keep DIR] [--no-growth]

Everything runs on a deterministic synthetic corpus (benchmarks.synth) through the real CLI
in subprocesses (wall time includes interpreter start-up, as a user sees it; peak RSS is the
largest single process of the command). This machine is shared and its speed drifts, so a
budget on time is a ratio to ccusage (npm ccusage@20.0.24) timed in the same run, each figure
the median of a few runs alternated with ccusage's. The table prints every figure next to its
budget; nothing here fails a build.
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
from collections import defaultdict
from pathlib import Path

from claude_view_pipeline.config import environ_without_settings
from claude_view_pipeline.discovery import discover
from claude_view_pipeline.sources import SOURCE_NAMES, Source

from .synth import generate, source_dir

# figure -> (budget, "max" = at most, "min" = at least)
BUDGETS = {
    "full_index_ratio": (3.0, "max"),           # index of a fresh DB / ccusage session --json --offline
    "full_index_peak_rss_mb": (300.0, "max"),
    "noop_index_ratio": (1.0, "max"),           # index with nothing changed / the same ccusage run
    "noop_index_peak_rss_mb": (150.0, "max"),
    "usage_daily_ratio": (1.5, "max"),          # usage daily --json after new sessions / ccusage daily --json --offline
    "usage_daily_equal_to_ccusage": (1.0, "min"),  # 1 when tokens per day x model are equal
    "huge_file_mb_per_s": (100.0, "min"),
    "huge_file_peak_rss_mb": (300.0, "max"),
    "long_line_rss_factor": (3.0, "max"),       # peak RSS above the same file's with a short line / the long line's size
    "growth_time_factor": (10.0, "max"),        # full index at 10x the corpus / at 1x
    "growth_noop_factor": (3.0, "max"),         # no-op at 10x / at 1x
    "dagster_run_ratio": (4.0, "max"),
    "team_push_ratio": (2.0, "max"),            # team push of the full index / that index's own full run (needs a team store)
    # the every-source corpus (all six agents): a no-op over all of them / ccusage session (all agents)
    "all_sources_noop_index_ratio": (1.0, "max"),
    "all_sources_full_index_ratio": (3.0, "max"),
    # a no-op with four sources not installed, minus the same no-op with only the two installed ones
    "absent_sources_noop_ms": (25.0, "max"),
}
# where ccusage reads each agent's files: the directory above the one our --<source>-dir takes
CCUSAGE_DIR_ENV = {"claude": "CLAUDE_CONFIG_DIR", "codex": "CODEX_HOME", "gemini": "GEMINI_DATA_DIR",
                   "qwen": "QWEN_DATA_DIR", "copilot": "COPILOT_HOME", "opencode": "OPENCODE_DATA_DIR"}
# per-source tool-output padding that makes an average session ~42 KB, as real ones are
PAD_BYTES = (2200, 10500)
REPO = Path(__file__).resolve().parent.parent
TOKENS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens")


def _rusage_run(cmd: list[str], env: dict | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run cmd in a fresh wrapper so RUSAGE_CHILDREN covers this command only.
    Returns (wall seconds, peak RSS MB of its largest process, completed process)."""
    wrapper = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "wall = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps({'wall': wall, 'rss': rss, 'rc': p.returncode, 'out': p.stdout, 'err': p.stderr[-5000:]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, env=env, check=True, cwd=REPO)
    r = json.loads(out.stdout)
    return r["wall"], r["rss"], subprocess.CompletedProcess(cmd, r["rc"], r["out"], r["err"])


def _cli(args: list[str], env_extra: dict | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    wall, rss, proc = _rusage_run([sys.executable, "-m", "claude_view_pipeline", *args], environ_without_settings(env_extra))
    assert proc.returncode == 0, proc.stderr
    return wall, rss, proc


def _dirs(corpus: Path, names: tuple[str, ...] = SOURCE_NAMES) -> list[str]:
    """Every source pointed into the corpus, so a source the corpus lacks is one not installed
    (and nothing is read from this machine's own agent directories)."""
    return [arg for name in names for arg in (f"--{name}-dir", str(source_dir(corpus, name)))]


class Ccusage:
    def __init__(self, binary: str | None):
        self.binary = binary

    def _run(self, corpus: Path, *args: str) -> tuple[float, str]:
        env = {**os.environ, **{var: str(corpus / name) for name, var in CCUSAGE_DIR_ENV.items()}}
        t = time.perf_counter()
        proc = subprocess.run([self.binary, *args, "--json", "--offline"], capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t
        assert proc.returncode == 0, proc.stderr[-2000:]
        return wall, proc.stdout

    def session(self, corpus: Path, agent: str | None = None) -> float:
        """``ccusage session`` over every agent it knows, or ``ccusage <agent> session``."""
        return self._run(corpus, *([agent] if agent else []), "session")[0]

    def daily(self, corpus: Path) -> tuple[float, dict]:
        wall, out = self._run(corpus, "daily", "--timezone", "UTC")
        tokens = {}
        for day in json.loads(out)["daily"]:
            for m in day["modelBreakdowns"]:
                tokens[(day["period"], m["modelName"])] = (m["inputTokens"], m["cacheReadTokens"], m["cacheCreationTokens"], m["outputTokens"])
        return wall, tokens


def _median_pairs(n: int, ours, theirs) -> tuple[float, float, list]:
    """Alternate our measurement with ccusage's n times: (median ours, median theirs, extra)."""
    a, b, extra = [], [], []
    for _ in range(n):
        wall, *rest = ours()
        a.append(wall)
        extra.append(rest)
        if theirs:
            b.append(theirs())
    return statistics.median(a), (statistics.median(b) if b else None), extra


def bench_full_and_noop(base: Path, corpus: Path, cc: Ccusage | None, runs: int) -> dict:
    """A full index of a fresh DB (median of runs) and a no-op index after it."""
    counter = iter(range(1000))

    def full():
        db = base / f"full-{next(counter)}" / "index.duckdb"
        wall, rss, proc = _cli(["index", "--db", str(db), *_dirs(corpus), "--json"])
        return wall, rss, db, json.loads(proc.stdout)

    session = (lambda: cc.session(corpus)) if cc and cc.binary else None
    full_s, cc_s, extra = _median_pairs(runs, full, session)
    rss = max(e[0] for e in extra)
    db, summary = extra[-1][1], extra[-1][2]

    def noop():
        wall, rss, proc = _cli(["index", "--db", str(db), *_dirs(corpus), "--json"])
        assert all(s["files_parsed"] == 0 for s in json.loads(proc.stdout)["sources"].values())
        return wall, rss

    noop_s, cc_noop_s, noop_extra = _median_pairs(runs + 2, noop, session)
    cc_all = [x for x in (cc_s, cc_noop_s) if x is not None]
    return {
        "db": str(db),
        "full_index_s": round(full_s, 2),
        "full_index_peak_rss_mb": round(rss, 1),
        "messages_stored": sum(s["messages"] for s in summary["sources"].values()),
        "noop_index_s": round(noop_s, 3),
        "noop_index_peak_rss_mb": round(max(e[0] for e in noop_extra), 1),
        "ccusage_session_s": round(statistics.median(cc_all), 3) if cc_all else None,
        "full_index_ratio": round(full_s / cc_s, 2) if cc_s else None,
        "noop_index_ratio": round(noop_s / cc_noop_s, 2) if cc_noop_s else None,
    }


def bench_every_source(base: Path, cc: Ccusage | None, sessions: int, runs: int) -> dict:
    """The corpus with every source: a full index and a no-op of all of them against ccusage
    session over all agents, each source's full index against ccusage on that agent alone, and
    what sources that are not installed add to a no-op."""
    corpus = base / "every-source"
    generate(corpus, claude_sessions=sessions, codex_sessions=sessions, seed=2031, pad_bytes=PAD_BYTES,
             more={name: sessions for name in SOURCE_NAMES[2:]})
    counter = iter(range(1000))
    have_cc = bool(cc and cc.binary)
    if have_cc:  # ccusage opens OpenCode's database where it lies and leaves a WAL beside it: a
        cc.session(corpus)  # change our fingerprint rightly sees, so let it happen before we time

    def full(names: tuple[str, ...] = SOURCE_NAMES):
        db = base / f"every-{next(counter)}" / "index.duckdb"
        wall, rss, proc = _cli(["index", "--db", str(db), "--sources", ",".join(names), *_dirs(corpus, names), "--json"])
        return wall, db, json.loads(proc.stdout)

    full_s, cc_s, extra = _median_pairs(runs, full, (lambda: cc.session(corpus)) if have_cc else None)
    db, summary = extra[-1]
    assert all(summary["sources"][name]["sessions"] > 0 for name in SOURCE_NAMES), summary

    def noop(names: tuple[str, ...] = SOURCE_NAMES):
        wall, _, proc = _cli(["index", "--db", str(db), *_dirs(corpus, names), "--sources", ",".join(names), "--json"])
        assert all(s["files_parsed"] == 0 for s in json.loads(proc.stdout)["sources"].values())
        return (wall,)

    noop_s, cc_noop_s, _ = _median_pairs(runs + 2, noop, (lambda: cc.session(corpus)) if have_cc else None)
    out = {
        "every_source_sessions_per_source": sessions,
        "every_source_mb": round(sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file()) / 2**20, 1),
        "all_sources_full_index_s": round(full_s, 2),
        "all_sources_noop_index_s": round(noop_s, 3),
        "all_sources_full_index_ratio": round(full_s / cc_s, 2) if cc_s else None,
        "all_sources_noop_index_ratio": round(noop_s / cc_noop_s, 2) if cc_noop_s else None,
        "full_index_ratio_by_source": {},
    }
    for name in SOURCE_NAMES:
        ours, theirs, _ = _median_pairs(runs, lambda: full((name,))[:1], (lambda: cc.session(corpus, name)) if have_cc else None)
        out["full_index_ratio_by_source"][name] = {"ours_s": round(ours, 2), "ccusage_s": round(theirs, 2) if theirs else None,
                                                  "ratio": round(ours / theirs, 2) if theirs else None}
    # not installed: the same two-source no-op, with and without four sources whose directories
    # do not exist, alternated so drift hits both alike
    two = SOURCE_NAMES[:2]
    installed_only = base / "every-two"
    shutil.copytree(corpus / "claude", installed_only / "claude")
    shutil.copytree(corpus / "codex", installed_only / "codex")
    two_db = base / "every-two-db" / "index.duckdb"
    _cli(["index", "--db", str(two_db), *_dirs(installed_only), "--json"])
    with_absent, without_absent, _ = _median_pairs(
        runs * 3 + 2,
        lambda: (_cli(["index", "--db", str(two_db), *_dirs(installed_only), "--json"])[0],),
        lambda: _cli(["index", "--db", str(two_db), *_dirs(installed_only, two), "--sources", ",".join(two), "--json"])[0])
    out["absent_sources_noop_ms"] = round((with_absent - without_absent) * 1000, 1)
    return out


def _our_daily(stdout: str) -> dict:
    tokens: dict = defaultdict(lambda: [0, 0, 0, 0])
    for r in json.loads(stdout):
        acc = tokens[(r["day"], r["model"])]
        for i, k in enumerate(TOKENS):
            acc[i] += r[k]
    return {k: tuple(v) for k, v in tokens.items()}


def bench_usage_after_new_sessions(base: Path, corpus: Path, db: Path, cc: Ccusage | None, new: int, runs: int) -> dict:
    """`usage daily` right after new session files arrived (it indexes them first), against
    ccusage daily on the same files: time, and tokens per day x model compared."""
    walls, cc_walls, equal = [], [], []
    for k in range(runs):
        arrivals = base / f"arrivals-{k}"
        generate(arrivals, claude_sessions=new, codex_sessions=new, seed=9000 + k, pad_bytes=PAD_BYTES)
        for sub in ("claude/projects", "codex/sessions"):
            shutil.copytree(arrivals / sub, corpus / sub, dirs_exist_ok=True)
        wall, _, proc = _cli(["usage", "daily", "--json", "--timezone", "UTC", "--db", str(db)])
        walls.append(wall)
        if cc and cc.binary:
            cc_wall, theirs = cc.daily(corpus)
            cc_walls.append(cc_wall)
            equal.append(_our_daily(proc.stdout) == theirs)
    out = {"usage_daily_s": round(statistics.median(walls), 3), "new_sessions_per_source": new}
    if cc_walls:
        out["ccusage_daily_s"] = round(statistics.median(cc_walls), 3)
        out["usage_daily_ratio"] = round(out["usage_daily_s"] / out["ccusage_daily_s"], 2)
        out["usage_daily_equal_to_ccusage"] = 1.0 if all(equal) else 0.0
    return out


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
    """One huge Codex rollout through the CLI: exact (every turn's messages and tokens), MB/s, RSS."""
    root = base / "huge" / "sessions"
    path = root / "2026" / "01" / "01" / "rollout-2026-01-01T00-00-00-0199f000-0000-7000-8000-000000000001.jsonl"
    turns = write_huge_codex_file(path, target_bytes)
    db = base / "huge" / "index.duckdb"
    wall, rss, proc = _cli(["index", "--db", str(db), "--sources", "codex", "--codex-dir", str(root), "--json"])
    codex = json.loads(proc.stdout)["sources"]["codex"]
    assert codex["messages"] == 3 * turns, (codex["messages"], turns)
    assert codex["tokens"]["total_tokens"] == 1050 * turns  # 1,000 input + 50 output per turn
    size = path.stat().st_size
    return {"bytes": size, "turns": turns, "index_wall_s": round(wall, 2),
            "huge_file_mb_per_s": round(size / 2**20 / wall, 1), "huge_file_peak_rss_mb": round(rss, 1)}


def write_long_line_session(path: Path, text_bytes: int) -> int:
    """A Claude session whose one tool output is ``text_bytes`` long (one line of that size);
    the line's size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    common = {"sessionId": "long-line", "cwd": "/w", "version": "2.1.0"}
    lines = [
        {**common, "type": "user", "uuid": "u1", "timestamp": "2026-01-01T00:00:00Z", "message": {"role": "user", "content": "go"}},
        {**common, "type": "assistant", "uuid": "u2", "timestamp": "2026-01-01T00:00:01Z", "requestId": "r1", "message": {
            "id": "m1", "role": "assistant", "model": "claude-sonnet-4-5", "content": [{"type": "tool_use", "id": "t1", "name": "Bash",
                                                                                         "input": {"command": "cat big"}}],
            "usage": {"input_tokens": 5, "output_tokens": 5}}},
        {**common, "type": "user", "uuid": "u3", "timestamp": "2026-01-01T00:00:02Z", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "lorem ipsum " * (text_bytes // 12)}]}},
    ]
    encoded = [json.dumps(line).encode() + b"\n" for line in lines]
    path.write_bytes(b"".join(encoded))
    return len(encoded[-1])


def bench_long_line(base: Path, text_bytes: int) -> dict:
    """Peak memory of indexing a session with one long line, above the same session with a
    short one, per byte of that line."""
    peaks = {}
    for name, size in (("short", 100), ("long", text_bytes)):
        root = base / f"line-{name}" / "projects"
        line = write_long_line_session(root / "-w" / "long-line.jsonl", size)
        _, rss, proc = _cli(["index", "--db", str(root.parent / "index.duckdb"), "--sources", "claude", "--claude-dir", str(root), "--json"])
        assert proc.returncode == 0, proc.stderr
        peaks[name] = (rss, line)
    line_mb = peaks["long"][1] / 2**20
    return {"long_line_mb": round(line_mb, 1), "long_line_peak_rss_mb": round(peaks["long"][0], 1),
            "long_line_rss_factor": round(max(peaks["long"][0] - peaks["short"][0], 0) / line_mb, 2)}


def bench_growth(base: Path, full_s: float, noop_s: float, factor: int, sessions: int) -> dict:
    corpus = base / "corpus-10x"
    generate(corpus, claude_sessions=sessions * factor, codex_sessions=sessions * factor, seed=2027, pad_bytes=PAD_BYTES)
    db = base / "growth" / "index.duckdb"
    full, _, _ = _cli(["index", "--db", str(db), *_dirs(corpus), "--json"])
    noop = statistics.median(_cli(["index", "--db", str(db), *_dirs(corpus), "--json"])[0] for _ in range(3))
    return {"growth_factor": factor, "growth_full_index_s": round(full, 2), "growth_noop_index_s": round(noop, 3),
            "growth_time_factor": round(full / full_s, 2), "growth_noop_factor": round(noop / noop_s, 2)}


_DAGSTER_RUN = """
import sys, dagster as dg
from assets.definitions import defs
db, claude, codex = sys.argv[1:4]
result = defs.resolve_job_def("index_sessions").execute_in_process(
    run_config={"resources": {"index": {"config": {"db_path": db, "dirs": {"claude": claude, "codex": codex}}}}},
    instance=dg.DagsterInstance.ephemeral(),
    tags={"dagster/asset_partition_range_start": "claude", "dagster/asset_partition_range_end": "codex"})
assert result.success
"""


def bench_dagster_run(base: Path, corpus: Path, cc_session_s: float | None) -> dict:
    db = base / "dagster" / "index.duckdb"
    wall, _, proc = _rusage_run([sys.executable, "-c", _DAGSTER_RUN, str(db), str(corpus / "claude/projects"), str(corpus / "codex/sessions")],
                                environ_without_settings())
    assert proc.returncode == 0, proc.stderr
    return {"dagster_run_s": round(wall, 2), "dagster_run_ratio": round(wall / cc_session_s, 2) if cc_session_s else None}


def bench_team_push(db: Path, full_s: float) -> dict:
    """Pushing the whole index to the team store (when CLAUDE_VIEW_TEAM_CATALOG and
    CLAUDE_VIEW_TEAM_DATA name one, e.g. from `./pipeline services up`), against the index's
    own full run."""
    if not (os.environ.get("CLAUDE_VIEW_TEAM_CATALOG") and os.environ.get("CLAUDE_VIEW_TEAM_DATA")):
        return {"team_push_s": None, "team_push_ratio": None}
    host = f"bench-{os.getpid()}"
    wall, _, proc = _cli(["team", "push", "--db", str(db), "--host", host, "--no-refresh"],
                         {k: os.environ[k] for k in ("CLAUDE_VIEW_TEAM_CATALOG", "CLAUDE_VIEW_TEAM_DATA")})
    assert proc.returncode == 0, proc.stderr
    return {"team_push_s": round(wall, 2), "team_push_ratio": round(wall / full_s, 2) if full_s else None}


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


def find_ccusage(explicit: str | None) -> str | None:
    for candidate in (explicit, os.environ.get("CCUSAGE"), str(REPO / ".tools/ccusage/node_modules/.bin/ccusage"), shutil.which("ccusage")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def run(small: bool, ccusage: str | None, keep: Path | None, growth: bool = True) -> dict:
    sessions = 50 if small else 2000
    base = keep or Path(tempfile.mkdtemp(prefix="cvp-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    corpus = base / "corpus"
    cc = Ccusage(ccusage) if ccusage else None
    result: dict = {
        "mode": "small" if small else "full",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "corpus": {"sessions_per_source": sessions},
        "ccusage": ccusage,
    }
    try:
        t = time.perf_counter()
        generate(corpus, claude_sessions=sessions, codex_sessions=sessions, seed=2026, pad_bytes=PAD_BYTES)
        result["corpus"]["generate_s"] = round(time.perf_counter() - t, 2)
        result["corpus"]["mb"] = round(sum(p.stat().st_size for p in corpus.rglob("*.jsonl")) / 2**20, 1)
        result["discovery_1000_codex_ms"] = round(bench_discovery(base, 200 if small else 1000), 2)
        result.update(bench_full_and_noop(base, corpus, cc, runs=1 if small else 3))
        db = Path(result.pop("db"))
        result.update(bench_team_push(db, result["full_index_s"]))
        result.update(bench_usage_after_new_sessions(base, corpus, db, cc, new=5 if small else 40, runs=1 if small else 3))
        result.update(bench_huge(base, 5 * 2**20 if small else 2**30))
        result.update(bench_long_line(base, 40 * 2**20 if small else 300 * 2**20))
        if growth and not small:
            result.update(bench_growth(base, result["full_index_s"], result["noop_index_s"], 10, sessions))
        result.update(bench_dagster_run(base, corpus, result["ccusage_session_s"]))
        result.update(bench_every_source(base, cc, sessions=20 if small else 1000, runs=1 if small else 3))
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
    result["budgets"] = judge(result, BUDGETS)
    return result


def judge(result: dict, budgets: dict) -> dict:
    """Each budgeted figure of ``result`` against its budget: value, ok, and by how much it missed."""
    out = {}
    for k, (budget, way) in budgets.items():
        value = result.get(k)
        ok = value is not None and (value <= budget if way == "max" else value >= budget)
        miss = None if value is None or ok or not value else round(value / budget if way == "max" else budget / value, 1)
        out[k] = {"budget": budget, "way": way, "value": value, "ok": ok, "miss_factor": miss}
    return out


def budget_lines(budgets: dict, width: int = 32) -> list[str]:
    """The table of judged figures: figure, value, budget, verdict."""
    lines = [f"{'figure':<{width}}{'value':>10}{'budget':>12}  verdict"]
    for k, b in budgets.items():
        sign = "<=" if b["way"] == "max" else ">="
        verdict = "n/a" if b["value"] is None else "ok" if b["ok"] else f"MISSED by {b['miss_factor']}x"
        lines.append(f"{k:<{width}}{b['value']!s:>10}{sign + ' ' + str(b['budget']):>12}  {verdict}")
    return lines


def table(result: dict) -> str:
    lines = [f"claude-view-pipeline benchmark ({result['mode']}): {result['corpus']['sessions_per_source']} sessions per source, "
             f"{result['corpus']['mb']} MB, {result['machine']['cpus']} cores; ccusage: {result['ccusage'] or 'not found (ratios n/a)'}", "",
             *budget_lines(result["budgets"]), ""]
    for k in ("full_index_s", "noop_index_s", "ccusage_session_s", "usage_daily_s", "ccusage_daily_s", "dagster_run_s", "team_push_s",
              "messages_stored", "discovery_1000_codex_ms", "growth_full_index_s", "growth_noop_index_s",
              "all_sources_full_index_s", "all_sources_noop_index_s"):
        if k in result:
            lines.append(f"{k:<32}{result[k]!s:>10}")
    if "full_index_ratio_by_source" in result:
        lines.append(f"every-source corpus: {result['every_source_sessions_per_source']} sessions per source, "
                     f"{result['every_source_mb']} MB; full index of one source / ccusage <agent> session:")
        for name, r in result["full_index_ratio_by_source"].items():
            lines.append(f"  {name:<30}{r['ratio']!s:>10}   ({r['ours_s']} s / {r['ccusage_s']} s)")
    lines.append(f"{'huge file':<32}{result['bytes'] / 2**20:.0f} MB, {result['turns']} turns: {result['index_wall_s']} s through the CLI")
    lines.append(f"{'long line':<32}{result['long_line_mb']} MB in one line: peak {result['long_line_peak_rss_mb']} MB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true", help="a run of seconds (CI)")
    p.add_argument("--json-out", type=Path, help="also write the JSON summary here")
    p.add_argument("--ccusage", help="ccusage binary to compare with (default: $CCUSAGE, .tools/ccusage, PATH)")
    p.add_argument("--keep", type=Path, help="work in this directory and keep it")
    p.add_argument("--no-growth", action="store_true", help="skip the 10x corpus (saves minutes and ~2 GB of disk)")
    a = p.parse_args(argv)
    result = run(a.small, find_ccusage(a.ccusage), a.keep, growth=not a.no_growth)
    print(table(result))
    print(json.dumps(result, sort_keys=True))
    if a.json_out:
        a.json_out.parent.mkdir(parents=True, exist_ok=True)
        a.json_out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
