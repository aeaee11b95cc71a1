"""The three pipeline stages as plain functions (the Dagster assets are thin wrappers):

1. ``stage_session_files``: discover a source's files and diff them against the index.
2. ``stage_parsed_sessions``: parse new/changed files (all with ``full``) to staged tables.
3. ``load_session_index``: write the staged tables into DuckDB, one transaction per source.
"""

from __future__ import annotations

import logging
import math
import os
import statistics
import uuid
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import duckdb
import orjson

from .config import parse_workers
from .discovery import SessionFile, discover
from .faults import pause_point
from .logs import log_event
from .parse_worker import WorkerPool, parse_chunk
from .parsers.base import REJECT_DUPLICATE_SESSION
from .paths import text_path
from .sources import Source
from .staging import (
    StagingArea,
    files_table,
    parts,
    read_manifest,
    read_table,
    session_files_from_table,
    table_path,
    write_parquet,
)
from .store import connect, write_partition
from .store.db import raise_memory_limit
from .store.writer import PartitionWrite, WriteSummary, indexed_fingerprints

if TYPE_CHECKING:  # imported where tables are built: a run with nothing to stage never loads it
    import pyarrow as pa

Progress = Callable[[Source, int, int], None]  # (source, files done, files total)

# Below this much input, worker start-up costs more than it saves.
POOL_MIN_BYTES = 32 * 1024 * 1024
POOL_MIN_FILES = 400
MIN_CHUNK_FILES = 50


@dataclass
class DiscoveryReport:
    source: Source
    files_scanned: int
    new: int
    changed: int
    unchanged: int
    missing: int
    roots: list[str]

    def as_metadata(self) -> dict:
        return {k: (", ".join(v) if k == "roots" else v) for k, v in self.__dict__.items() if k != "source"}


@dataclass
class ParseReport:
    source: Source
    full: bool
    files_parsed: int
    sessions: int
    messages: int
    rejected: dict[str, int] = field(default_factory=dict)
    lines_ok: int = 0
    lines_malformed: int = 0
    parse_ms_p50: float = 0.0
    parse_ms_p95: float = 0.0
    unknown_types: dict[str, int] = field(default_factory=dict)

    def as_metadata(self) -> dict:
        return {
            "files_parsed": self.files_parsed,
            "sessions": self.sessions,
            "messages": self.messages,
            "files_rejected": sum(self.rejected.values()),
            "lines_malformed": self.lines_malformed,
            "parse_ms_p50": self.parse_ms_p50,
            "parse_ms_p95": self.parse_ms_p95,
            "rejected_by_reason": self.rejected,
            "unknown_types": self.unknown_types,
        }


TOKEN_KEYS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "reasoning_tokens", "total_tokens")


@dataclass
class IndexReport:
    source: Source
    run_id: str
    write: WriteSummary
    sessions_in_index: int
    messages_in_index: int
    tokens: dict[str, int]  # TOKEN_KEYS -> the source's total in the index
    rejected: dict[str, dict]  # reason -> {"files": n, "examples": up to 3 paths}, files this run rejected

    def as_metadata(self) -> dict:
        return {
            "sessions_written": self.write.sessions_written,
            "messages_written": self.write.messages_written,
            "sessions_in_index": self.sessions_in_index,
            "messages_in_index": self.messages_in_index,
            "files_missing": self.write.files_missing,
            "duplicate_ids_rejected": self.write.duplicates_rejected,
            "total_tokens": self.tokens["total_tokens"],
        }


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..1): the smallest value with at
    least q of the values at or below it (p95 of 1..20 is 19). The one definition the
    metrics, the benchmarks and the reports share."""
    if not sorted_values:
        return 0.0
    rank = math.ceil(round(q * len(sorted_values), 9))  # round: 0.95 * 20 must be 19, not 19.000001
    return sorted_values[min(len(sorted_values), max(rank, 1)) - 1]


@dataclass
class FileStats:
    """What pass 2's per-file outcomes add up to (ParseReport and index_metrics both use it)."""

    sessions: int
    unknown: Counter
    times: list[float]  # parse time per file, ms, ascending

    @classmethod
    def of(cls, res: dict) -> "FileStats":
        unknown: Counter[str] = Counter()
        for u in res["unknown_types"]:
            if u:
                unknown.update(orjson.loads(u))
        return cls(sum(len(s or []) for s in res["session_ids"]), unknown, sorted(res["parse_ms"]))


