"""Usage analytics: tokens and estimated cost per day (or month, or session) x source x
model x project, from the per-call usage in ``messages``.

- Days are cut in an IANA timezone (default: the machine's), by when each call's usage was
  reported (``messages.usage_at``), not by when its session started.
- Cost comes from the ``genai-prices`` package (offline, versioned price data), per call,
  so a price tier (e.g. above 200K input tokens) applies to the calls that reach it. A model
  it cannot price gets NULL cost and is listed; it is never priced at zero.
- Everything is computed inside DuckDB: genai-prices gives each model's price steps, a small
  relation every call is joined to; Python sees only the grouped rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pyarrow as pa

from .config import WEEKDAYS
from .store import connect
from .store.migrate import has_table

PROVIDERS = {"claude": "anthropic", "codex": "openai"}
PERIODS = ("daily", "weekly", "monthly", "session")


def local_timezone() -> str:
    """The machine's IANA zone: $TZ, else /etc/timezone, else the /etc/localtime link, else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if name and checked_timezone(name, strict=False):
            return name
    return "UTC"


def checked_timezone(name: str, strict: bool = True) -> str | None:
    try:
        ZoneInfo(name)
        return name
    except (ZoneInfoNotFoundError, ValueError):
        if strict:
            raise ValueError(f"unknown timezone {name!r}; use an IANA name such as UTC or Europe/Berlin") from None
        return None


def price_data_version() -> str:
    from importlib.metadata import version

    return f"genai-prices {version('genai-prices')}"


def _tiers(value: object) -> list[dict]:
    """A price component as (start, USD per million tokens) steps: the base from -1, then each
    tier from its start (a call whose request input exceeds a start pays that step's price)."""
    if value is None:
        return []
    tiers = getattr(value, "tiers", None)
    if tiers is None:
        return [{"start": -1, "price": float(value)}]
    return [{"start": -1, "price": float(value.base)}] + [{"start": int(t.start), "price": float(t.price)} for t in tiers]


@dataclass
class _Price:
    """One model's prices as genai-prices gives them, per component: a number, or a base with
    tiers chosen by the request's total input tokens (cliff pricing)."""

    components: dict[str, object] = field(default_factory=dict)

    def steps(self) -> dict[str, list[dict]]:
        c = self.components
        return {
            "input": _tiers(c.get("input_mtok")),
            "cache_read": _tiers(c.get("cache_read_mtok") or c.get("input_mtok")),
            "cache_write": _tiers(c.get("cache_write_mtok") or c.get("input_mtok")),
            "output": _tiers(c.get("output_mtok")),
        }

    def cost(self, inp: int, cache_read: int, cache_write: int, out: int) -> float:
        """The cost of one call: the SQL that prices every call, on a call of one."""
        con = duckdb.connect()
        try:
            _register_prices(con, {("x", "m"): self.steps()})
            con.execute("CREATE TEMP TABLE calls AS SELECT 'x' AS source, 'm' AS model, ?::BIGINT AS input_tokens,"
                        " ?::BIGINT AS cache_read_tokens, ?::BIGINT AS cache_creation_tokens, ?::BIGINT AS output_tokens",
                        [inp, cache_read, cache_write, out])
            return con.execute(f"SELECT cost_usd FROM ({_COSTED})").fetchall()[0][0]
        finally:
            con.close()


def _price_for(source: str, model: str | None) -> _Price | None:
    if not model:
        return None
    from genai_prices import Usage, calc_price

    try:
        found = calc_price(Usage(input_tokens=1, output_tokens=1), model_ref=model, provider_id=PROVIDERS.get(source))
    except LookupError:
        return None
    mp = found.model_price
    return _Price({k: getattr(mp, k, None) for k in ("input_mtok", "cache_read_mtok", "cache_write_mtok", "output_mtok")})


_STEPS = pa.list_(pa.struct([("start", pa.int64()), ("price", pa.float64())]))
_COMPONENTS = ("input", "cache_read", "cache_write", "output")


