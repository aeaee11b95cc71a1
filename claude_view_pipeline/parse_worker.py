"""What a parse worker process runs, and the pool of them a run shares.

Kept apart from pipeline.py so a worker imports only the parsers and the Parquet writer
(no DuckDB): a worker's start-up is most of what running in parallel costs.
"""

from __future__ import annotations

import signal
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from typing import TYPE_CHECKING

from .discovery import SessionFile
from .parsers import parse_file
from .sources import Source
from .staging import add_message_rows, new_message_columns, parsed_tables, rate_limits_table, write_parquet

if TYPE_CHECKING:  # imported where used: a run that parses nothing never loads pyarrow
    import pyarrow as pa
    import pyarrow.parquet as pq

# A file at least this large streams its messages to Parquet while it is parsed, so a file
# of any size is parsed in bounded memory.
STREAM_MIN_BYTES = 32 * 1024 * 1024


class MessageWriter:
    """A parser's message sink that appends each batch to one Parquet file."""

    def __init__(self, path: Path, file_path: str, source: Source):
        self.path, self.file_path, self.source = path, file_path, source
        self._writer: pq.ParquetWriter | None = None
        self._written: dict[str, int] = {}  # session id -> messages written (the next ordinal)

    def __call__(self, session_id: str, messages: list) -> None:
        cols = new_message_columns()
        start = self._written.get(session_id, 0)
        add_message_rows(cols, self.file_path, session_id, self.source.value, messages, start=start)
        self._written[session_id] = start + len(messages)
        import pyarrow as pa
        import pyarrow.parquet as pq

        from .staging import MESSAGES_SCHEMA

        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, MESSAGES_SCHEMA, compression="zstd")
        self._writer.write_table(pa.table(cols, schema=MESSAGES_SCHEMA))

    def close(self, keep: bool) -> None:
        if self._writer is not None:
            self._writer.close()
            if not keep:  # a file rejected half-way: none of its messages may load
                self.path.unlink()


def _parse(source: Source, path: str, size: int, out_dir: Path, part: int, i: int):
    if size < STREAM_MIN_BYTES:
        return parse_file(source, path)
    sink = MessageWriter(out_dir / f"messages-{part:05d}-{i:05d}.parquet", path, source)
    result = None
    try:
        result = parse_file(source, path, sink=sink)
        return result
    finally:
        sink.close(keep=result is not None and result.ok)


def parse_chunk(source_value: str, files: list[tuple[str, int, int, str]], out_dir: str, part: int) -> pa.Table:
    """Parse a chunk of files, write its sessions and messages as Parquet parts into out_dir,
    and hand back only the (small) per-file outcomes, so no process ever holds the whole
    batch's messages."""
    source = Source(source_value)
    pairs = [(SessionFile(source, p, s, m, k), _parse(source, p, s, Path(out_dir), part, i)) for i, (p, s, m, k) in enumerate(files)]
    sessions, messages, results = parsed_tables(pairs)
    write_parquet(sessions, Path(out_dir) / f"sessions-{part:05d}.parquet")
    write_parquet(messages, Path(out_dir) / f"messages-{part:05d}.parquet")
    write_parquet(rate_limits_table([fp for _, fp in pairs]), Path(out_dir) / f"rate_limits-{part:05d}.parquet")
    return results


def _leave_interrupts_to_the_run() -> None:
    """Ctrl-C reaches every process of the terminal's group; the run (the parent) decides
    and stops the workers, so they print no traceback of their own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class WorkerPool:
    """Parse worker processes, started when first needed and shared by every source of a run
    (each start costs a fresh interpreter and its imports). Spawned, not forked: the caller
    may be a threaded Dagster process."""

    def __init__(self, workers: int):
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None

    def executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"),
                                                 initializer=_leave_interrupts_to_the_run)
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown()
            self._executor = None

    def abort(self) -> None:
        """Stop at once (Ctrl-C, a failed run): queued chunks are dropped and the workers
        killed, rather than waiting for every chunk to be parsed for nothing."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        # the executor's own processes: Python < 3.14 has no public way to end them
        workers = list(getattr(executor, "_processes", {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in workers:
            process.terminate()
        for process in workers:
            process.join(timeout=5)

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