# --- pass 1 -------------------------------------------------------------------------------


def new_run_id() -> str:
    return uuid.uuid4().hex


def stage_session_files(source: Source, roots: list[Path], db_path: Path, staging: StagingArea, run_id: str | None = None,
                        first: FirstLook | None = None) -> DiscoveryReport:
    """Pass 1: the source's files, which of them are new or changed, staged for the parse
    (``first``: what the run's first look already found, so neither is read twice)."""
    # absolute, so the index names the same file the same way from any working directory
    roots = [Path(os.path.abspath(r)) for r in roots]
    files = discover(source, roots) if first is None else first.files
    known = first.known if first is not None and first.known is not None else _fingerprints(source, db_path)
    changed = {f.path for f in files if known.get(f.path) != f.fingerprint}
    new = sum(1 for f in files if f.path not in known)
    present = {f.path for f in files}
    report = DiscoveryReport(
        source=source,
        files_scanned=len(files),
        new=new,
        changed=len(changed) - new,
        unchanged=len(files) - len(changed),
        missing=sum(1 for p in known if p not in present),
        roots=[text_path(str(r)) for r in roots],
    )
    staging.write(source, "files", run_id or new_run_id(), {"files": files_table(files, changed)}, {"source": source.value, **{k: v for k, v in report.__dict__.items() if k != "source"}})
    pause_point("after_discovery")
    return report


def _fingerprints(source: Source, db_path: Path) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of the source's files as the index last read them."""
    if not Path(db_path).exists():
        return {}
    con = connect(db_path, read_only=True)
    try:
        return indexed_fingerprints(con, source)
    finally:
        con.close()


# --- pass 2 -------------------------------------------------------------------------------