def _register_prices(con: duckdb.DuckDBPyConnection, known: dict[tuple[str, str], dict[str, list]]) -> None:
    """The relation ``prices(source, model, input, cache_read, cache_write, output)``: each
    component's price steps, for the models that have prices."""
    con.register("prices", pa.table({
        "source": pa.array([k[0] for k in known], pa.string()),
        "model": pa.array([k[1] for k in known], pa.string()),
        **{c: pa.array([s[c] for s in known.values()], _STEPS) for c in _COMPONENTS},
    }))
    con.execute("CREATE OR REPLACE TEMP MACRO step_price(steps, x) AS"
                " coalesce(list_filter(steps, lambda t: t.start < x)[-1].price, 0)")


def _cached_prices(con: duckdb.DuckDBPyConnection, models: list[tuple[str, str]], writable: bool) -> None:
    """Register ``prices`` for these models: from the index's model_prices cache for this
    price-data version; genai-prices is loaded only for a model not in it (and the answer is
    kept when the connection may write)."""
    version = price_data_version()
    cache = has_table(con, "model_prices")
    cached: dict[tuple[str, str], dict | None] = {}
    if cache:
        for source, model, priced, *steps in con.execute(
            'SELECT source, model, priced, "input", cache_read, cache_write, "output" FROM model_prices WHERE price_data_version = ?',
            [version],
        ).fetchall():
            cached[(source, model)] = dict(zip(_COMPONENTS, steps)) if priced else None
    missing = [m for m in models if m not in cached and m[1]]
    found = {m: _price_for(*m) for m in missing}
    if writable and missing and cache:
        for (source, model), price in found.items():
            steps = price.steps() if price else dict.fromkeys(_COMPONENTS)
            con.execute("INSERT OR REPLACE INTO model_prices VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [source, model, version, price is not None, *(steps[c] for c in _COMPONENTS)])
    _register_prices(con, {m: s for m, s in cached.items() if s is not None} | {m: p.steps() for m, p in found.items() if p is not None})


# every counted call (one row per model response that used tokens), in the connection's TimeZone
_CALLS = """
SELECT coalesce(m.usage_at, m."timestamp") AS used_at, CAST(used_at AS DATE) AS day, m.source, m.model,
       coalesce(s.project, '') AS project, coalesce(s.project_key, '') AS project_key, m.session_id,
       coalesce(m.input_tokens, 0) AS input_tokens, coalesce(m.cache_read_tokens, 0) AS cache_read_tokens,
       coalesce(m.cache_creation_tokens, 0) AS cache_creation_tokens, coalesce(m.output_tokens, 0) AS output_tokens,
       m.reasoning_tokens
FROM messages m JOIN sessions s ON s.id = m.session_id
WHERE m.api_call AND NOT m.inherited AND used_at IS NOT NULL
  AND (? IS NULL OR list_contains(?::VARCHAR[], m.source))
  AND (?::VARCHAR IS NULL OR s.project = ? OR s.project_key = ?)
"""

# each call priced by its model's steps; NULL for a model genai-prices cannot price
_COSTED = """
SELECT c.*, CASE WHEN p.source IS NOT NULL THEN (
           c.input_tokens * step_price(p.input, r.request_input)
         + c.cache_read_tokens * step_price(p.cache_read, r.request_input)
         + c.cache_creation_tokens * step_price(p.cache_write, r.request_input)
         + c.output_tokens * step_price(p.output, r.request_input)) / 1000000 END AS cost_usd
FROM calls c
CROSS JOIN LATERAL (SELECT c.input_tokens + c.cache_read_tokens + c.cache_creation_tokens AS request_input) r
LEFT JOIN prices p ON p.source = c.source AND p.model = c.model
"""

# what a group of priced calls adds up to: the rollups and the 5-hour blocks (blocks.py) alike
USAGE_MEASURES = """
    count(*) AS api_call_count,
    sum(input_tokens)::BIGINT AS input_tokens, sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
    sum(cache_creation_tokens)::BIGINT AS cache_creation_tokens, sum(output_tokens)::BIGINT AS output_tokens,
    -- NULL for a source that does not report reasoning (Claude)
    CASE WHEN bool_and(reasoning_tokens IS NULL) THEN NULL ELSE sum(reasoning_tokens)::BIGINT END AS reasoning_tokens,
    sum(input_tokens + cache_read_tokens + cache_creation_tokens + output_tokens)::BIGINT AS total_tokens,
    -- NULL when any call of the group is unpriced: never a partial sum shown as the cost
    CASE WHEN bool_or(cost_usd IS NULL) THEN NULL ELSE sum(cost_usd) END AS cost_usd"""

_KEYS = {"daily": ("day", "day"), "monthly": ("month", "strftime(day, '%Y-%m')"), "session": ("session_id", "session_id")}


def _rollup_sql(period: str, week_start: str = "monday", extra_keys: tuple[str, ...] = ()) -> str:
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
    FROM costed
    WHERE (?::DATE IS NULL OR day >= ?::DATE) AND (?::DATE IS NULL OR day <= ?::DATE)
    GROUP BY {key}, {extra}source, model, project_key
    ORDER BY {key} NULLS LAST, {extra}source NULLS LAST, model NULLS LAST, project NULLS LAST, project_key
    """


def prepare_calls(con: duckdb.DuckDBPyConnection, timezone: str, sources: list[str] | None, writable: bool = False,
                  project: str | None = None) -> None:
    """Temp tables ``calls`` and ``costed`` (every counted call, priced) on this connection;
    ``project`` keeps the calls of sessions whose project name or key is that."""
    con.execute(f"SET TimeZone = '{checked_timezone(timezone)}'")
    con.execute(f"CREATE OR REPLACE TEMP TABLE calls AS {_CALLS}", [sources, sources, project, project, project])
    _cost_calls(con, writable)


def _cost_calls(con: duckdb.DuckDBPyConnection, writable: bool) -> None:
    """Temp table ``costed``: the connection's ``calls``, each priced."""
    _cached_prices(con, [tuple(r) for r in con.execute("SELECT DISTINCT source, model FROM calls").fetchall()], writable)
    con.execute(f"CREATE OR REPLACE TEMP TABLE costed AS {_COSTED}")


def price_calls(con: duckdb.DuckDBPyConnection, period: str, timezone: str, extra_keys: tuple[str, ...] = ()) -> list[dict]:
    """Price the calls of the connection's temp table ``calls`` (the columns _CALLS gives,
    plus ``extra_keys``) and roll them up by period, as ``rollup`` does for the index."""
    _cost_calls(con, writable=False)
    return dict_rows(con.execute(_rollup_sql(period, extra_keys=extra_keys), _params(timezone, None, None)))


def _params(timezone: str, since: date | None, until: date | None) -> list:
    return [timezone, price_data_version(), since, since, until, until]


def dict_rows(cursor) -> list[dict]:
    """A query's rows as dicts keyed by column name."""
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, row)) for row in cursor.fetchall()]


