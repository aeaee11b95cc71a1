"""``claude-view-pipeline``: the command-line face of the pipeline.

``index`` runs the same stage functions and integrity checks as the Dagster assets, directly
(no Dagster run, no Dagster import); with DAGSTER_HOME set, a run that changed the index is
recorded in that Dagster instance so the UI shows it. ``usage`` brings the index up to date
the same way before it answers. Arguments are checked before any work.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .config import WEEKDAYS, ConfigError, Settings, checked_timezone, flag_as_set, usage_timezone
from .output import err
from .paths import os_path
from .privacy import owner_only_umask
from .sources import SOURCE_NAMES, Source, UnknownSourceError, parse_sources

EXIT_USAGE = 2
DEMO_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="claude-view-pipeline", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", type=Path, help="DuckDB file (default: $CLAUDE_VIEW_DB, else a per-user data dir)")
    ix = sub.add_parser("index", parents=[db], help="discover, parse and index session files into the DuckDB index")
    ix.add_argument("--sources", help=f"comma-separated subset of {','.join(SOURCE_NAMES)} (default: every enabled source)")
    ix.add_argument("--full", action="store_true", help="re-parse every file, not only new and changed ones")
    ix.add_argument("--claude-dir", type=Path, help="Claude Code projects dir (default: $CLAUDE_PROJECTS_DIR, ...)")
    ix.add_argument("--codex-dir", type=Path, help="Codex sessions dir (default: $CODEX_SESSIONS_DIR, ...)")
    ix.add_argument("--json", action="store_true", help="print a machine-readable summary")
    ix.add_argument("--metrics-file", type=Path,
                    help="Prometheus textfile to write after the run (default: $CLAUDE_VIEW_METRICS_FILE, else <db dir>/claude_view_pipeline.prom)")
    ix.add_argument("--log-format", choices=("human", "json"), help="events on stderr as text or JSON lines (default: $CLAUDE_VIEW_LOG_FORMAT, else human)")
    ix.add_argument("--verbose", "-v", action="store_true", help="log every file, not only rejections and malformed lines")
    ix.add_argument("--debug", action="store_true", help="show the full traceback when the run fails")
    ix.add_argument(
        "--demo-if-empty",
        action="store_true",
        help="when no session file is found under the default roots, index the bundled demo sessions",
    )
    us = sub.add_parser("usage", parents=[db], help="tokens and estimated cost per day, week, month or session x source x model x project; 5-hour blocks")
    us.add_argument("period", choices=("daily", "weekly", "monthly", "session", "blocks", "limits"))
    us.add_argument("--active", action="store_true", help="blocks: only the active block, with its burn rate and projection")
    us.add_argument("--recent", action="store_true", help="blocks: only those of the last three days")
    us.add_argument("--week-start", choices=WEEKDAYS, default="monday", help="the day weeks begin on (weekly; default monday)")
    us.add_argument("--sources", help=f"comma-separated subset of {','.join(SOURCE_NAMES)} (default: all)")
    us.add_argument("--since", type=_date, help="first day, YYYY-MM-DD (inclusive)")
    us.add_argument("--until", type=_date, help="last day, YYYY-MM-DD (inclusive)")
    us.add_argument("--project", help="only sessions of this project (its name, as shown, or its key)")
    us.add_argument("--timezone", help="IANA zone the days are cut in (default: $CLAUDE_VIEW_TIMEZONE, else the machine's)")
    us.add_argument("--json", action="store_true", help="print JSON rows")
    us.add_argument("--plot", type=Path, help="also write a PNG chart: daily tokens by source and cost; "
                    "for limits, the plan windows' daily peaks and the largest Claude block per day")
    us.add_argument("--no-refresh", action="store_true",
                    help="answer from the index as it is (default: index new and changed session files first)")
    us.add_argument("--debug", action="store_true", help="show the full traceback when the refresh fails")
    tm = sub.add_parser("team", help="the team store (CLAUDE_VIEW_TEAM_CATALOG, CLAUDE_VIEW_TEAM_DATA): push, status, usage")
    tm.add_argument("--debug", action="store_true", help="show the full traceback when the store fails")
    team_sub = tm.add_subparsers(dest="team_command", required=True)
    tp = team_sub.add_parser("push", parents=[db], help="bring the local index current, then replace this host's rows in the team store")
    tp.add_argument("--host", help="the name this machine pushes as (default: its hostname)")
    tp.add_argument("--no-refresh", action="store_true", help="push the index as it is")
    tp.add_argument("--json", action="store_true")
    ts = team_sub.add_parser("status", help="per host and source: sessions, messages, tokens, last push")
    ts.add_argument("--json", action="store_true")
    tu = team_sub.add_parser("usage", help="usage of the whole team; a session pushed by two hosts counts once")
    tu.add_argument("period", choices=("daily", "monthly"))
    tu.add_argument("--timezone", help="IANA zone the days are cut in (default: $CLAUDE_VIEW_TIMEZONE, else the machine's)")
    tu.add_argument("--json", action="store_true")
    rp = sub.add_parser("report", parents=[db], help="the verification report: parse success, unknown events, idempotency, drift (exit 1 when a threshold fails)")
    rp.add_argument("--out", type=Path, help="also write the markdown to this file (e.g. docs/testing/verification-report.md)")
    rp.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    sub.add_parser("metrics", parents=[db], help="print the Prometheus exposition of the index's metrics")
    sub.add_parser("migrate", parents=[db], help="apply pending schema migrations (backing the index up first)")
    st = sub.add_parser("status", parents=[db], help="schema version and what the index holds, per source")
    st.add_argument("--json", action="store_true", help="print JSON")
    bk = sub.add_parser("backup", parents=[db], help="write a consistent copy of the index")
    bk.add_argument("--to", type=Path, help="backup file to create (default: <db dir>/backups/<name>.manual-<time>.duckdb)")
    rs = sub.add_parser("restore", parents=[db], help="put a backup in place of the index (the replaced file is kept)")
    rs.add_argument("backup", type=Path, help="a backup file (e.g. one the migration runner took)")
    return p


def _date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class CliError(Exception):
    """A usage problem: reported on stderr, exit status 2."""


def _db_path(args: argparse.Namespace, settings: Settings | None = None) -> Path:
    path = (args.db or (settings or Settings.from_env()).db_path).expanduser().resolve()
    if path.is_dir():
        named = "--db" if args.db else "CLAUDE_VIEW_DB"
        raise CliError(f"{named} names the directory {path}; name the index file, e.g. {path / 'index.duckdb'}")
    return path


def _existing_db(args: argparse.Namespace, upgrade: bool = True) -> Path:
    """The index a reading command opens, brought to the current schema first (an index an
    earlier release wrote is migrated, backed up first, as every command that opens it does)."""
    db = _db_path(args)
    if not db.exists():
        raise CliError(f"no index at {db}")
    if upgrade:
        from .store.migrate import upgrade as upgrade_index

        report = upgrade_index(db)
        if report.applied:
            err(f"upgraded the index to schema v{report.applied[-1]} (migrations {', '.join(f'{v:03d}' for v in report.applied)}); "
                f"the previous file is kept at {report.backup}")
    return db


def cmd_usage(args: argparse.Namespace) -> int:
    from . import usage

    try:
        sources = parse_sources(args.sources)
        tz = checked_timezone(args.timezone) if args.timezone else usage_timezone()
    except (UnknownSourceError, ValueError) as exc:
        return _fail(str(exc))
    if args.no_refresh:
        db = _existing_db(args)
    else:
        db = _db_path(args)
        failed = _refresh(db, sources, debug=args.debug)
        if failed is not None:
            return failed
    chosen = [s.value for s in sources] if sources else None
    if args.period == "blocks":
        return _print_blocks(db, chosen, args)
    if args.period == "limits":
        return _print_limits(db, tz, args)
    rows = usage.rollup(db, args.period, tz, chosen, args.since, args.until, args.project, args.week_start)
    if args.plot:
        usage.plot(rows if args.period == "daily" else usage.rollup(db, "daily", tz, chosen, args.since, args.until, args.project), args.plot)
    if args.json:
        _print_json_rows(rows)
        return 0
    key = {"daily": "day", "weekly": "week", "monthly": "month", "session": "session_id"}[args.period]
    print(f"{args.period} usage in {tz} ({rows[0]['price_data_version'] if rows else usage.price_data_version()})")
    width = max([12, *(len(str(r[key])) for r in rows)])  # session ids in full
    header = f"{key:<{width}} {'source':<7} {'model':<28} {'project':<16} {'sess':>5} {'calls':>6} {'input':>10} {'cache rd':>12} {'cache wr':>10} {'output':>10} {'total':>13} {'cost USD':>10}"
    print(header)
    for r in rows:
        cost = usage.format_cost(r["cost_usd"])
        print(f"{str(r[key]):<{width}} {r['source']:<7} {str(r['model'])[:28]:<28} {r['project'][:16]:<16} {r['sessions']:>5} {r['api_call_count']:>6} "
              f"{r['input_tokens']:>10,} {r['cache_read_tokens']:>12,} {r['cache_creation_tokens']:>10,} {r['output_tokens']:>10,} {r['total_tokens']:>13,} {cost:>10}")
    print(usage.totals_line(rows))
    if args.plot:
        print(f"chart: {args.plot}")
    return 0


def _print_json_rows(rows: list[dict]) -> None:
    """Usage rows as JSON (orjson: dates and decimals as they are)."""
    import orjson

    sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")


def cmd_report(args: argparse.Namespace) -> int:
    """Exit 0 when every threshold holds or only drift warns, 1 when one fails (so scripts
    can gate on it)."""
    from dataclasses import asdict

    from .verification import build_report

    db = _existing_db(args)
    report = build_report(db)
    text = report.markdown()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    if args.json:
        print(json.dumps({s: {**asdict(r), "failed": r.failed(), "warnings": r.warnings()} for s, r in report.sources.items()}, indent=2, sort_keys=True))
    else:
        print(text, end="")
    return 1 if any(r.failed() for r in report.sources.values()) else 0


def _print_limits(db: Path, tz: str, args: argparse.Namespace) -> int:
    from .limits import rate_limit_summary

    summary = rate_limit_summary(db, tz, args.since, args.until)
    if args.plot:
        from .blocks import usage_blocks
        from .limits import plot_windows

        plot_windows(summary["days"], usage_blocks(db, ["claude"]), args.plot)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    if not summary["windows"]:
        print("no rate-limit reports in the index (Codex writes them with each call)")
        return 0
    print("Codex plan windows, latest report")
    for w in summary["windows"]:
        length = f"{w['window_minutes']} min" if w["window_minutes"] else "length not reported"
        resets = f", resets {w['resets_at']}" if w["resets_at"] else ""
        print(f"  {w['window']:<9} {w['used_percent']:>5.1f}% used ({length}{resets}; reported {w['reported_at']})")
    print(f"peak used percent per day ({tz})")
    peaks: dict = {}
    for d in summary["days"]:
        peaks.setdefault(d["day"], {})[d["window"]] = d["peak_used_percent"]
    for day, by_window in peaks.items():
        print(f"  {day}  " + "  ".join(f"{w} {p:5.1f}%" for w, p in sorted(by_window.items())))
    return 0


def _print_blocks(db: Path, sources: list[str] | None, args: argparse.Namespace) -> int:
    from .blocks import usage_blocks
    from .usage import format_cost

    blocks = usage_blocks(db, sources, active_only=args.active, recent=args.recent)
    if args.json:
        print(json.dumps(blocks, indent=2))
        return 0
    print("5-hour usage blocks (UTC)")
    print(f"{'source':<7} {'start':<17} {'end':<17} {'calls':>6} {'total tokens':>13} {'cost USD':>9}  models")
    for b in blocks:
        span = f"{b['source']:<7} {b['start'][:16].replace('T', ' '):<17} {b['end'][:16].replace('T', ' '):<17}"
        if b["is_gap"]:
            print(f"{span} {'(gap)':>6}")
            continue
        cost = format_cost(b["cost_usd"])
        active = "  ACTIVE" if b["is_active"] else ""
        print(f"{span} {b['api_call_count']:>6} {b['total_tokens']:>13,} {cost:>9}  {', '.join(b['models'])}{active}")
        if b["burn_rate"]:
            rate, proj = b["burn_rate"], b["projection"]
            per_hour = "" if rate["cost_usd_per_hour"] is None else f", {rate['cost_usd_per_hour']:.2f} USD"
            print(f"        burn rate {rate['tokens_per_hour']:,.0f} tokens{per_hour} per hour; at that rate "
                  f"{proj['total_tokens']:,} tokens by the block's end, in {proj['remaining_minutes']} min")
    return 0


def cmd_team(args: argparse.Namespace) -> int:
    import socket

    from . import team

    env = team.TeamEnv.from_env()
    # what the command was given is checked before the store is touched (exit status 2)
    if args.team_command == "push":
        args.host = team.check_host(socket.gethostname() if args.host is None else args.host)
    if getattr(args, "timezone", None):
        checked_timezone(args.timezone)
    try:
        return _team_command(args, env)
    except (ConfigError, CliError):
        raise
    except Exception as exc:  # noqa: BLE001 - the store's libraries raise many kinds; one line says which store and why
        if getattr(args, "debug", False):
            raise
        text = str(exc).strip()
        cause = text.splitlines()[0] if text else type(exc).__name__
        print(f"claude-view-pipeline: the team store ({env.catalog_uri}) failed: {cause}; is its PostgreSQL running "
              "and reachable? (a local one: eval \"$(./pipeline services up)\"; --debug shows the traceback)", file=sys.stderr)
        return 1


def _team_command(args: argparse.Namespace, env) -> int:
    from . import team, usage

    if args.team_command == "push":
        db = _db_path(args)
        if not args.no_refresh:
            failed = _refresh(db, None)
            if failed is not None:
                return failed
        if not db.exists():
            return _fail(f"no index at {db}; run 'index' first")
        db = _existing_db(args)  # an index an earlier release wrote is brought up to date first
        host = args.host
        results = team.push(env, db, host, Settings.from_env().enabled_sources())
        if args.json:
            print(json.dumps([r.__dict__ for r in results], indent=2))
        for r in results:
            state = "pushed" if r.changed else "unchanged"
            print(f"{host}/{r.source}: {r.sessions} sessions {state}", file=sys.stderr)
        return 0
    if args.team_command == "status":
        rows = team.team_status(env)
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        for r in rows:
            print(f"{r['host']:<20} {r['source']:<7} sessions {r['sessions']:>7,}  messages {r['messages']:>9,}  "
                  f"tokens {r['total_tokens']:>15,}  last push {r['last_push']}")
        return 0
    tz = checked_timezone(args.timezone) if args.timezone else usage_timezone()
    rows = team.team_usage(env, args.period, tz)
    if args.json:
        _print_json_rows(rows)
        return 0
    for r in rows:
        cost = usage.format_cost(r["cost_usd"])
        print(f"{r['day' if args.period == 'daily' else 'month']}  {r['host']:<16} {r['source']:<7} {str(r['model'])[:28]:<28} "
              f"{r['project'][:16]:<16} {r['total_tokens']:>13,} {cost:>10}")
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from .metrics import exposition

    db = _existing_db(args)
    sys.stdout.write(exposition(db))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from .store import connect, migrate

    db = _db_path(args)
    con = connect(db)
    try:
        report = migrate(con)
    finally:
        con.close()
    if not report.applied:
        print(f"{db}: schema up to date")
    else:
        print(f"{db}: applied migration(s) {', '.join(f'{v:03d}' for v in report.applied)}")
    if report.backup:
        print(f"backup of the previous schema: {report.backup}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from .report import index_status

    db = _existing_db(args)
    status = index_status(db)
    if args.json:
        print(json.dumps(status, indent=2, sort_keys=True, default=str))
        return 0
    print(f"index: {db} (schema v{status['schema_version']})")
    for source, s in status["sources"].items():
        print(f"  {source:<7} sessions {s['sessions']:>7,}  messages {s['messages']:>9,}  tokens {s['total_tokens']:>15,}"
              f"  files rejected {s['files_rejected']:>4}  missing {s['files_missing']:>4}  last indexed {s['last_indexed_at']}")
    projects = status["projects"]
    if projects:
        top = ", ".join(f"{p['project']} {p['sessions']}" for p in projects[:8])
        print(f"  projects {len(projects)}: {top}{', ...' if len(projects) > 8 else ''} (sessions each)")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from .store.backup import backup, describe

    db = _db_path(args)
    try:
        dest = backup(db, args.to)
    except (FileNotFoundError, FileExistsError) as exc:
        return _fail(str(exc))
    info = describe(dest)
    print(f"backup of {db} written to {dest} (schema v{max(info['schema_versions'], default=0)}, sessions {info['sessions_by_source']})")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from .store.backup import describe, restore

    db = _db_path(args)
    try:
        info = describe(args.backup)
        kept = restore(args.backup, db)
    except (FileNotFoundError, ValueError) as exc:
        return _fail(str(exc))
    print(f"restored {args.backup} to {db} (schema v{max(info['schema_versions'], default=0)}, sessions {info['sessions_by_source']})")
    if kept:
        print(f"the replaced index is kept at {kept}")
    return 0


def _fail(message: str) -> int:
    print(f"claude-view-pipeline: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _choose_sources(requested: list[Source] | None, settings: Settings) -> list[Source]:
    if requested is None:
        return settings.enabled_sources()
    disabled = [s for s in requested if not settings.enabled.get(s, True)]
    if disabled:
        flags = ", ".join(flag_as_set(s) for s in disabled)
        raise ConfigError(f"{', '.join(s.value for s in disabled)} is disabled ({flags}); nothing was indexed")
    return requested


def _found_any(sources: list[Source], settings: Settings) -> bool:
    from .discovery import discover

    return any(discover(s, settings.roots[s]) for s in sources)


def cmd_index(args: argparse.Namespace) -> int:
    try:
        requested = parse_sources(args.sources)
        settings = Settings.from_env()
        sources = _choose_sources(requested, settings)
    except UnknownSourceError as exc:
        return _fail(str(exc))
    except ConfigError as exc:
        return _fail(str(exc))
    if not sources:
        return _fail("every source is disabled (ENABLE_CLAUDE_SOURCE / ENABLE_CODEX_SOURCE); nothing to index")

    db_path = _db_path(args, settings)
    claude_dir, codex_dir = args.claude_dir, args.codex_dir
    demo = False
    if args.demo_if_empty and not (claude_dir or codex_dir) and not _found_any(sources, settings):
        demo = True
        claude_dir, codex_dir = DEMO_DIR / "claude" / "projects", DEMO_DIR / "codex" / "sessions"
        # demo rows never go into a real index, whichever path was asked for (--db,
        # CLAUDE_VIEW_DB or the default): they go to demo.duckdb beside it
        db_path = db_path.with_name("demo.duckdb")
        print(
            "No Claude Code or Codex sessions found under "
            + ", ".join(str(r) for s in sources for r in settings.roots[s])
            + f";\nindexing the bundled demo sessions from {DEMO_DIR} into {db_path} instead.",
            file=sys.stderr,
        )

    import logging

    from . import logs

    try:
        logs.configure(args.log_format, level=logging.DEBUG if args.verbose else logging.WARNING)
    except ValueError as exc:
        return _fail(str(exc))
    if not args.json:
        print(f"indexing {', '.join(s.value for s in sources)} into {db_path}", file=sys.stderr)
    roots = {s: settings.roots_for(s, claude_dir, codex_dir) for s in sources}
    run = _run_index(sources, db_path, roots, full=args.full, progress=not args.json)
    summary = run.summary()
    summary["demo"] = demo
    if run.error is None and db_path.exists():
        from .metrics import default_textfile, write_textfile

        target = args.metrics_file or (Path(os.environ["CLAUDE_VIEW_METRICS_FILE"]) if os.environ.get("CLAUDE_VIEW_METRICS_FILE") else default_textfile(db_path))
        try:
            summary["metrics_file"] = str(write_textfile(db_path, target))
        except OSError as exc:  # the index is written; only its metrics file could not be
            from .errors import explain

            print(f"claude-view-pipeline: warning: metrics file not written: {explain(exc, target)}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True, default=str))
    elif run.sources:  # a run that failed before any source was indexed has nothing to show
        from .report import format_summary

        print(format_summary(summary))
    _report_failure(run, args.debug)
    return 0 if run.success else 1


def _run_index(sources: list[Source], db_path: Path, roots: dict, full: bool = False, progress: bool = False):
    """One index run (indexing.run_index), recorded in the Dagster instance when DAGSTER_HOME
    is set and the run changed the index (a run that changed nothing adds no event)."""
    from .indexing import run_index

    run = run_index(sources, db_path, roots, full=full, progress=_print_progress if progress and sys.stderr.isatty() else None)
    if os.environ.get("DAGSTER_HOME") and (run.changed or not run.success) and run.sources:
        from .dagster_events import record_run

        record_run(run)
    return run


def _print_progress(source: Source, done: int, total: int) -> None:
    sys.stderr.write(f"\r  [{source.value}] parsing {done}/{total} files")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _report_failure(run, debug: bool) -> None:
    if run.error:
        if debug and run.error_traceback:
            print(run.error_traceback, file=sys.stderr, end="")
        print(f"claude-view-pipeline: run failed: {run.error}", file=sys.stderr)
    failed = sorted(name for name, c in run.checks.items() if not c.passed)
    if failed:
        print(f"claude-view-pipeline: integrity check(s) failed: {', '.join(failed)}", file=sys.stderr)


def _refresh(db: Path, requested: list[Source] | None, debug: bool = False) -> int | None:
    """Bring the index up to date before a read: every enabled source (of those asked for),
    rescanned from the roots it was last indexed from (else the configured ones). Returns an
    exit status when the refresh failed, else None."""
    from .store import connect
    from .store.writer import recorded_roots

    settings = Settings.from_env()
    sources = [s for s in settings.enabled_sources() if requested is None or s in requested]
    if not sources:
        return None
    roots = {s: settings.roots[s] for s in sources}
    if db.exists():
        con = connect(db, read_only=True)
        try:
            for s in sources:
                roots[s] = [Path(os.fsdecode(os_path(str(r)))) for r in (recorded_roots(con, s) or roots[s])]
        finally:
            con.close()
    run = _run_index(sources, db, roots)
    if not run.success:
        _report_failure(run, debug)
        return 1
    parsed = sum(r.parse.files_parsed for r in run.sources.values())
    if parsed:
        print(f"(indexed {parsed} new or changed session file(s) first)", file=sys.stderr)
    return None


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    owner_only_umask()  # everything a command writes (index, backups, hand-offs, metrics) is private
    commands = {"index": cmd_index, "usage": cmd_usage, "team": cmd_team, "report": cmd_report, "metrics": cmd_metrics, "migrate": cmd_migrate, "status": cmd_status, "backup": cmd_backup, "restore": cmd_restore}
    try:
        return commands[args.command](args)
    except (ConfigError, CliError) as exc:
        return _fail(str(exc))
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        # workers are stopped on the way out; an index write in progress is rolled back
        print("claude-view-pipeline: interrupted; the index keeps its last committed state", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
