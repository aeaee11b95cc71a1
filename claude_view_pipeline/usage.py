"""Usage analytics: tokens and estimated cost per day (or week, month, session) x source x
model x project, from the per-call usage in ``messages``.

- Days are cut in an IANA timezone (default: the machine's), by when each call's usage was
  reported (``messages.usage_at``), not by when its session started.
- Each call is priced on its own (pricing.py), so a price tier applies to the calls that
  reach it. A model genai-prices cannot price gets NULL cost and its tokens are counted as
  unpriced beside the cost; it is never priced at zero.
- Everything is computed inside DuckDB; Python sees only the grouped rows.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from . import pricing
from .config import WEEKDAYS, checked_timezone
from .pricing import price_data_version  # noqa: F401 - what the rows were priced with, for callers
from .sources import specs
from .store import connect

PERIODS = ("daily", "weekly", "monthly", "session")


# the token columns of a call, as every relation of calls carries them
CALL_TOKENS = ("input_tokens", "cache_read_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens", "output_tokens")

# every counted call (one row per model response that used tokens), in the connection's TimeZone
_CALLS = """
SELECT coalesce(m.usage_at, m."timestamp") AS used_at, CAST(used_at AS DATE) AS day, m.source, m.model,
       coalesce(m.model_provider, '') AS model_provider, coalesce(m.model_assumed, false) AS model_assumed,
       coalesce(s.project, '') AS project, coalesce(s.project_key, '') AS project_key, m.session_id,
       coalesce(m.input_tokens, 0) AS input_tokens, coalesce(m.cache_read_tokens, 0) AS cache_read_tokens,
       -- a write indexed before writes were split by lifetime counts as 5-minute
       coalesce(m.cache_creation_5m_tokens, m.cache_creation_tokens, 0) AS cache_creation_5m_tokens,
       coalesce(m.cache_creation_1h_tokens, 0) AS cache_creation_1h_tokens,
       coalesce(m.output_tokens, 0) AS output_tokens, m.reasoning_tokens, m.agent_cost_usd,
       -- the log does not give this call's input (a Copilot session that ended without its
       -- usage summary) or any of its tokens: what it gives counts, its cost is not known
       m.input_tokens IS NULL OR m.output_tokens IS NULL AS usage_unknown
FROM messages m JOIN sessions s ON s.id = m.session_id
WHERE m.api_call AND NOT m.inherited AND used_at IS NOT NULL
  AND (? IS NULL OR list_contains(?::VARCHAR[], m.source))
  AND (?::VARCHAR IS NULL OR s.project = ? OR s.project_key = ?)
