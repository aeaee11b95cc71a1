"""Codex's plan windows over time (the rate_limits table): each window's latest state and
its peak per day, and whether the active short window is nearly full."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from .store import connect
from .store.migrate import has_table
from .usage import checked_timezone


def rate_limit_summary(db_path: Path, tz: str) -> dict:
    """``windows``: per window, the latest report (used percent, length, reset time);
    ``days``: per day (cut in ``tz``) and window, the peak used percent."""
    con = connect(db_path, read_only=True)
    try:
        if not has_table(con, "rate_limits"):
            return {"windows": [], "days": []}
        con.execute(f"SET TimeZone = '{checked_timezone(tz)}'")
        latest = con.execute(
            """
            SELECT "window", used_percent, window_minutes, event_at, resets_at FROM rate_limits
            QUALIFY row_number() OVER (PARTITION BY "window" ORDER BY event_at DESC, line_no DESC) = 1
            ORDER BY "window"
            """
        ).fetchall()
        days = con.execute(
            """
            SELECT CAST(event_at AS DATE) AS day, "window", max(used_percent)
            FROM rate_limits GROUP BY ALL ORDER BY day, "window"
            """
        ).fetchall()
    finally:
        con.close()
    return {
        "windows": [{"window": w, "used_percent": used, "window_minutes": minutes, "reported_at": _iso(at), "resets_at": _iso(resets)}
                    for w, used, minutes, at, resets in latest],
        "days": [{"day": d.isoformat(), "window": w, "peak_used_percent": peak} for d, w, peak in days],
    }


def active_primary_window(db_path: Path, now: datetime | None = None) -> dict | None:
    """The latest primary window report, if that window has not reset yet (by its reset
    time, else by its length from the report); None otherwise."""
    now = now or datetime.now(timezone.utc)
    con = connect(db_path, read_only=True)
    try:
        if not has_table(con, "rate_limits"):
            return None
        row = con.execute(
            """
            SELECT used_percent, window_minutes, event_at, resets_at FROM rate_limits
            WHERE "window" = 'primary' ORDER BY event_at DESC, line_no DESC LIMIT 1
            """
        ).fetchall()
    finally:
        con.close()
    if not row:
        return None
    used, minutes, at, resets = row[0]
    ends = resets if resets is not None else (at + timedelta(minutes=minutes) if minutes else None)
    if ends is None or ends <= now:
        return None
    return {"used_percent": used, "window_minutes": minutes, "reported_at": _iso(at), "resets_at": _iso(ends)}


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
