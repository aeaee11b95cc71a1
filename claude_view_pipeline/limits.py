"""Codex's plan windows over time (the rate_limits table): each window's latest state and
its peak per day, and whether the active short window is nearly full."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from .store import connect
from .store.migrate import has_table
from .config import checked_timezone


def _latest_reports(con, relation: str = "rate_limits") -> list[tuple]:
    """Per window, its latest report: (window, used_percent, window_minutes, at, resets_at)."""
    return con.execute(
        f"""
        SELECT "window", used_percent, window_minutes, "at", resets_at FROM {relation}
        QUALIFY row_number() OVER (PARTITION BY "window" ORDER BY "at" DESC, line_no DESC) = 1
        ORDER BY "window"
        """
    ).fetchall()


def rate_limit_summary(db_path: Path, tz: str, since: date | None = None, until: date | None = None,
                       sources: list[str] | None = None, project: str | None = None) -> dict:
    """``windows``: per window, the latest report (used percent, length, reset time);
    ``days``: per day (cut in ``tz``, from ``since`` to ``until``) and window, the peak used
    percent; of the reports of these sources' sessions (and of this project's)."""
    con = connect(db_path, read_only=True)
    try:
        if not has_table(con, "rate_limits"):
            return {"windows": [], "days": []}
        con.execute(f"SET TimeZone = '{checked_timezone(tz)}'")
        con.execute(
            """
            CREATE TEMP TABLE reports AS
            SELECT r.* FROM rate_limits r LEFT JOIN sessions s ON s.id = r.session_id
            WHERE ($sources::VARCHAR[] IS NULL OR list_contains($sources::VARCHAR[], r.source))
              AND ($project::VARCHAR IS NULL OR s.project = $project OR s.project_key = $project)
            """,
            {"sources": sources, "project": project},
        )
        latest = _latest_reports(con, "reports")
        days = con.execute(
            """
            SELECT CAST("at" AS DATE) AS day, "window", max(used_percent)
            FROM reports GROUP BY ALL
            HAVING ($since::DATE IS NULL OR day >= $since) AND ($until::DATE IS NULL OR day <= $until)
            ORDER BY day, "window"
            """,
            {"since": since, "until": until},
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
        primary = [r[1:] for r in _latest_reports(con) if r[0] == "primary"]
    finally:
        con.close()
    if not primary:
        return None
    used, minutes, at, resets = primary[0]
    ends = resets if resets is not None else (at + timedelta(minutes=minutes) if minutes else None)
    if ends is None or ends <= now:
        return None
    return {"used_percent": used, "window_minutes": minutes, "reported_at": _iso(at), "resets_at": _iso(ends)}


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plot_windows(days: list[dict], blocks: list[dict], path: Path) -> Path:
    """A PNG beside the daily chart: per day, the peak primary and secondary used percent of
    the plan windows reported (Codex; top) and the largest 5-hour block of ``blocks`` that began
    that day, in tokens (bottom: the sources whose plans count 5-hour blocks, Claude)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    peaks: dict[tuple[str, str], float] = {(d["day"], d["window"]): d["peak_used_percent"] for d in days}
    largest: dict[str, int] = {}
    for b in blocks:  # the blocks of the sources whose plans count 5-hour blocks
        if not b["is_gap"]:
            day = b["start"][:10]
            largest[day] = max(largest.get(day, 0), b["total_tokens"])
    all_days = sorted({d for d, _ in peaks} | set(largest))
    x = range(len(all_days))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6), dpi=100, sharex=True)
    for window, colour in (("primary", "#4a6ee0"), ("secondary", "#9aa9d6")):
        top.plot(x, [peaks.get((d, window)) for d in all_days], marker="o", markersize=3, color=colour, label=f"Codex {window} window")
    top.axhline(100, color="#aa3333", linewidth=0.8, linestyle="--")
    top.set_ylabel("peak used %")
    top.set_ylim(0, 105)
    top.legend(loc="upper left", fontsize=8)
    top.set_title("Plan windows per day: the reported peak, and the largest 5-hour block (UTC)")
    bottom.bar(x, [largest.get(d, 0) / 1e6 for d in all_days], color="#d97757", label="largest 5-hour block")
    bottom.set_ylabel("tokens (millions)")
    bottom.legend(loc="upper left", fontsize=8)
    bottom.set_xticks(list(x))
    bottom.set_xticklabels(all_days, rotation=60, ha="right", fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