"""

# what a group of priced calls adds up to: the rollups and the 5-hour blocks (blocks.py) alike
USAGE_MEASURES = """
    count(*) AS api_call_count,
    sum(input_tokens)::BIGINT AS input_tokens, sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
    sum(cache_creation_5m_tokens + cache_creation_1h_tokens)::BIGINT AS cache_creation_tokens,
    sum(cache_creation_5m_tokens)::BIGINT AS cache_creation_5m_tokens,
    sum(cache_creation_1h_tokens)::BIGINT AS cache_creation_1h_tokens, sum(output_tokens)::BIGINT AS output_tokens,
    -- NULL for a source that does not report reasoning (Claude)
    CASE WHEN bool_and(reasoning_tokens IS NULL) THEN NULL ELSE sum(reasoning_tokens)::BIGINT END AS reasoning_tokens,
    sum(input_tokens + cache_read_tokens + cache_creation_5m_tokens + cache_creation_1h_tokens + output_tokens)::BIGINT AS total_tokens,
    -- NULL when any call of the group is unpriced: never a partial sum shown as the cost; the
    -- group's tokens are then counted as unpriced beside it
    CASE WHEN bool_or(cost_usd IS NULL) THEN NULL ELSE sum(cost_usd) END AS cost_usd,
    CASE WHEN bool_or(cost_usd IS NULL) THEN sum(input_tokens + cache_read_tokens + cache_creation_5m_tokens
                                                 + cache_creation_1h_tokens + output_tokens) ELSE 0 END::BIGINT AS unpriced_tokens,
    bool_or(model_assumed) AS model_assumed,
    -- what the agent itself recorded the calls cost (OpenCode), beside our estimate
    sum(agent_cost_usd) AS agent_cost_usd,
    string_agg(DISTINCT price_model, ',' ORDER BY price_model) AS price_model,
    string_agg(DISTINCT price_provider, ',' ORDER BY price_provider) AS price_provider"""

_KEYS = {"daily": ("day", "day"), "monthly": ("month", "strftime(day, '%Y-%m')"), "session": ("session_id", "session_id")}


def _rollup_sql(costed: str, period: str, week_start: str = "monday", extra_keys: tuple[str, ...] = ()) -> str:
    if period == "weekly":
        # the day the week began: days are already cut in the chosen zone
        key, expr = "week", f"day - CAST((dayofweek(day) - {WEEKDAYS.index(week_start)} + 7) % 7 AS INTEGER)"
    elif period in _KEYS:
        key, expr = _KEYS[period]
    else:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    extra = "".join(f"{k}, " for k in extra_keys)  # e.g. the team's host
    return f"""
    -- projects are grouped by key; a key's display name is its first spelling
    SELECT {expr} AS {key}, {extra}source, model, min(project) AS project, project_key,
           count(DISTINCT session_id) AS sessions, {USAGE_MEASURES},
           ?::VARCHAR AS timezone, ?::VARCHAR AS price_data_version
    FROM {costed}
    WHERE (?::DATE IS NULL OR day >= ?::DATE) AND (?::DATE IS NULL OR day <= ?::DATE)
    GROUP BY {key}, {extra}source, model, project_key
    ORDER BY {key} NULLS LAST, {extra}source NULLS LAST, model NULLS LAST, project NULLS LAST, project_key
    """


def priced_calls(con: duckdb.DuckDBPyConnection, timezone: str, sources: list[str] | None, writable: bool = False,
                 project: str | None = None) -> str:
    """Every counted call of the index (of these sources; of the sessions whose project name or
    key is ``project``), with its day in ``timezone``, priced: the name of the temp table
    written on this connection (one row per call, the columns of _CALLS and cost_usd)."""
    con.execute(f"SET TimeZone = '{checked_timezone(timezone)}'")
    con.execute(f"CREATE OR REPLACE TEMP TABLE index_calls AS {_CALLS}", [sources, sources, project, project, project])
    return pricing.price_calls(con, "index_calls", writable)


def rollup_calls(con: duckdb.DuckDBPyConnection, calls: str, period: str, timezone: str, extra_keys: tuple[str, ...] = ()) -> list[dict]:
    """Price the calls of the connection's relation named ``calls`` (the columns _CALLS gives,
    plus ``extra_keys``) and roll them up by period, as ``rollup`` does for the index."""
    costed = pricing.price_calls(con, calls)
    return dict_rows(con.execute(_rollup_sql(costed, period, extra_keys=extra_keys), _params(timezone, None, None)))


def _params(timezone: str, since: date | None, until: date | None) -> list:
    return [timezone, pricing.price_data_version(), since, since, until, until]


def dict_rows(cursor) -> list[dict]:
    """A query's rows as dicts keyed by column name."""
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, row)) for row in cursor.fetchall()]


def rollup(db_path: Path, period: str, timezone: str, sources: list[str] | None = None,
           since: date | None = None, until: date | None = None, project: str | None = None,
           week_start: str = "monday") -> list[dict]:
    """Calls grouped by period ("daily", "weekly", "monthly" or "session") x source x model x
    project, computed inside DuckDB; one dict per row. Weeks begin on ``week_start``."""
    con = connect(db_path, read_only=True)
    try:
        costed = priced_calls(con, timezone, sources, project=project)
        return dict_rows(con.execute(_rollup_sql(costed, period, week_start), _params(timezone, since, until)))
    finally:
        con.close()


def model_label(row: dict) -> str:
    """A row's model as tables show it: '(unknown model)' where none was named and none could
    be assumed, ' (assumed)' after one the log never named."""
    name = row["model"] or "(unknown model)"
    return f"{name} (assumed)" if row.get("model_assumed") else name


ASSUMED_NOTE = "(assumed): the log never named the model; it is the one the agent's release used by default"


def format_cost(cost_usd: float | None) -> str:
    """A cost as tables show it: 'unpriced' for a model genai-prices cannot price, never 0."""
    return "unpriced" if cost_usd is None else f"{cost_usd:.2f}"


def unpriced_models(rows: list[dict]) -> list[str]:
    return sorted(unpriced_tokens_by_model(rows))


def unpriced_tokens_by_model(rows: list[dict]) -> dict[str, int]:
    """``source:model`` -> tokens without a price, over rows whose cost is NULL."""
    out: dict[str, int] = {}
    for r in rows:
        if r["cost_usd"] is None:
            key = f"{r['source']}:{r['model'] or '(unknown model)'}"
            out[key] = out.get(key, 0) + r["total_tokens"]
    return dict(sorted(out.items()))