def _chunks(items: list, n: int) -> list[list]:
    size = max(1, -(-len(items) // n))
    return [items[i : i + size] for i in range(0, len(items), size)]


def parse_files(source: Source, files: list[SessionFile], out_dir: Path, workers: int | None = None,
                progress: Progress | None = None, pool: WorkerPool | None = None) -> pa.Table:
    """Parse files into Parquet parts (sessions-NNNNN, messages-NNNNN) in out_dir, in parallel
    for large inputs (in ``pool`` when given, else in workers started for this call);
    returns every file's outcome, duplicates of one session marked."""
    if workers is None:
        workers = pool.workers if pool else parse_workers()
    total_bytes = sum(f.size for f in files)
    use_pool = workers > 1 and (total_bytes >= POOL_MIN_BYTES or len(files) >= POOL_MIN_FILES)
    jobs = [(f.path, f.size, f.mtime_ns, f.kind) for f in files]
    results: list[pa.Table] = []
    if not use_pool:
        # about 20 chunks (progress, the mid-parse pause point), but not tiny ones: each chunk
        # writes its own Parquet parts
        step = max(MIN_CHUNK_FILES, len(jobs) // 20)
        for part, i in enumerate(range(0, len(jobs), step)):
            results.append(parse_chunk(source.value, jobs[i : i + step], str(out_dir), part))
            pause_point("mid_parse")
            if progress:
                progress(source, min(i + step, len(jobs)), len(jobs))
    else:
        chunks = _chunks(jobs, workers * 8)
        done = 0
        with (nullcontext(pool) if pool else WorkerPool(workers)) as running:
            outcomes = running.executor().map(parse_chunk, [source.value] * len(chunks), chunks, [str(out_dir)] * len(chunks), range(len(chunks)))
            for chunk, table in zip(chunks, outcomes):
                results.append(table)
                pause_point("mid_parse")
                done += len(chunk)
                if progress:
                    progress(source, done, len(jobs))
    if not results:  # nothing to parse: empty parts, so the load always has files to read
        results.append(parse_chunk(source.value, [], str(out_dir), 0))
    import pyarrow as pa

    return _mark_duplicate_ids(pa.concat_tables(results))


def _mark_duplicate_ids(results: pa.Table) -> pa.Table:
    """One session id from two files of this batch: keep the preferred file's copy (active
    over archived, then path order) and reject the other as ``duplicate_session_id``; the
    load leaves out the rejected files' rows."""
    rows = results.select(["path", "kind", "session_ids"]).to_pylist()
    rows.sort(key=lambda r: (r["kind"] == "archived", r["path"]))
    owner: dict[str, str] = {}
    losers: dict[str, str] = {}
    for r in rows:
        for sid in r["session_ids"] or []:
            if sid in owner:
                losers[r["path"]] = f"session {sid} is already indexed from {owner[sid]}"
            else:
                owner[sid] = r["path"]
    if not losers:
        return results
    res = results.to_pydict()
    for i, p in enumerate(res["path"]):
        if p in losers:
            res["status"][i] = "rejected"
            res["reason"][i] = REJECT_DUPLICATE_SESSION
            res["detail"][i] = losers[p]
            res["session_ids"][i] = []
            res["messages"][i] = 0
    import pyarrow as pa

    return pa.table(res, schema=results.schema)


def stage_parsed_sessions(
    source: Source,
    staging: StagingArea,
    full: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    run_id: str | None = None,
    pool: WorkerPool | None = None,
) -> ParseReport:
    files_dir = staging.find(source, "files", run_id)
    listed = session_files_from_table(source, read_table(files_dir, "files"))
    todo = [f for f, changed in listed if full or changed]
    run_id = run_id or new_run_id()
    out_dir = staging.begin(source, "parsed", run_id)
    results = parse_files(source, todo, out_dir, workers=workers, progress=progress, pool=pool)
    res = results.to_pydict()
    _log_file_outcomes(source, res)
    rejected = Counter(r for r in res["reason"] if r)
    stats = FileStats.of(res)
    report = ParseReport(
        source=source,
        full=full,
        files_parsed=len(todo),
        sessions=stats.sessions,
        messages=sum(res["messages"]),
        rejected=dict(sorted(rejected.items())),
        lines_ok=sum(res["lines_ok"]),
        lines_malformed=sum(res["lines_malformed"]),
        parse_ms_p50=round(statistics.median(stats.times), 3) if stats.times else 0.0,
        parse_ms_p95=round(percentile(stats.times, 0.95), 3),
        unknown_types=dict(stats.unknown.most_common()),
    )
    write_parquet(results, table_path(out_dir, "file_results"))
    staging.commit(
        source,
        "parsed",
        run_id,
        out_dir,
        {"source": source.value, "full": full, "files_dir": str(files_dir),
         **{k: v for k, v in report.__dict__.items() if k not in ("source", "full")}},
    )
    return report


def _log_file_outcomes(source: Source, res: dict) -> None:
    """One structured event per file: rejections and malformed lines as warnings, the rest
    at debug level (parsed in worker processes, logged here, in one place)."""
    parser = f"claude_view_pipeline.parsers.{source.value}"
    for i, path in enumerate(res["path"]):
        reason = res["reason"][i]
        sids = res["session_ids"][i] or [None]
        common = {"source": source.value, "file_path": path, "parser": parser, "stage": "pass2", "session_id": sids[0]}
        if reason:
            log_event(logging.WARNING, "file rejected", result=reason, detail=res["detail"][i], **common)
        elif res["lines_malformed"][i]:
            log_event(logging.WARNING, "malformed lines skipped", result="parse_error",
                      detail=f"{res['lines_malformed'][i]} malformed line(s)", **common)
        else:
            log_event(logging.DEBUG, "file indexed", result="ok", **common)


# --- index --------------------------------------------------------------------------------


def _metrics(files_dir: Path, parsed_dir: Path, live: bool = False) -> list[tuple[str, str, str, float]]:
    """index_metrics rows (stage, result, metric, value) for this run (docs/tables.md). A run a
    sensor started for files written while the tools run also gets stage=live rows."""
    return run_metrics(read_manifest(files_dir), read_table(parsed_dir, "file_results").to_pydict(), live)


def run_metrics(files: dict, res: dict, live: bool = False) -> list[tuple[str, str, str, float]]:
    """The metrics of a discovery manifest and the parse's file results (column lists)."""
    out: list[tuple[str, str, str, float]] = [("pass1", "ok", "files_scanned", files["files_scanned"])]
    outcomes = Counter(r or "ok" for r in res["reason"])
    out += [("pass2", result, "files", n) for result, n in sorted(outcomes.items())]
    out.append(("pass2", "ok", "lines", sum(res["lines_ok"])))
    out.append(("pass2", "parse_error", "lines", sum(res["lines_malformed"])))
    stats = FileStats.of(res)
    out.append(("pass2", "ok", "sessions_indexed", stats.sessions))
    out += [("pass2", name, "unknown_events", n) for name, n in sorted(stats.unknown.items())]
    if live:
        out.append(("live", "new", "files", files["new"]))
        out.append(("live", "changed", "files", files["changed"]))
        out.append(("live", "ok", "sessions_indexed", stats.sessions))
    times = stats.times
    if times:
        out += [
            ("pass2", "ok", "parse_ms_count", len(times)),
            ("pass2", "ok", "parse_ms_sum", sum(times)),
            ("pass2", "ok", "parse_ms_p50", statistics.median(times)),
            ("pass2", "ok", "parse_ms_p95", percentile(times, 0.95)),
            ("pass2", "ok", "parse_ms_max", times[-1]),
        ]
    return out


@dataclass
class FirstLook:
    """What a run found before staging anything: the source's files, and the stages' reports
    when there is nothing to do."""

    files: list[SessionFile]
    known: dict[str, tuple[int, int]] | None = None  # path -> (size, mtime_ns) as indexed, when it was read
    reports: tuple[DiscoveryReport, ParseReport, IndexReport] | None = None


def look_first(source: Source, roots: list[Path], db_path: Path, run_id: str, full: bool = False) -> FirstLook:
    """Discover the source's files; when they are exactly what the index holds (each file's
    fingerprint as indexed, none back, every file gone already marked missing, found from the
    roots the index was last run from; an agent not installed: no file, none indexed), the run
    of the source is its metrics alone: recorded, and returned with the stages' reports. Then
    nothing is staged, parsed or written, and pyarrow is never loaded."""
    roots = [Path(os.path.abspath(r)) for r in roots]
    files = discover(source, roots)
    if full or not Path(db_path).exists():  # a full run parses every file
        return FirstLook(files)
    names = [text_path(str(r)) for r in roots]
    con = connect(db_path)
    try:  # the run migrated the index first: its tables are there
        states = {p: (size, mtime, missing) for p, size, mtime, missing in con.execute(
            "SELECT path, size, mtime_ns, missing FROM indexed_files WHERE source = ?", [source.value]).fetchall()}
        recorded = con.execute("SELECT roots FROM source_roots WHERE source = ?", [source.value]).fetchall()
        on_disk = {f.path for f in files}
        if (list(recorded[0][0]) if recorded else None) != names or any(
                states.get(f.path) != (f.size, f.mtime_ns, False) for f in files) or any(
                not missing and path not in on_disk for path, (_, _, missing) in states.items()):
            return FirstLook(files, {path: (size, mtime) for path, (size, mtime, _) in states.items()})
        empty = {"reason": [], "lines_ok": [], "lines_malformed": [], "session_ids": [], "unknown_types": [], "parse_ms": []}
        metrics = run_metrics({"files_scanned": len(files)}, empty)
        # one statement (executemany costs a round trip a row)
        con.execute("INSERT INTO index_metrics VALUES " + ", ".join(["(?, now(), ?, ?, ?, ?, ?)"] * len(metrics)),
                    [v for stage, result, metric, value in metrics for v in (run_id, source.value, stage, result, metric, float(value))])
        gone = sum(1 for path in states if path not in on_disk)
        # a source with no file indexed has no session either
        n_sessions, n_messages, tokens = _totals(con, source) if states else (0, 0, dict.fromkeys(TOKEN_KEYS, 0))
    finally:
        con.close()
    return FirstLook(files, reports=(
        DiscoveryReport(source, len(files), 0, 0, len(files), gone, names),
        ParseReport(source, False, 0, 0, 0),
        IndexReport(source, run_id, WriteSummary(0, 0, n_sessions, 0, 0, gone, changed=False), n_sessions, n_messages, tokens, {}),
    ))


def _totals(con: duckdb.DuckDBPyConnection, source: Source) -> tuple[int, int, dict[str, int]]:
    """The source's sessions, messages and token totals in the index."""
    n_sessions, n_messages, *tok = con.execute(
        "SELECT count(*), (SELECT count(*) FROM messages WHERE source = $s), "
        + ", ".join(f"coalesce(sum({k}), 0)" for k in TOKEN_KEYS) + " FROM sessions WHERE source = $s",
        {"s": source.value},
    ).fetchall()[0]
    return n_sessions, n_messages, dict(zip(TOKEN_KEYS, (int(t) for t in tok)))


def load_session_index(source: Source, staging: StagingArea, db_path: Path, run_id: str | None = None, live: bool = False,
                       handoff_id: str | None = None) -> IndexReport:
    """Load the parse staged under ``handoff_id`` (else ``run_id``) into the index; its rows
    carry ``run_id``. The two differ when Dagster re-executes a failed run: the new run loads
    the hand-off its original run wrote."""
    parsed_dir = staging.find(source, "parsed", handoff_id or run_id)
    files_dir = Path(read_manifest(parsed_dir)["files_dir"])  # exactly the list that was parsed
    run_id = run_id or new_run_id()
    w = PartitionWrite(
        source=source,
        run_id=run_id,
        files_parquet=table_path(files_dir, "files"),
        sessions_parquet=parts(parsed_dir, "sessions"),
        messages_parquet=parts(parsed_dir, "messages"),
        rate_limits_parquet=parts(parsed_dir, "rate_limits"),
        file_results_parquet=table_path(parsed_dir, "file_results"),
        metrics=_metrics(files_dir, parsed_dir, live=live),
        roots=read_manifest(files_dir)["roots"],
    )
    con = connect(db_path)
    try:
        try:
            summary = write_partition(con, w)
        except duckdb.OutOfMemoryException:
            # rolled back; under the default memory limit, once more with room to spare
            if not raise_memory_limit(con):
                raise
            log_event(logging.WARNING, "index write ran out of memory under the default limit; retrying with more",
                      source=source.value, stage="load", result="retry")
            summary = write_partition(con, w)
        pause_point("after_commit")
        src = {"s": source.value}
        n_sessions, n_messages, tokens = _totals(con, source)
        rejected = {
            reason: {"files": n, "examples": examples}
            for reason, n, examples in con.execute(
                "SELECT reason, count(*), list(path ORDER BY path)[1:3] FROM indexed_files"
                " WHERE source = $s AND run_id = $r AND status = 'rejected' GROUP BY reason ORDER BY reason",
                {**src, "r": run_id},
            ).fetchall()
        } if summary.changed else {}
    finally:
        con.close()
    staging.release(source, loaded={files_dir, parsed_dir})
    return IndexReport(source, run_id, summary, n_sessions, n_messages, tokens, rejected)
