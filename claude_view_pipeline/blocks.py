"""Five-hour usage blocks, the windows Claude Code plans are limited by: a block begins at
the hour of its first call and lasts five hours; the first call after it ends (or after five
hours without a call) begins the next. A stretch of five hours or more without a call is
shown as a gap. The active block (the clock inside it, a call in the last five hours) has a
burn rate and a projection to its end. The same rule is applied to Codex calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa

from .store import connect
from .usage import USAGE_MEASURES, dict_rows, priced_calls

BLOCK = timedelta(hours=5)
RECENT = timedelta(days=3)
_TOKENS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "cache_creation_5m_tokens",
           "cache_creation_1h_tokens", "output_tokens", "unpriced_tokens")


@dataclass(frozen=True)
class _Span:
    source: str
    start: datetime
    first: datetime
    last: datetime


def _spans(calls: list[tuple[str, datetime]]) -> list[_Span]:
    """Blocks from the calls' times, per source (calls sorted by source, then time)."""
    spans: list[_Span] = []
    for source, at in calls:
        cur = spans[-1] if spans and spans[-1].source == source else None
        if cur is None or at >= cur.start + BLOCK or at - cur.last > BLOCK:
            spans.append(_Span(source, at.replace(minute=0, second=0, microsecond=0), at, at))
        else:
            spans[-1] = _Span(source, cur.start, cur.first, at)
    return spans


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def usage_blocks(db_path: Path, sources: list[str] | None = None, now: datetime | None = None,
                 active_only: bool = False, recent: bool = False, project: str | None = None) -> list[dict]:
    """The blocks (and the gaps between them) of the calls of these sources (and of this
    project's sessions), oldest first; ``recent``: those that end in the last three days;
    ``active_only``: the active block(s)."""
    now = now or datetime.now(timezone.utc)
    con = connect(db_path, read_only=True)
    try:
        costed = priced_calls(con, "UTC", sources, project=project)
        spans = _spans(con.execute(f"SELECT source, used_at FROM {costed} ORDER BY source, used_at").fetchall())
        if not spans:
            return []
        con.register("spans", pa.table({"source": [s.source for s in spans], "start": [s.start for s in spans]}))
        sums = dict_rows(con.execute(
            f"""
            SELECT b.source, b.start, {USAGE_MEASURES},
                   list(DISTINCT c.model ORDER BY c.model) FILTER (WHERE c.model IS NOT NULL) AS models
            FROM {costed} c ASOF JOIN spans b ON c.source = b.source AND c.used_at >= b.start
            GROUP BY b.source, b.start
            """
        ))
        by_start = {(r["source"], r["start"]): r for r in sums}
    finally:
        con.close()

    out: list[dict] = []
    for i, s in enumerate(spans):
        if i and spans[i - 1].source == s.source and s.first - spans[i - 1].last > BLOCK:
            out.append(_gap(s.source, spans[i - 1].last + BLOCK, s.first))
        row = by_start[(s.source, s.start)]
        end = s.start + BLOCK
        active = now < end and now - s.last < BLOCK
        out.append({
            "source": s.source, "start": _iso(s.start), "end": _iso(end), "actual_end": _iso(s.last),
            "is_gap": False, "is_active": active,
            **{k: v for k, v in row.items() if k not in ("source", "start")},
            **(_burn(row, s, end, now) if active else {"burn_rate": None, "projection": None}),
        })
    if active_only:
        return [b for b in out if b["is_active"]]
    if recent:
        since = _iso(now - RECENT)
        return [b for b in out if b["end"] >= since]
    return out


def began_between(blocks: list[dict], tz: str, since: date | None, until: date | None) -> list[dict]:
    """The blocks (and gaps) that began on the days since..until (either may be None), the
    days cut in the IANA zone tz: what ``usage blocks --since/--until`` shows."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)

    def day(iso: str) -> date:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone).date()

    return [b for b in blocks if (since is None or day(b["start"]) >= since) and (until is None or day(b["start"]) <= until)]


def _gap(source: str, start: datetime, end: datetime) -> dict:
    return {"source": source, "start": _iso(start), "end": _iso(end), "actual_end": None, "is_gap": True,
            "is_active": False, "api_call_count": 0, **dict.fromkeys(_TOKENS, 0), "reasoning_tokens": None,
            "total_tokens": 0, "cost_usd": 0.0, "model_assumed": False, "price_model": None, "price_provider": None,
            "models": [], "burn_rate": None, "projection": None}


def _burn(row: dict, s: _Span, end: datetime, now: datetime) -> dict:
    """Tokens and USD per hour over the block's activity so far, and where that rate ends
    the block; none while the block has one moment of activity only."""
    hours = (s.last - s.first).total_seconds() / 3600
    if hours <= 0:
        return {"burn_rate": None, "projection": None}
    tokens_per_hour = row["total_tokens"] / hours
    cost_per_hour = None if row["cost_usd"] is None else row["cost_usd"] / hours
    remaining = max((end - now).total_seconds() / 3600, 0.0)
    return {
        "burn_rate": {"tokens_per_hour": round(tokens_per_hour, 1),
                      "cost_usd_per_hour": None if cost_per_hour is None else round(cost_per_hour, 4)},
        "projection": {"total_tokens": round(row["total_tokens"] + tokens_per_hour * remaining),
                       "cost_usd": None if cost_per_hour is None else round(row["cost_usd"] + cost_per_hour * remaining, 4),
                       "remaining_minutes": round(remaining * 60)},
    }