def rollup(db_path: Path, period: str, timezone: str, sources: list[str] | None = None,
           since: date | None = None, until: date | None = None, project: str | None = None,
           week_start: str = "monday") -> list[dict]:
    """Calls grouped by period ("daily", "weekly", "monthly" or "session") x source x model x
    project, computed inside DuckDB; one dict per row. Weeks begin on ``week_start``."""
    sql = _rollup_sql(period, week_start)
    con = connect(db_path, read_only=True)
    try:
        prepare_calls(con, timezone, sources, project=project)
        return dict_rows(con.execute(sql, _params(timezone, since, until)))
    finally:
        con.close()


def format_cost(cost_usd: float | None) -> str:
    """A cost as tables show it: 'unpriced' for a model genai-prices cannot price, never 0."""
    return "unpriced" if cost_usd is None else f"{cost_usd:.2f}"


def unpriced_models(rows: list[dict]) -> list[str]:
    return sorted({f"{r['source']}:{r['model'] or '(unknown model)'}" for r in rows if r["cost_usd"] is None})


def write_daily_usage(db_path: Path, timezone: str) -> list[dict]:
    """Rebuild the daily_usage table from the index, in one transaction inside DuckDB, and
    return its rows."""
    from .store import migrate

    con = connect(db_path)
    try:
        migrate(con)
        prepare_calls(con, timezone, None, writable=True)
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM daily_usage")
        con.execute(f"INSERT INTO daily_usage BY NAME {_rollup_sql('daily')}", _params(timezone, None, None))
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
    for source, colour in (("claude", "#d97757"), ("codex", "#4a6ee0")):
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
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()
