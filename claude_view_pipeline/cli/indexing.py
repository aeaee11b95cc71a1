"""Indexing and what the index holds: `index`, `status`, `report`, `metrics`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..config import ConfigError, Settings, flag_as_set, metrics_file
from ..output import Col, err, number, print_json, safe, table
from ..sources import SOURCE_NAMES, Source, UnknownSourceError, parse_sources, specs
from .common import EXIT_FAILED, existing_db, fail, options, report_failure, run_index
from .common import db_path as index_path

DEMO_DIR = Path(__file__).resolve().parent.parent.parent / "fixtures" / "demo"


def register(sub: argparse._SubParsersAction) -> None:
    ix = sub.add_parser("index", parents=[options(db=True)], help="discover, parse and index session files into the DuckDB index")
    ix.add_argument("--sources", help=f"comma-separated subset of {','.join(SOURCE_NAMES)} (default: every enabled source)")
    ix.add_argument("--full", action="store_true", help="re-parse every file, not only new and changed ones")
    for spec in specs():
        ix.add_argument(spec.dir_flag, type=Path, metavar="DIR",
                        help=f"read {spec.label} sessions from DIR (default: ${' / $'.join(spec.settings)}, else its usual place)")
    ix.add_argument("--json", action="store_true", help="print a machine-readable summary")
    ix.add_argument("--metrics-file", type=Path,
                    help="Prometheus textfile to write after the run (default: $CLAUDE_VIEW_METRICS_FILE, else <db dir>/claude_view_pipeline.prom)")
    ix.add_argument("--log-format", choices=("human", "json"), help="events on stderr as text or JSON lines (default: $CLAUDE_VIEW_LOG_FORMAT, else human)")
    ix.add_argument("--verbose", "-v", action="store_true", help="log every file, not only rejections and malformed lines")
    ix.add_argument("--demo-if-empty", action="store_true",
                    help="when no session file is found under the default roots, index the bundled demo sessions")
    ix.set_defaults(run=cmd_index)

    st = sub.add_parser("status", parents=[options(db=True)], help="schema version and what the index holds, per source")
    st.add_argument("--json", action="store_true", help="print JSON")
    st.set_defaults(run=cmd_status)

    rp = sub.add_parser("report", parents=[options(db=True)],
                        help="the verification report: parse success, unknown events, idempotency, drift (exit 1 when a threshold fails)")
    rp.add_argument("--out", type=Path, help="also write the markdown to this file (e.g. docs/testing/verification-report.md)")
    rp.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    rp.set_defaults(run=cmd_report)

    mt = sub.add_parser("metrics", parents=[options(db=True)], help="print the Prometheus exposition of the index's metrics")
    mt.set_defaults(run=cmd_metrics)


def _choose_sources(requested: list[Source] | None, settings: Settings) -> list[Source]:
    if requested is None:
        return settings.enabled_sources()
    disabled = [s for s in requested if not settings.enabled.get(s, True)]
    if disabled:
        flags = ", ".join(flag_as_set(s) for s in disabled)
        raise ConfigError(f"{', '.join(s.value for s in disabled)} is disabled ({flags}); nothing was indexed")
    return requested


def _found_any(sources: list[Source], settings: Settings) -> bool:
    from ..discovery import discover

    return any(discover(s, settings.roots[s]) for s in sources)


def cmd_index(args: argparse.Namespace) -> int:
    try:
        requested = parse_sources(args.sources)
    except UnknownSourceError as exc:
        return fail(str(exc))
    settings = Settings.from_env()
    sources = _choose_sources(requested, settings)
    if not sources:
        return fail(f"every source is disabled ({' / '.join(s.enable_flag for s in specs())}); nothing to index")
    import logging

    from .. import logs

    try:
        logs.configure(args.log_format, level=logging.DEBUG if args.verbose else logging.WARNING)
    except ValueError as exc:
        return fail(str(exc))

    db = index_path(args, settings)
    dirs = {s: getattr(args, f"{s.value}_dir") for s in sources}
    demo = False
    if args.demo_if_empty and not any(dirs.values()) and not _found_any(sources, settings):
        demo = True
        dirs = {s: DEMO_DIR / s.value / s.spec.corpus_dir for s in sources if (DEMO_DIR / s.value).is_dir()}
        # demo rows never go into a real index, whichever path was asked for (--db,
        # CLAUDE_VIEW_DB or the default): they go to demo.duckdb beside it
        db = db.with_name("demo.duckdb")
        err("No session found under " + ", ".join(str(r) for s in sources for r in settings.roots[s])
            + f"; indexing the bundled demo sessions from {DEMO_DIR} into {db} instead.")
    if not args.json:
        err(f"indexing {', '.join(s.value for s in sources)} into {db}")
    roots = {s: settings.roots_for(s, dirs.get(s)) for s in sources}
    run = run_index(sources, db, roots, full=args.full)
    summary = run.summary()
    summary["demo"] = demo
    if run.error is None and db.exists():
        from ..metrics import default_textfile, write_textfile

        target = args.metrics_file or metrics_file() or default_textfile(db)
        try:
            summary["metrics_file"] = str(write_textfile(db, target))
        except OSError as exc:  # the index is written; only its metrics file could not be
            from ..errors import explain

            err(f"claude-view-pipeline: warning: metrics file not written: {explain(exc, target)}")
    if args.json:
        print_json(summary)
    elif run.sources:  # a run that failed before any source was indexed has nothing to show
        _print_summary(summary)
    report_failure(run, getattr(args, "debug", False))
    return 0 if run.success else EXIT_FAILED


def _print_summary(summary: dict) -> None:
    print(f"index: {safe(summary['db_path'])}")
    rows = list(summary["sources"].items())
    table([
        Col("  source", lambda r: f"  {r[0]}"),
        Col("files", lambda r: r[1]["files_scanned"], right=True),
        Col("parsed", lambda r: r[1]["files_parsed"], right=True),
        Col("rejected", lambda r: sum(x["files"] for x in r[1]["files_rejected"].values()), right=True),
        Col("sessions", lambda r: r[1]["sessions"], right=True),
        Col("messages", lambda r: r[1]["messages"], right=True),
        Col("tokens", lambda r: number(r[1]["tokens"]["total_tokens"]), right=True),
    ], rows)
    for name, s in rows:
        t = s["tokens"]
        print(f"  {name} tokens: input {t['input_tokens']:,}, cache read {t['cache_read_tokens']:,}, "
              f"cache creation {t['cache_creation_tokens']:,}, output {t['output_tokens']:,}"
              + (f" (reasoning {t['reasoning_tokens']:,})" if t["reasoning_tokens"] else ""))
        if s["files_missing"]:
            print(f"  {name}: {s['files_missing']} indexed file(s) no longer on disk (rows kept)")
        if s["lines_malformed"]:
            print(f"  {name}: {s['lines_malformed']} malformed line(s) skipped")
        for reason, r in s["files_rejected"].items():
            print(f"  {name}: {r['files']} file(s) rejected ({reason}), e.g. {safe(r['examples'][0], 200)}")
    checks = summary.get("checks", {})
    if checks:
        failed = sorted(name for name, passed in checks.items() if not passed)
        print(f"checks: {len(checks) - len(failed)}/{len(checks)} passed" + (f"; FAILED: {', '.join(failed)}" if failed else ""))


PROJECTS_SHOWN = 8


def cmd_status(args: argparse.Namespace) -> int:
    from ..report import index_status

    db = existing_db(args)
    status = index_status(db)
    if args.json:
        print_json(status)
        return 0
    print(f"index: {safe(db)} (schema v{status['schema_version']})")
    table([
        Col("  source", lambda r: f"  {r[0]}"),
        Col("sessions", lambda r: number(r[1]["sessions"]), right=True),
        Col("messages", lambda r: number(r[1]["messages"]), right=True),
        Col("tokens", lambda r: number(r[1]["total_tokens"]), right=True),
        Col("rejected", lambda r: r[1]["files_rejected"], right=True),
        Col("missing", lambda r: r[1]["files_missing"], right=True),
        Col("last indexed", lambda r: r[1]["last_indexed_at"] or ""),
    ], list(status["sources"].items()))
    unpriced = status.get("unpriced_models") or []
    if unpriced:
        print("  models with no price (their tokens are left out of every cost): "
              + ", ".join(f"{safe(m['source'])}:{safe(m['model'], 40)} ({m['tokens']:,} tokens)" for m in unpriced))
    projects = status["projects"]
    if projects:
        top = ", ".join(f"{safe(p['project'], 40)} {p['sessions']}" for p in projects[:PROJECTS_SHOWN])
        more = ", ..." if len(projects) > PROJECTS_SHOWN else ""
        print(f"  projects {len(projects)}: {top}{more} (sessions each)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Exit 0 when every threshold holds or only drift warns, 1 when one fails (so scripts
    can gate on it)."""
    from dataclasses import asdict

    from ..verification import build_report

    db = existing_db(args)
    report = build_report(db)
    text = report.markdown()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    if args.json:
        print(json.dumps({s: {**asdict(r), "failed": r.failed(), "warnings": r.warnings()} for s, r in report.sources.items()},
                         indent=2, sort_keys=True))
    else:
        print(safe_lines(text), end="")
    return EXIT_FAILED if any(r.failed() for r in report.sources.values()) else 0


def safe_lines(text: str) -> str:
    """Multi-line text (markdown) with each line escaped."""
    return "".join(safe(line) + "\n" for line in text.splitlines())


def cmd_metrics(args: argparse.Namespace) -> int:
    from ..metrics import exposition

    db = existing_db(args)
    sys.stdout.write(safe_lines(exposition(db)))
    return 0
