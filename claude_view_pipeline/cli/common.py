"""What the command groups share: the options every command takes, the index a command
opens, the index run that `index`, `usage` and `team push` start, and how a failure is said."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..config import ConfigError, Settings, dagster_home
from ..output import Col, err, safe
from ..paths import os_path
from ..sources import Source

EXIT_FAILED = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A usage problem: reported on stderr, exit status 2."""


def options(*, db: bool = False) -> argparse.ArgumentParser:
    """A parent parser of the options every command takes (--debug) and, for a command that
    opens the index, --db. Sub-commands' --debug does not overwrite a --debug given before the
    command (SUPPRESS: unset unless given here)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback when the command fails")
    if db:
        p.add_argument("--db", type=Path, help="DuckDB file (default: $CLAUDE_VIEW_DB, else a per-user data dir)")
    return p


def date_arg(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def fail(message: str) -> int:
    err(f"claude-view-pipeline: error: {message}")
    return EXIT_USAGE


def refuse(args: argparse.Namespace, flags: dict[str, str]) -> None:
    """A flag given where it means nothing is an error naming it (exit 2), never ignored:
    ``flags`` maps each such option (its dest) to where it does apply."""
    for dest, where in flags.items():
        value = getattr(args, dest, None)
        if value not in (None, False):
            raise CliError(f"--{dest.replace('_', '-')} applies to {where} only")


def db_path(args: argparse.Namespace, settings: Settings | None = None) -> Path:
    path = (getattr(args, "db", None) or (settings or Settings.from_env()).db_path).expanduser().resolve()
    if path.is_dir():
        named = "--db" if getattr(args, "db", None) else "CLAUDE_VIEW_DB"
        raise CliError(f"{named} names the directory {path}; name the index file, e.g. {path / 'index.duckdb'}")
    return path


def existing_db(args: argparse.Namespace) -> Path:
    """The index a reading command opens, brought to the current schema first (an index an
    earlier release wrote is migrated, backed up first, by every command that opens it)."""
    from ..store.migrate import upgrade

    db = db_path(args)
    if not db.exists():
        raise CliError(f"no index at {db}")
    report = upgrade(db)
    if report.applied:
        err(f"upgraded the index to schema v{report.applied[-1]} (migrations {', '.join(f'{v:03d}' for v in report.applied)}); "
            f"the previous file is kept at {report.backup}")
    return db


def run_index(sources: list[Source], db: Path, roots: dict, full: bool = False):
    """One index run (indexing.run_index) with a progress bar on a terminal, recorded in the
    Dagster instance when DAGSTER_HOME is set and the run changed the index (a run that
    changed nothing adds no event)."""
    from ..indexing import run_index as run
    from ..output import progress_bar

    with progress_bar() as progress:
        result = run(sources, db, roots, full=full, progress=progress)
    if result.search_error:  # the index is written; only its search index lags (the next run repairs it)
        err(f"claude-view-pipeline: warning: {result.search_error}")
    if dagster_home() and (result.changed or not result.success) and result.sources:
        from ..dagster_events import record_run

        record_run(result)
    return result


def report_failure(run, debug: bool) -> None:
    if run.error:
        if debug and run.error_traceback:
            print(run.error_traceback, file=sys.stderr, end="")
        err(f"claude-view-pipeline: run failed: {run.error}")
    failed = sorted(name for name, c in run.checks.items() if not c.passed)
    if failed:
        err(f"claude-view-pipeline: integrity check(s) failed: {', '.join(failed)}")


def index_to_read(args: argparse.Namespace, sources: list[Source] | None) -> Path | int:
    """The index a reading command answers from (``usage``, ``search``, ``team push``): brought
    up to date first unless ``--no-refresh``; an exit status when that failed."""
    if args.no_refresh:
        return existing_db(args)
    db = db_path(args)
    failed = refresh(db, sources, debug=getattr(args, "debug", False))
    if failed is not None:
        return failed
    if not db.exists():
        return fail(f"no index at {db}, and no session files to build it from")
    return existing_db(args)  # an index an earlier release wrote is brought up to date first


def refresh(db: Path, requested: list[Source] | None, debug: bool = False) -> int | None:
    """Bring the index up to date before a read: every enabled source (of those asked for),
    rescanned from the roots it was last indexed from (else the configured ones). Returns an
    exit status when the refresh failed, else None."""
    from ..store import connect
    from ..store.writer import recorded_roots

    settings = Settings.from_env()
    sources = [s for s in settings.enabled_sources() if requested is None or s in requested]
    if not sources:
        return None
    roots = {s: settings.roots[s] for s in sources}
    if db.exists():
        from ..store.migrate import upgrade

        upgrade(db)
        con = connect(db, read_only=True)
        try:
            for s in sources:
                roots[s] = [Path(os.fsdecode(os_path(str(r)))) for r in (recorded_roots(con, s) or roots[s])]
        finally:
            con.close()
    run = run_index(sources, db, roots)
    if not run.success:
        report_failure(run, debug)
        return EXIT_FAILED
    parsed = sum(r.parse.files_parsed for r in run.sources.values())
    if parsed:
        err(f"(indexed {parsed} new or changed session file(s) first)")
    return None


def explain_failure(exc: BaseException, args: argparse.Namespace) -> str:
    """One line for a command that failed (the index's path named where it matters)."""
    from ..errors import explain

    try:
        where = db_path(args)
    except (CliError, ConfigError):
        where = Path(".")
    return explain(exc, where)


def agent_cost_column(rows: list[dict]) -> list[Col]:
    """The cost an agent recorded itself (OpenCode), as a column beside ours when any row has one."""
    if all(r.get("agent_cost_usd") is None for r in rows):
        return []
    return [Col("agent USD", lambda r: "" if r.get("agent_cost_usd") is None else f"{r['agent_cost_usd']:.2f}", right=True)]


__all__ = ["CliError", "agent_cost_column", "ConfigError", "EXIT_FAILED", "EXIT_USAGE", "date_arg", "db_path", "existing_db", "fail", "index_to_read", "options",
           "refresh", "refuse", "report_failure", "run_index", "safe"]
