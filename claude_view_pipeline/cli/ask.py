"""Asking the index: `search` (full-text search over every message) and `mcp` (the same
questions, and usage, for an agent, over MCP on stdio)."""

from __future__ import annotations

import argparse
from datetime import datetime
from zoneinfo import ZoneInfo

from ..config import checked_timezone, usage_timezone
from ..output import err, print_json, safe
from ..sources import SOURCE_NAMES, UnknownSourceError, parse_sources
from .common import date_arg, db_path, existing_db, fail, index_to_read, options, refresh


def register(sub: argparse._SubParsersAction) -> None:
    from ..search import MAX_LIMIT, ROLES, SORTS

    se = sub.add_parser("search", parents=[options(db=True)],
                        help="full-text search over every message (prompts, answers, tool calls and results), ranked or newest first")
    se.add_argument("query", nargs="*", metavar="QUERY",
                    help='words (all must match), "a phrase" (quoted for the shell too: \'"a phrase"\'), prefix*, OR, NOT')
    se.add_argument("--sources", help=f"comma-separated subset of {','.join(SOURCE_NAMES)} (default: all)")
    se.add_argument("--project", help="only sessions of this project (its name, as shown, or its key)")
    se.add_argument("--since", type=date_arg, help="first day, YYYY-MM-DD (inclusive)")
    se.add_argument("--until", type=date_arg, help="last day, YYYY-MM-DD (inclusive)")
    se.add_argument("--role", help=f"comma-separated subset of {','.join(ROLES)} (default: all)")
    se.add_argument("--sort", choices=SORTS, default="relevance", help="best match first (default) or newest first")
    se.add_argument("--limit", type=int, default=20, help=f"hits shown, 1-{MAX_LIMIT} (default 20)")
    se.add_argument("--timezone", help="IANA zone --since/--until days and shown times are in (default: $CLAUDE_VIEW_TIMEZONE, else the machine's)")
    se.add_argument("--json", action="store_true", help="print JSON hits")
    se.add_argument("--rebuild", action="store_true", help="build the search index again from the DuckDB index first (a query is then optional)")
    se.add_argument("--no-refresh", action="store_true",
                    help="answer from the index as it is (default: index new and changed session files first)")
    se.set_defaults(run=cmd_search)

    mc = sub.add_parser("mcp", parents=[options(db=True)],
                        help="serve the index to an agent over MCP on stdio (read-only tools: usage, sessions, search, Codex plan windows)")
    mc.add_argument("--no-refresh", action="store_true",
                    help="answer from the index as it is (default: index new and changed session files before each answer)")
    mc.set_defaults(run=cmd_mcp)


def cmd_search(args: argparse.Namespace) -> int:
    from .. import search

    text = " ".join(args.query)
    try:
        sources = parse_sources(args.sources)
    except UnknownSourceError as exc:
        return fail(str(exc))
    roles = [r.strip() for r in args.role.split(",") if r.strip()] if args.role is not None else None
    tz = checked_timezone(args.timezone) if args.timezone else usage_timezone()
    # everything about the question is checked before any work
    try:
        if text or not args.rebuild:
            search.fts_query(text)
        if roles is not None and (not roles or any(r not in search.ROLES for r in roles)):
            raise search.QueryError(f"--role takes roles from {', '.join(search.ROLES)}")
        if not 1 <= args.limit <= search.MAX_LIMIT:
            raise search.QueryError(f"--limit must be between 1 and {search.MAX_LIMIT}")
    except search.QueryError as exc:
        return fail(str(exc))
    db = index_to_read(args, sources)
    if isinstance(db, int):
        return db
    # an index run (the refresh) has just kept the search index current: sync only when none
    # did, or when asked to rebuild
    if args.rebuild or args.no_refresh or not search.search_path(db).exists():
        report = search.sync(db, rebuild=args.rebuild)
    else:
        report = None
    if report is not None and report.rebuilt:
        err(f"(built the search index {report.path} from the index: {report.documents:,} messages, "
            f"{report.seconds:.1f} s{'' if args.rebuild else '; it was ' + (report.reason or 'missing')})")
    if not text:
        return 0
    chosen = [s.value for s in sources] if sources else None
    try:
        hits = search.search(db, text, sources=chosen, project=args.project, since=args.since, until=args.until,
                             roles=roles, sort=args.sort, limit=args.limit, tz=tz)
    except search.QueryError as exc:
        return fail(str(exc))
    if args.json:
        print_json(hits)
        if not hits:
            err("no matches")
        return 0
    if not hits:
        print("no matches")
        return 0
    zone = ZoneInfo(tz)
    for h in hits:
        when = datetime.fromisoformat(h["timestamp"].replace("Z", "+00:00")).astimezone(zone).strftime("%Y-%m-%d %H:%M") if h["timestamp"] else "-"
        print(f"{when}  {safe(h['source'])}  {safe(h['project'] or '-', 30)}  {h['role']}  {safe(h['session_id'])}")
        print(f"    {safe(h['snippet'], 300)}")
    more = " (--limit shows more, if there are more)" if len(hits) == args.limit else ""
    print(f"{len(hits)} hit(s), {'best match' if args.sort == 'relevance' else 'newest'} first, times in {tz}{more}")
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    from ..mcp_server import serve

    db = existing_db(args) if args.no_refresh else db_path(args)
    debug = getattr(args, "debug", False)

    def bring_up_to_date() -> None:
        # before each answer, as `usage` does before it prints (stdout is the protocol's:
        # what the run says goes to stderr)
        if refresh(db, None, debug=debug) is not None:
            raise RuntimeError("indexing the new and changed session files failed (see the server's stderr)")

    serve(db, None if args.no_refresh else bring_up_to_date)
    return 0
