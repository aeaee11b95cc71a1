"""Where the tokens and the money go: `usage daily|weekly|monthly|session|blocks|limits`."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ..config import WEEKDAYS, checked_timezone, usage_timezone
from ..output import Col, number, print_json, safe, table
from ..sources import SOURCE_NAMES, UnknownSourceError, parse_sources, specs
from .common import agent_cost_column, date_arg, fail, index_to_read, options, refuse

PERIOD_KEYS = {"daily": "day", "weekly": "week", "monthly": "month", "session": "session_id"}


def register(sub: argparse._SubParsersAction) -> None:
    us = sub.add_parser("usage", parents=[options(db=True)],
                        help="tokens and estimated cost per day, week, month or session x source x model x project; 5-hour blocks; Codex's plan windows")
    us.add_argument("period", choices=(*PERIOD_KEYS, "blocks", "limits"))
    us.add_argument("--active", action="store_true", help="blocks: only the active block, with its burn rate and projection")
    us.add_argument("--recent", action="store_true", help="blocks: only those of the last three days")
    us.add_argument("--week-start", choices=WEEKDAYS, help="weekly: the day weeks begin on (default monday)")
    us.add_argument("--sources", help=f"comma-separated subset of {','.join(SOURCE_NAMES)} (default: all)")
    us.add_argument("--since", type=date_arg, help="first day, YYYY-MM-DD (inclusive)")
    us.add_argument("--until", type=date_arg, help="last day, YYYY-MM-DD (inclusive)")
    us.add_argument("--project", help="only sessions of this project (its name, as shown, or its key)")
    us.add_argument("--timezone", help="IANA zone the days are cut in (default: $CLAUDE_VIEW_TIMEZONE, else the machine's)")
    us.add_argument("--json", action="store_true", help="print JSON rows")
    us.add_argument("--plot", type=Path, help="also write a PNG chart: daily tokens by source and cost; "
                    "for limits, the plan windows' daily peaks and the largest Claude block per day")
    us.add_argument("--no-refresh", action="store_true",
                    help="answer from the index as it is (default: index new and changed session files first)")
    us.set_defaults(run=cmd_usage)


def cmd_usage(args: argparse.Namespace) -> int:
    refuse(args, {"active": "usage blocks", "recent": "usage blocks"} if args.period != "blocks" else {})
    refuse(args, {"week_start": "usage weekly"} if args.period != "weekly" else {})
    refuse(args, {"plot": "usage daily|weekly|monthly|session|limits"} if args.period == "blocks" else {})
    try:
        sources = parse_sources(args.sources)
    except UnknownSourceError as exc:
        return fail(str(exc))
    tz = checked_timezone(args.timezone) if args.timezone else usage_timezone()
    db = index_to_read(args, sources)
    if isinstance(db, int):
        return db
    chosen = [s.value for s in sources] if sources else None
    if args.period == "blocks":
        return _blocks(db, chosen, tz, args)
    if args.period == "limits":
        return _limits(db, chosen, tz, args)
    return _rollup(db, chosen, tz, args)


def _rollup(db: Path, sources: list[str] | None, tz: str, args: argparse.Namespace) -> int:
    from .. import usage

    rows = usage.rollup(db, args.period, tz, sources, args.since, args.until, args.project, args.week_start or "monday")
    if args.plot:
        daily = rows if args.period == "daily" else usage.rollup(db, "daily", tz, sources, args.since, args.until, args.project)
        usage.plot(daily, args.plot)
    if args.json:
        print_json(rows)
        return 0
    key = PERIOD_KEYS[args.period]
    print(f"{args.period} usage in {tz} ({rows[0]['price_data_version'] if rows else usage.price_data_version()})")
    cols = [
        Col(key, lambda r: r[key]),
        Col("source", lambda r: r["source"]),
        Col("model", usage.model_label, width=32),
        Col("project", lambda r: r["project"], width=24),
        Col("sess", lambda r: r["sessions"], right=True),
        Col("calls", lambda r: r["api_call_count"], right=True),
        Col("input", lambda r: number(r["input_tokens"]), right=True),
        Col("cache rd", lambda r: number(r["cache_read_tokens"]), right=True),
        Col("cache wr", lambda r: number(r["cache_creation_tokens"]), right=True),
        Col("output", lambda r: number(r["output_tokens"]), right=True),
        Col("total", lambda r: number(r["total_tokens"]), right=True),
        Col("cost USD", lambda r: usage.format_cost(r["cost_usd"]), right=True),
    ]
    table(cols + agent_cost_column(rows), rows)
    print(safe(usage.totals_line(rows)))
    if any(r["model_assumed"] for r in rows):
        print(usage.ASSUMED_NOTE)
    if args.plot:
        print(f"chart: {safe(args.plot)}")
    return 0


def _in_zone(iso: str, tz: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(tz))


def _blocks(db: Path, sources: list[str] | None, tz: str, args: argparse.Namespace) -> int:
    from ..blocks import began_between, usage_blocks
    from ..usage import ASSUMED_NOTE, format_cost

    # --since/--until: the days the blocks began on, in the chosen zone
    blocks = began_between(usage_blocks(db, sources, active_only=args.active, recent=args.recent, project=args.project),
                           tz, args.since, args.until)
    if args.json:
        print_json(blocks)
        return 0
    print(f"5-hour usage blocks ({tz})")

    def when(iso: str) -> str:
        return _in_zone(iso, tz).strftime("%Y-%m-%d %H:%M")

    table([
        Col("source", lambda b: b["source"]),
        Col("start", lambda b: when(b["start"])),
        Col("end", lambda b: when(b["end"])),
        Col("calls", lambda b: "(gap)" if b["is_gap"] else b["api_call_count"], right=True),
        Col("total tokens", lambda b: "" if b["is_gap"] else number(b["total_tokens"]), right=True),
        Col("cost USD", lambda b: "" if b["is_gap"] else format_cost(b["cost_usd"]), right=True),
        Col("models", lambda b: ", ".join(b["models"]) + (" (assumed)" if b["model_assumed"] else "")
            + ("  ACTIVE" if b["is_active"] else ""), width=60),
    ], blocks)
    if any(b["model_assumed"] for b in blocks):
        print(ASSUMED_NOTE)
    for b in blocks:
        if b["burn_rate"]:
            rate, proj = b["burn_rate"], b["projection"]
            per_hour = "" if rate["cost_usd_per_hour"] is None else f", {rate['cost_usd_per_hour']:.2f} USD"
            print(f"{b['source']} active block: burn rate {rate['tokens_per_hour']:,.0f} tokens{per_hour} per hour; at that rate "
                  f"{proj['total_tokens']:,} tokens by the block's end, in {proj['remaining_minutes']} min")
    return 0


def _limits(db: Path, sources: list[str] | None, tz: str, args: argparse.Namespace) -> int:
    from ..limits import rate_limit_summary

    summary = rate_limit_summary(db, tz, args.since, args.until, sources=sources, project=args.project)
    if args.plot:
        from ..blocks import usage_blocks
        from ..limits import plot_windows

        block_sources = [s.name for s in specs() if s.plan_blocks]
        plot_windows(summary["days"], usage_blocks(db, block_sources, project=args.project), args.plot)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    if not summary["windows"]:
        print("no rate-limit reports in the index for this choice (Codex writes them with each call)")
        return 0
    print("Codex plan windows, latest report")
    table([Col("window", lambda w: w["window"]),
           Col("used", lambda w: f"{w['used_percent']:.1f}%", right=True),
           Col("length", lambda w: f"{w['window_minutes']} min" if w["window_minutes"] else "not reported", right=True),
           Col("resets", lambda w: w["resets_at"] or ""),
           Col("reported", lambda w: w["reported_at"])], summary["windows"])
    print(f"peak used percent per day ({tz})")
    peaks: dict = {}
    for d in summary["days"]:
        peaks.setdefault(d["day"], {})[d["window"]] = d["peak_used_percent"]
    windows = sorted({w for by_window in peaks.values() for w in by_window})
    table([Col("day", lambda r: r[0]),
           *(Col(w, (lambda w: lambda r: "" if r[1].get(w) is None else f"{r[1][w]:.1f}%")(w), right=True) for w in windows)],
          list(peaks.items()))
    return 0
