"""One index run without Dagster: the three stages, the integrity checks and the daily usage
rollup, for the chosen sources, exactly as the Dagster job runs them (the assets call the
same stage functions, the asset checks the same checks). The CLI runs this; no Dagster is
imported, so a run that finds nothing changed costs a scan of the roots and two small reads
of the index.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .config import parse_workers
from .errors import explain
from .integrity import CHECKS, CheckOutcome, run_check
from .parse_worker import WorkerPool
from .pipeline import (
    DiscoveryReport,
    IndexReport,
    ParseReport,
    Progress,
    load_session_index,
    look_first,
    new_run_id,
    stage_parsed_sessions,
    stage_session_files,
)
from .sources import Source
from .staging import StagingArea
from .store import connect, migrate
from .store.db import held_open


@dataclass
class SourceRun:
    discovery: DiscoveryReport
    parse: ParseReport
    index: IndexReport


@dataclass
class IndexRun:
    """What one run did: per source, each stage's report; the checks; the error if it failed."""

    run_id: str
    db_path: Path
    sources: dict[Source, SourceRun] = field(default_factory=dict)
    checks: dict[str, CheckOutcome] = field(default_factory=dict)
    error: str | None = None
    error_traceback: str | None = None  # shown by the CLI with --debug only
    daily_usage_rows: int | None = None  # rows written to daily_usage, None when not refreshed
    search_index: dict | None = None  # what keeping the search index current did (search.SyncReport.as_dict)
    search_error: str | None = None  # why the search index could not be kept current (the run still succeeds)

    @property
    def success(self) -> bool:
        return self.error is None and all(c.passed for c in self.checks.values())

    @property
    def changed(self) -> bool:
        """Did the run write anything (a parsed file, a file that appeared or vanished)?"""
        return any(r.index.write.changed for r in self.sources.values())

    def summary(self) -> dict:
        """The run as the CLI prints it (``index --json``)."""
        out: dict = {"db_path": str(self.db_path), "run_id": self.run_id, "sources": {}}
        for source, r in self.sources.items():
            d, p, i = r.discovery, r.parse, r.index
            out["sources"][source.value] = {
                "files_scanned": d.files_scanned,
                "files_new": d.new,
                "files_changed": d.changed,
                "files_unchanged": d.unchanged,
                "files_missing": d.missing,
                "files_parsed": p.files_parsed,
                "lines_malformed": p.lines_malformed,
                "files_rejected": i.rejected,
                "sessions": i.sessions_in_index,
                "messages": i.messages_in_index,
                "tokens": dict(i.tokens),
            }
        out["checks"] = {name: c.passed for name, c in self.checks.items()}
        out["success"] = self.success
        if self.search_index is not None:
            out["search_index"] = self.search_index
        if self.search_error:
            out["search_error"] = self.search_error
        if self.error:
            out["error"] = self.error
        return out


def run_checks(db_path: Path, run_id: str, sources: list[Source]) -> dict[str, CheckOutcome]:
    """Every integrity check on the index after a run (what the Dagster asset checks run)."""
    con = connect(db_path, read_only=True)
    try:
        return {c.name: run_check(c, con, run_id=run_id, sources=[s.value for s in sources]) for c in CHECKS}
    finally:
        con.close()


def refresh_daily_usage(db_path: Path) -> int:
    """Rebuild the daily_usage table from the index, in the usage timezone setting (what the
    daily_usage asset does)."""
    from . import usage
    from .config import usage_timezone

    return len(usage.write_daily_usage(db_path, usage_timezone()))


def refresh_search_index(db_path: Path, sources: list[str]) -> tuple[dict | None, str | None]:
    """Bring the search index up to date for these sources (what the search_index asset
    does). Never fails the run: the search index is derived from DuckDB, and a problem with
    it is reported and repaired by the next run (or 'search --rebuild'), the index is not."""
    from . import search

    try:
        return search.sync(db_path, sources).as_dict(), None
    except Exception as exc:  # noqa: BLE001 - reported beside the run's result, never its failure
        return None, f"the search index was not updated: {explain(exc, search.search_path(db_path))}"


def run_index(
    sources: list[Source],
    db_path: Path,
    roots: dict[Source, list[Path]],
    full: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
) -> IndexRun:
    """Index the chosen sources into db_path, one source after the other (one writer), then
    check the index, bring daily_usage up to date when anything changed, and keep the search
    index current. A failure
    stops the run and is reported in ``error`` (the index keeps its last committed state)."""
    run = IndexRun(new_run_id(), db_path)
    staging = StagingArea.beside(db_path)
    try:
        # one open database for the whole run; workers started only if a source needs them
        with held_open(db_path) as con, WorkerPool(workers or parse_workers()) as pool:
            migrate(con)  # the schema exists from the start: a run killed later leaves a sound, empty index
            for source in sources:
                first = look_first(source, roots[source], db_path, run.run_id, full=full)
                if first.reports:  # nothing to do: no stage runs
                    run.sources[source] = SourceRun(*first.reports)
                    continue
                discovery = stage_session_files(source, roots[source], db_path, staging, run_id=run.run_id, first=first)
                parse = stage_parsed_sessions(source, staging, full=full, progress=progress, run_id=run.run_id, pool=pool)
                index = load_session_index(source, staging, db_path, run_id=run.run_id)
                run.sources[source] = SourceRun(discovery, parse, index)
            run.checks = run_checks(db_path, run.run_id, sources)
            if run.changed and run.success:
                run.daily_usage_rows = refresh_daily_usage(db_path)
            if run.success:
                run.search_index, run.search_error = refresh_search_index(db_path, [s.value for s in run.sources])
    except Exception as exc:  # noqa: BLE001 - reported to the caller as the run's error
        run.error = explain(exc, db_path)
        run.error_traceback = traceback.format_exc()
    return run
