"""The hand-off between pipeline stages: Arrow tables written as Parquet.

Pass 1 stages the discovered file list, pass 2 stages parsed sessions/messages/file
outcomes, and the index stage loads them into DuckDB in one transaction. Staging by
source keeps each partition's intermediate data apart; a stage is replaced atomically
(written beside, then renamed) so a crash never leaves a half-written hand-off.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from .discovery import SessionFile
from .parsers.base import FileParse
from .sources import Source

if TYPE_CHECKING:
    import pyarrow as pa

# The Arrow schemas of the hand-off tables, built on first use: a run that stages nothing (a
# no-op) never imports pyarrow (and numpy with it), which is most of a no-op's start-up.
_SCHEMAS = ("TS", "FILES_SCHEMA", "SESSIONS_SCHEMA", "MESSAGES_SCHEMA", "FILE_RESULTS_SCHEMA", "RATE_LIMITS_SCHEMA", "_MESSAGE_FIELDS")


def _arrow():
    """pyarrow, with this module's schemas built."""
    import pyarrow as pa

    if "FILES_SCHEMA" not in globals():
        _build_schemas(pa)
    return pa


def __getattr__(name: str):
    if name in _SCHEMAS:
        _arrow()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _build_schemas(pa) -> None:
    global TS, FILES_SCHEMA, SESSIONS_SCHEMA, MESSAGES_SCHEMA, FILE_RESULTS_SCHEMA, RATE_LIMITS_SCHEMA, _MESSAGE_FIELDS
    TS = pa.timestamp("us", tz="UTC")

    FILES_SCHEMA = pa.schema([
        ("path", pa.string()),
        ("kind", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("changed", pa.bool_()),
    ])

    # Identity and metadata only: counters and token totals are derived from the messages by
    # the writer after cross-file attribution (aggregate.py).
    SESSIONS_SCHEMA = pa.schema([
        ("id", pa.string()), ("source", pa.string()), ("source_session_id", pa.string()),
        ("file_path", pa.string()), ("file_size", pa.int64()), ("file_mtime_ns", pa.int64()),
        ("parent_session_id", pa.string()), ("relation", pa.string()),
        ("is_sidechain", pa.bool_()), ("is_headless", pa.bool_()), ("cli_version", pa.string()),
        ("cwd", pa.string()), ("git_repository_url", pa.string()), ("git_branch", pa.string()),
        ("started_at", TS), ("ended_at", TS), ("malformed_lines", pa.int32()), ("unknown_types", pa.string()),
    ])

    MESSAGES_SCHEMA = pa.schema([
        ("file_path", pa.string()),  # staging only: tells same-id copies from two files apart
        ("session_id", pa.string()), ("source", pa.string()), ("ordinal", pa.int32()), ("role", pa.string()),
        ("kind", pa.string()), ("timestamp", TS), ("text", pa.string()), ("text_truncated", pa.bool_()), ("tool_name", pa.string()),
        ("call_id", pa.string()), ("is_error", pa.bool_()), ("line_no", pa.int32()), ("inherited", pa.bool_()),
        ("dedup_key", pa.string()), ("origin_session_id", pa.string()), ("api_call", pa.bool_()), ("usage_at", TS),
        ("model", pa.string()), ("model_provider", pa.string()), ("model_assumed", pa.bool_()), ("input_tokens", pa.int64()),
        ("cache_read_tokens", pa.int64()), ("cache_creation_tokens", pa.int64()),
        ("cache_creation_5m_tokens", pa.int64()), ("cache_creation_1h_tokens", pa.int64()), ("output_tokens", pa.int64()),
        ("reasoning_tokens", pa.int64()), ("agent_cost_usd", pa.float64()),
    ])

    FILE_RESULTS_SCHEMA = pa.schema([
        ("path", pa.string()), ("kind", pa.string()), ("size", pa.int64()), ("mtime_ns", pa.int64()),
        ("status", pa.string()), ("reason", pa.string()), ("detail", pa.string()),
        ("session_ids", pa.list_(pa.string())), ("lines_ok", pa.int32()), ("lines_malformed", pa.int32()),
        ("lines_incomplete_tail", pa.int32()), ("unknown_types", pa.string()), ("parse_ms", pa.float64()),
        ("messages", pa.int32()),
    ])

    RATE_LIMITS_SCHEMA = pa.schema([
        ("file_path", pa.string()),  # staging only, as for messages
        ("source", pa.string()), ("session_id", pa.string()), ("at", TS), ("window", pa.string()),
        ("used_percent", pa.float64()), ("window_minutes", pa.int32()), ("resets_at", TS), ("line_no", pa.int32()),
    ])

    _MESSAGE_FIELDS = [f.name for f in MESSAGES_SCHEMA][6:]  # after file_path .. kind


def files_table(files: list[SessionFile], changed: set[str]) -> pa.Table:
    pa = _arrow()
    return pa.table(
        {
            "path": [f.path for f in files],
            "kind": [f.kind for f in files],
            "size": [f.size for f in files],
            "mtime_ns": [f.mtime_ns for f in files],
            "changed": [f.path in changed for f in files],
        },
        schema=FILES_SCHEMA,
    )


def session_files_from_table(source: Source, table: pa.Table) -> list[tuple[SessionFile, bool]]:
    cols = table.to_pydict()
    return [
        (SessionFile(source, p, s, m, k), c)
        for p, k, s, m, c in zip(cols["path"], cols["kind"], cols["size"], cols["mtime_ns"], cols["changed"])
    ]


def _unknown_json(counter) -> str | None:
    return orjson.dumps(dict(sorted(counter.items()))).decode() if counter else None


def new_message_columns() -> dict[str, list]:
    _arrow()
    return {f.name: [] for f in MESSAGES_SCHEMA}


def add_message_rows(cols: dict[str, list], file_path: str, session_id: str, source: str, messages: list, start: int = 0) -> None:
    """Append a session's messages (the ones from ordinal ``start`` on) to staging columns."""
    n = len(messages)
    cols["file_path"].extend([file_path] * n)
    cols["session_id"].extend([session_id] * n)
    cols["source"].extend([source] * n)
    cols["ordinal"].extend(range(start, start + n))
    cols["role"].extend(m.role for m in messages)
    cols["kind"].extend(m.kind for m in messages)
    for name in _MESSAGE_FIELDS:
        cols[name].extend(getattr(m, name) for m in messages)


def parsed_tables(results: list[tuple[SessionFile | None, FileParse]]) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(sessions, messages, file_results) for a batch of parsed files. Without a SessionFile
    (a file parsed outside discovery) the fingerprint columns are left empty."""
    pa = _arrow()
    s_cols: dict[str, list] = {f.name: [] for f in SESSIONS_SCHEMA}
    m_cols = new_message_columns()
    r_cols: dict[str, list] = {f.name: [] for f in FILE_RESULTS_SCHEMA}
    for sf, fp in results:
        for s in fp.sessions:
            sid = s.id
            row = {
                "id": sid, "source": s.source.value, "source_session_id": s.source_session_id,
                "file_path": s.file_path, "file_size": sf.size if sf else None,
                "file_mtime_ns": sf.mtime_ns if sf else None,
                "parent_session_id": s.parent_session_id, "relation": s.relation,
                "is_sidechain": s.is_sidechain, "is_headless": s.is_headless, "cli_version": s.cli_version,
                "cwd": s.cwd, "git_repository_url": s.git_repository_url, "git_branch": s.git_branch,
                "started_at": s.started_at, "ended_at": s.ended_at,
                "malformed_lines": fp.lines_malformed, "unknown_types": _unknown_json(fp.unknown_types),
            }
            for k, v in row.items():
                s_cols[k].append(v)
            add_message_rows(m_cols, s.file_path, sid, s.source.value, s.messages, start=s.streamed_messages)
        row = {
            "path": fp.path, "kind": sf.kind if sf else None, "size": sf.size if sf else None,
            "mtime_ns": sf.mtime_ns if sf else None,
            "status": "indexed" if fp.ok else "rejected", "reason": fp.rejection, "detail": fp.detail,
            "session_ids": [s.id for s in fp.sessions], "lines_ok": fp.lines_ok,
            "lines_malformed": fp.lines_malformed, "lines_incomplete_tail": fp.lines_incomplete_tail,
            "unknown_types": _unknown_json(fp.unknown_types), "parse_ms": fp.parse_ms,
            "messages": sum(x.message_count for x in fp.sessions),
        }
        for k, v in row.items():
            r_cols[k].append(v)
    return (
        pa.table(s_cols, schema=SESSIONS_SCHEMA),
        pa.table(m_cols, schema=MESSAGES_SCHEMA),
        pa.table(r_cols, schema=FILE_RESULTS_SCHEMA),
    )


def rate_limits_table(results: list[FileParse]) -> pa.Table:
    """The plan-window reports of a batch of parsed files (Codex token_count events)."""
    pa = _arrow()
    rows = [(s.file_path, s.source.value, s.id, r.at, r.window, r.used_percent, r.window_minutes, r.resets_at, r.line_no)
            for fp in results for s in fp.sessions for r in s.rate_limits]
    return pa.table({f.name: [row[i] for row in rows] for i, f in enumerate(RATE_LIMITS_SCHEMA)}, schema=RATE_LIMITS_SCHEMA)


@dataclass(frozen=True)
class StagingArea:
    """``<root>/<source>/<stage>/<run id>/``: each run's hand-off, and ``LATEST`` naming the
    newest complete one per stage. A stage reads its upstream from its own run when that run
    wrote one, else from LATEST (an asset materialized on its own). Runs never write into
    each other's directories, so two runs at once cannot mix their data."""

    root: Path

    @classmethod
    def beside(cls, db_path: Path) -> "StagingArea":
        return cls(Path(str(db_path) + ".staging"))

    def _stage_root(self, source: Source, stage: str) -> Path:
        return self.root / source.value / stage

    def begin(self, source: Source, stage: str, run_id: str) -> Path:
        """A private directory to fill (possibly from several processes) before commit()."""
        tmp = self._stage_root(source, stage) / f".{run_id}.tmp-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        return tmp

    def write(self, source: Source, stage: str, run_id: str, tables: dict[str, pa.Table], manifest: dict) -> Path:
        tmp = self.begin(source, stage, run_id)
        for name, table in tables.items():
            write_parquet(table, tmp / f"{name}.parquet")
        return self.commit(source, stage, run_id, tmp, manifest)

    def commit(self, source: Source, stage: str, run_id: str, tmp: Path, manifest: dict) -> Path:
        """Publish a filled directory: renamed into place, then named by LATEST."""
        base = self._stage_root(source, stage)
        final = base / run_id
        (tmp / "manifest.json").write_text(json.dumps({**manifest, "run_id": run_id}, indent=1, sort_keys=True, default=str))
        if final.exists():  # the same run writing a stage again (a retried step)
            shutil.rmtree(final)
        tmp.rename(final)
        pointer = base / f".LATEST.tmp-{os.getpid()}"
        pointer.write_text(run_id)
        pointer.replace(base / "LATEST")  # atomic: readers see the old or the new name
        return final

    def find(self, source: Source, stage: str, run_id: str | None = None) -> Path:
        base = self._stage_root(source, stage)
        if run_id and (base / run_id / "manifest.json").exists():
            return base / run_id
        latest = base / "LATEST"
        if latest.exists():
            found = base / latest.read_text().strip()
            if (found / "manifest.json").exists():
                return found
        raise FileNotFoundError(
            f"no staged {stage!r} data for source {source.value!r} under {base}; materialize the upstream asset first"
        )

    def release(self, source: Source, loaded: set[Path], older_than_s: float = 3600.0) -> None:
        """After a load: the hand-offs it loaded go at once (they hold full message text, and
        the index has it now), and so do others old enough not to belong to a run still in
        flight (a crashed run's leftovers go after an hour). A hand-off not loaded yet stays."""
        import time

        now = time.time()
        for stage in ("files", "parsed"):
            base = self._stage_root(source, stage)
            if not base.is_dir():
                continue
            latest = base / "LATEST"
            named = latest.read_text().strip() if latest.exists() else None
            if named and base / named in loaded:
                latest.unlink(missing_ok=True)
                named = None
            for d in base.iterdir():
                if not d.is_dir() or (d not in loaded and d.name == named):
                    continue
                try:
                    if d in loaded or now - d.stat().st_mtime > older_than_s:
                        shutil.rmtree(d, ignore_errors=True)
                except FileNotFoundError:
                    pass


def write_parquet(table: pa.Table, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path, compression="zstd")


def read_manifest(stage_dir: Path) -> dict:
    return json.loads((stage_dir / "manifest.json").read_text())


def table_path(stage_dir: Path, name: str) -> Path:
    return stage_dir / f"{name}.parquet"


def parts(stage_dir: Path, name: str) -> list[str]:
    """The parts a stage wrote for a table (parsed sessions/messages come in parts, one per
    parsed chunk, written by the worker that parsed it), as a list of files: a pattern would
    break on an index path with glob characters such as '['."""
    return sorted(str(p) for p in stage_dir.glob(f"{name}-*.parquet"))


def read_table(stage_dir: Path, name: str) -> pa.Table:
    # ParquetFile, not pq.read_table: the latter loads pyarrow's dataset layer (~0.15 s a process)
    import pyarrow.parquet as pq

    with pq.ParquetFile(table_path(stage_dir, name)) as f:
        return f.read()