def totals(rows: list[dict]) -> dict:
    """What rows add up to: every token; the estimated cost of the priced rows, with the
    tokens that have no price beside it (by source:model), so that a sum of the priced part
    is never shown as the whole."""
    unpriced = unpriced_tokens_by_model(rows)
    return {
        "total_tokens": sum(r["total_tokens"] for r in rows),
        "priced_cost_usd": sum(r["cost_usd"] for r in rows if r["cost_usd"] is not None),
        "unpriced_tokens": sum(unpriced.values()),
        "unpriced_tokens_by_model": unpriced,
    }


def totals_line(rows: list[dict]) -> str:
    """The totals as one line of text (the CLI's last line, the Dagster metadata)."""
    t = totals(rows)
    line = f"total: {t['total_tokens']:,} tokens, {t['priced_cost_usd']:.2f} USD estimated"
    if t["unpriced_tokens"]:
        by_model = ", ".join(f"{m} {n:,}" for m, n in t["unpriced_tokens_by_model"].items())
        line += f" for the priced part; {t['unpriced_tokens']:,} tokens have no price ({by_model})"
    return line


def write_daily_usage(db_path: Path, timezone: str) -> list[dict]:
    """Rebuild the daily_usage table from the index, in one transaction inside DuckDB, and
    return its rows."""
    from .store import migrate

    con = connect(db_path)
    try:
        migrate(con)
        costed = priced_calls(con, timezone, None, writable=True)
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM daily_usage")
        con.execute(f"INSERT INTO daily_usage BY NAME {_rollup_sql(costed, 'daily')}", _params(timezone, None, None))
        con.execute("COMMIT")
        return dict_rows(con.execute("SELECT * FROM daily_usage ORDER BY day, source, model NULLS LAST, project NULLS LAST, project_key"))
    finally:
        con.close()


def plot(daily: list[dict], path: Path, title: str = "Tokens per day by source, and estimated cost") -> Path:
    """A PNG: stacked daily tokens by source (bars) and estimated cost (line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(plot_png(daily, title))
    return path


def chart_markdown(daily: list[dict], days: int = 31) -> str:
    """The chart of the last ``days`` days as markdown with the PNG inline (a data URI), small
    enough to keep in every materialization's metadata (about 20 KB)."""
    import base64

    shown = sorted({r["day"] for r in daily})[-days:]
    recent = [r for r in daily if r["day"] >= shown[0]] if shown else []
    png = plot_png(recent, f"Tokens per day by source, and estimated cost, last {len(shown)} days", size=(8, 3.6), dpi=72)
    png = _palette_png(png)
    return f"![daily usage chart](data:image/png;base64,{base64.b64encode(png).decode()})"


def _palette_png(png: bytes, colours: int = 32) -> bytes:
    """The same picture with a small palette: a third of the bytes for a flat chart."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(colours).save(out, format="png", optimize=True)
    return out.getvalue()


def plot_png(daily: list[dict], title: str, size: tuple[float, float] = (11, 4.8), dpi: int = 100) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tokens: dict[tuple, int] = {}
    cost: dict = {}
    for r in daily:
        tokens[(r["day"], r["source"])] = tokens.get((r["day"], r["source"]), 0) + r["total_tokens"]
        cost[r["day"]] = cost.get(r["day"], 0.0) + (r["cost_usd"] or 0.0)
    days = sorted(cost)
    fig, ax = plt.subplots(figsize=size, dpi=dpi)
    bottom = [0.0] * len(days)
    for spec in specs():
        source, colour = spec.name, spec.colour
        values = [tokens.get((d, source), 0) / 1e6 for d in days]
        ax.bar(range(len(days)), values, bottom=bottom, color=colour, label=f"{source} tokens")
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_ylabel("tokens (millions)")
    ax.set_xticks(range(len(days)))
    ax.set_xticklabels([d.isoformat() for d in days], rotation=60, ha="right", fontsize=7)
    ax2 = ax.twinx()
    ax2.plot(range(len(days)), [cost[d] for d in days], color="#222222", marker="o", markersize=3, label="cost (USD)")
    ax2.set_ylabel("estimated cost (USD)")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=8)
    ax.set_title(f"{title} ({daily[0]['timezone'] if daily else ''})")
    unpriced = totals(daily)["unpriced_tokens_by_model"]
    if unpriced:  # the cost line is the priced part only: say what it leaves out
        left_out = ", ".join(f"{m} ({n:,} tokens)" for m, n in unpriced.items())
        fig.text(0.01, 0.01, f"cost leaves out models with no price: {left_out}"[:160], fontsize=7, color="#a02020")
    fig.tight_layout(rect=(0, 0.04 if unpriced else 0, 1, 1))
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()
