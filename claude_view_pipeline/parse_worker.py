"""What a parse worker process runs, and the pool of them a run shares.

Kept apart from pipeline.py so a worker imports only the parsers and the Parquet writer
(no DuckDB): a worker's start-up is most of what running in parallel costs.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pyarrow as pa

from .discovery import SessionFile
from .parsers import parse_file
from .sources import Source
from .staging import parsed_tables, write_parquet


def parse_chunk(source_value: str, files: list[tuple[str, int, int, str]], out_dir: str, part: int) -> pa.Table:
    """Parse a chunk of files, write its sessions and messages as Parquet parts into out_dir,
    and hand back only the (small) per-file outcomes, so no process ever holds the whole
    batch's messages."""
    source = Source(source_value)
    pairs = [(SessionFile(source, p, s, m, k), parse_file(source, p)) for p, s, m, k in files]
    sessions, messages, results = parsed_tables(pairs)
    write_parquet(sessions, Path(out_dir) / f"sessions-{part:05d}.parquet")
    write_parquet(messages, Path(out_dir) / f"messages-{part:05d}.parquet")
    return results


class WorkerPool:
    """Parse worker processes, started when first needed and shared by every source of a run
    (each start costs a fresh interpreter and its imports). Spawned, not forked: the caller
    may be a threaded Dagster process."""

    def __init__(self, workers: int):
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None

    def executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"))
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown()
            self._executor = None

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
