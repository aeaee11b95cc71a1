"""What full-text search costs, on the benchmark's synthetic corpus (benchmarks.bench):

- a query's time in process (search.search on the built search index), p50 and p95 over a
  mix of word, phrase, prefix, OR, filtered and newest-first queries;
- `claude-view-pipeline search --json` through the CLI (a no-op refresh included, as a user
  runs it) against `ccusage session --json --offline` on the same corpus, medians alternated;
- what keeping the search index current adds to a full `index` and to an incremental one
  (new sessions added): the search update's own time, as the run reports it in
  ``index --json`` (``search_index.seconds``), over the rest of the run.

    .venv/bin/python -m benchmarks.search_bench [--sessions 2000] [--ccusage PATH] [--keep DIR]

Prints a table with each figure beside its budget, then the JSON; nothing here fails a build.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from claude_view_pipeline import search

from .bench import PAD_BYTES, Ccusage, _cli, _dirs, budget_lines, find_ccusage, judge
from .synth import generate

BUDGETS = {
    "query_p95_ms": (100.0, "max"),
    "cli_search_ratio": (1.0, "max"),          # CLI search / ccusage session --json --offline
    "incremental_index_overhead": (0.25, "max"),  # search update / the rest of an incremental index run
    "full_index_overhead": (0.50, "max"),         # search update / the rest of a full index run
}
QUERIES = [
    ({"query": "module"}),
    ({"query": '"fix issue"'}),
    ({"query": "modul*"}),
    ({"query": "Step OR Plan"}),
    ({"query": "lorem"}),
    ({"query": "pytest"}),
    ({"query": "module", "sort": "newest"}),
    ({"query": '"fix issue"', "sources": ["codex"], "roles": ["user"]}),
    ({"query": "Step", "project": "webapp"}),
    ({"query": "turn NOT Done"}),
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def query_times(db: Path, rounds: int = 10) -> dict:
    times, counts = [], {}
    for _ in range(rounds):
        for q in QUERIES:
            args = dict(q)
            t = time.perf_counter()
            hits = search.search(db, args.pop("query"), limit=20, **args)
            times.append((time.perf_counter() - t) * 1000)
            counts[json.dumps(q)] = len(hits)
    return {"query_p50_ms": round(_pct(times, 0.5), 2), "query_p95_ms": round(_pct(times, 0.95), 2),
            "queries_timed": len(times), "hits_per_query": counts}


def index_overhead(summary: dict, wall_s: float) -> tuple[float, float]:
    """(search update seconds, its share of the rest of the run)."""
    spent = summary["search_index"]["seconds"]
    return spent, spent / max(wall_s - spent, 1e-9)


def run(sessions: int, ccusage: str | None, keep: Path | None, runs: int = 3) -> dict:
    base = keep or Path(tempfile.mkdtemp(prefix="cvp-search-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    corpus, db = base / "corpus", base / "index" / "index.duckdb"
    result: dict = {"corpus": {"sessions_per_source": sessions}, "ccusage": ccusage}
    try:
        generate(corpus, claude_sessions=sessions, codex_sessions=sessions, seed=2026, pad_bytes=PAD_BYTES)
        result["corpus"]["mb"] = round(sum(p.stat().st_size for p in corpus.rglob("*.jsonl")) / 2**20, 1)

        wall, rss, proc = _cli(["index", "--db", str(db), *_dirs(corpus), "--json"])
        summary = json.loads(proc.stdout)
        spent, share = index_overhead(summary, wall)
        result.update({"full_index_s": round(wall, 2), "full_index_search_s": round(spent, 2), "full_index_overhead": round(share, 3),
                       "full_index_peak_rss_mb": round(rss, 1), "documents": summary["search_index"]["documents"],
                       "search_file_mb": round(search.search_path(db).stat().st_size / 2**20, 1),
                       "index_file_mb": round(db.stat().st_size / 2**20, 1)})

        # incremental: new sessions (another seed, the same sizes) appear beside the corpus
        more = base / "more"
        generate(more, claude_sessions=max(sessions // 50, 2), codex_sessions=max(sessions // 50, 2), seed=2027, pad_bytes=PAD_BYTES)
        for sub in ("claude/projects", "codex/sessions"):
            shutil.copytree(more / sub, corpus / sub, dirs_exist_ok=True)
        wall, _, proc = _cli(["index", "--db", str(db), *_dirs(corpus), "--json"])
        summary = json.loads(proc.stdout)
        spent, share = index_overhead(summary, wall)
        result.update({"incremental_index_s": round(wall, 2), "incremental_index_search_s": round(spent, 3),
                       "incremental_index_overhead": round(share, 3),
                       "incremental_sessions_written": summary["search_index"]["sessions_written"]})

        result.update(query_times(db))

        cc = Ccusage(ccusage) if ccusage else None
        ours, theirs = [], []
        env = {"CLAUDE_PROJECTS_DIR": str(corpus / "claude/projects"), "CODEX_SESSIONS_DIR": str(corpus / "codex/sessions")}
        for _ in range(runs):
            wall, _, proc = _cli(["search", "--db", str(db), "--json", '"fix issue"', "--limit", "20"], env)
            assert len(json.loads(proc.stdout)) == 20
            ours.append(wall)
            if cc:
                theirs.append(cc.session(corpus))
        result["cli_search_s"] = round(statistics.median(ours), 3)
        result["ccusage_session_s"] = round(statistics.median(theirs), 3) if theirs else None
        result["cli_search_ratio"] = round(result["cli_search_s"] / result["ccusage_session_s"], 2) if theirs else None
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
    result["budgets"] = judge(result, BUDGETS)
    return result


def table(result: dict) -> str:
    lines = [f"search benchmark: {result['corpus']['sessions_per_source']} sessions per source, {result['corpus']['mb']} MB, "
             f"{result['documents']:,} messages indexed; ccusage: {result['ccusage'] or 'not found (ratio n/a)'}", "",
             *budget_lines(result["budgets"], width=30), ""]
    for k in ("query_p50_ms", "cli_search_s", "ccusage_session_s", "full_index_s", "full_index_search_s", "incremental_index_s",
              "incremental_index_search_s", "incremental_sessions_written", "search_file_mb", "index_file_mb"):
        lines.append(f"{k:<30}{result.get(k)!s:>10}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=2000, help="sessions per source (Claude and Codex; default 2000)")
    p.add_argument("--ccusage", help="ccusage binary to compare with (default: $CCUSAGE, .tools/ccusage, PATH)")
    p.add_argument("--keep", type=Path, help="work in this directory and keep it")
    p.add_argument("--json-out", type=Path, help="also write the JSON summary here")
    a = p.parse_args(argv)
    result = run(a.sessions, find_ccusage(a.ccusage), a.keep)
    print(table(result))
    print(json.dumps(result, sort_keys=True))
    if a.json_out:
        a.json_out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
