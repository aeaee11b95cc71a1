"""The team store (many machines, one store): `team push`, `team status`, `team usage`."""

from __future__ import annotations

import argparse
import socket
import sys

from ..config import ConfigError, Settings, checked_timezone, usage_timezone
from ..output import Col, err, number, print_json, safe, table
from .common import EXIT_FAILED, CliError, agent_cost_column, index_to_read, options


def register(sub: argparse._SubParsersAction) -> None:
    tm = sub.add_parser("team", parents=[options()],
                        help="the team store (CLAUDE_VIEW_TEAM_CATALOG, CLAUDE_VIEW_TEAM_DATA): push, status, usage")
    team_sub = tm.add_subparsers(dest="team_command", required=True)
    tp = team_sub.add_parser("push", parents=[options(db=True)], help="bring the local index current, then replace this host's rows in the team store")
    tp.add_argument("--host", help="the name this machine pushes as (default: its hostname)")
    tp.add_argument("--no-refresh", action="store_true", help="push the index as it is")
    tp.add_argument("--json", action="store_true", help="print JSON")
    ts = team_sub.add_parser("status", parents=[options()], help="per host and source: sessions, messages, tokens, last push")
    ts.add_argument("--json", action="store_true", help="print JSON")
    tu = team_sub.add_parser("usage", parents=[options()],
                             help="usage of the whole team; a session pushed by several hosts counts once, by its most complete copy")
    tu.add_argument("period", choices=("daily", "monthly"))
    tu.add_argument("--timezone", help="IANA zone the days are cut in (default: $CLAUDE_VIEW_TIMEZONE, else the machine's)")
    tu.add_argument("--json", action="store_true", help="print JSON rows")
    tm.set_defaults(run=cmd_team)


def cmd_team(args: argparse.Namespace) -> int:
    from .. import team

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
        err(f"claude-view-pipeline: the team store ({env.catalog_uri}) failed: {cause}; is its PostgreSQL running "
            "and reachable? (a local one: eval \"$(./pipeline services up)\"; --debug shows the traceback)")
        return EXIT_FAILED


def _team_command(args: argparse.Namespace, env) -> int:
    from .. import team, usage

    if args.team_command == "push":
        db = index_to_read(args, None)
        if isinstance(db, int):
            return db
        results = team.push(env, db, args.host, Settings.from_env().enabled_sources())
        if args.json:
            print_json([r.__dict__ for r in results])
        for r in results:
            state = "pushed" if r.changed else "unchanged"
            print(f"{args.host}/{r.source}: {r.sessions} sessions {state}", file=sys.stderr)
        return 0
    if args.team_command == "status":
        rows = team.team_status(env)
        if args.json:
            print_json(rows)
            return 0
        table([
            Col("host", lambda r: r["host"], width=40),
            Col("source", lambda r: r["source"]),
            Col("sessions", lambda r: number(r["sessions"]), right=True),
            Col("messages", lambda r: number(r["messages"]), right=True),
            Col("tokens", lambda r: number(r["total_tokens"]), right=True),
            Col("last push", lambda r: r["last_push"]),
        ], rows)
        return 0
    tz = checked_timezone(args.timezone) if args.timezone else usage_timezone()
    rows = team.team_usage(env, args.period, tz)
    if args.json:
        print_json(rows)
        return 0
    key = "day" if args.period == "daily" else "month"
    table([
        Col(key, lambda r: r[key]),
        Col("host", lambda r: r["host"], width=40),
        Col("source", lambda r: r["source"]),
        Col("model", usage.model_label, width=32),
        Col("project", lambda r: r["project"], width=24),
        Col("total", lambda r: number(r["total_tokens"]), right=True),
        Col("cost USD", lambda r: usage.format_cost(r["cost_usd"]), right=True),
        *agent_cost_column(rows),
    ], rows)
    print(safe(usage.totals_line(rows)))
    if any(r["model_assumed"] for r in rows):
        print(usage.ASSUMED_NOTE)
    return 0
