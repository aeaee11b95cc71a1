"""Usage analytics: tokens and estimated cost per day (or month, or session) x source x
model x project, from the per-call usage in ``messages``.

- Days are cut in an IANA timezone (default: the machine's), by when each call's usage was
  reported (``messages.usage_at``), not by when its session started.
- Cost comes from the ``genai-prices`` package (offline, versioned price data), per call,
  so a price tier (e.g. above 200K input tokens) applies to the calls that reach it. A model
  it cannot price gets NULL cost and is listed; it is never priced at zero.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from .store import connect

PROVIDERS = {"claude": "anthropic", "codex": "openai"}
TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "reasoning_tokens")
PERIODS = ("daily", "monthly", "session")


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


@dataclass
class _Price:
    """USD per million tokens of one model, as genai-prices gives it: a number, or a base
    with tiers chosen by the request's total input tokens (cliff pricing)."""

    components: dict[str, object] = field(default_factory=dict)

    @staticmethod
    def _rate(value: object, request_input: pl.Expr) -> pl.Expr:
        if value is None:
            return pl.lit(0.0)
        tiers = getattr(value, "tiers", None)
        if tiers is None:
            return pl.lit(float(value))
        rate = pl.lit(float(value.base))
        for tier in tiers:  # a later tier that applies wins
            rate = pl.when(request_input > tier.start).then(pl.lit(float(tier.price))).otherwise(rate)
        return rate

    def cost_expr(self, inp: pl.Expr, cache_read: pl.Expr, cache_write: pl.Expr, out: pl.Expr) -> pl.Expr:
        """The cost of each call (row) in USD, as a polars expression over its token columns."""
        request_input = inp + cache_read + cache_write
        c = self.components
        return (
            inp * self._rate(c.get("input_mtok"), request_input)
            + cache_read * self._rate(c.get("cache_read_mtok") or c.get("input_mtok"), request_input)
            + cache_write * self._rate(c.get("cache_write_mtok") or c.get("input_mtok"), request_input)
            + out * self._rate(c.get("output_mtok"), request_input)
        ) / 1_000_000

    def cost(self, inp: int, cache_read: int, cache_write: int, out: int) -> float:
        """The cost of one call (the same expression on a one-row frame)."""
        row = pl.DataFrame({"i": [inp], "r": [cache_read], "w": [cache_write], "o": [out]}, schema={k: pl.Int64 for k in "irwo"})
        return row.select(self.cost_expr(pl.col("i"), pl.col("r"), pl.col("w"), pl.col("o"))).item()


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


def calls(db_path: Path, timezone: str, sources: list[str] | None = None) -> pl.DataFrame:
    """One row per counted API call: day (in timezone), month, source, model, project,
    session and its token columns."""
    con = connect(db_path, read_only=True)
    try:
        con.execute(f"SET TimeZone = '{checked_timezone(timezone)}'")
        where = "AND m.source IN (SELECT unnest($sources))" if sources else ""
        frame = con.sql(
            f"""
            SELECT CAST(coalesce(m.usage_at, m."timestamp") AS DATE) AS day, m.source, m.model,
                   coalesce(s.project, '') AS project, m.session_id,
                   coalesce(m.input_tokens, 0) AS input_tokens, coalesce(m.cache_read_tokens, 0) AS cache_read_tokens,
                   coalesce(m.cache_creation_tokens, 0) AS cache_creation_tokens, coalesce(m.output_tokens, 0) AS output_tokens,
                   m.reasoning_tokens
            FROM messages m JOIN sessions s ON s.id = m.session_id
            WHERE m.api_call AND NOT m.inherited AND coalesce(m.usage_at, m."timestamp") IS NOT NULL {where}
            """,
            params={"sources": sources} if sources else None,
        ).pl()
    finally:
        con.close()
    # one price lookup per (source, model), then every call's cost in one vectorised pass
    cost = pl.lit(None, dtype=pl.Float64)
    tokens = [pl.col(c) for c in TOKEN_COLUMNS[:4]]
    for source, model in frame.select("source", "model").unique().iter_rows():
        price = _price_for(source, model)
        if price is not None:
            cost = pl.when((pl.col("source") == source) & (pl.col("model") == model)).then(price.cost_expr(*tokens)).otherwise(cost)
    return frame.with_columns(cost.cast(pl.Float64).alias("cost_usd"))


def rollup(frame: pl.DataFrame, period: str, timezone: str, since: date | None = None, until: date | None = None) -> pl.DataFrame:
    """Group calls by period ("daily", "monthly" or "session") x source x model x project."""
    if since:
        frame = frame.filter(pl.col("day") >= since)
    if until:
        frame = frame.filter(pl.col("day") <= until)
    if period == "daily":
        keys = ["day", "source", "model", "project"]
    elif period == "monthly":
        frame = frame.with_columns(pl.col("day").dt.strftime("%Y-%m").alias("month"))
        keys = ["month", "source", "model", "project"]
    elif period == "session":
        keys = ["session_id", "source", "model", "project"]
    else:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    out = (
        frame.group_by(keys)
        .agg(
            pl.col("session_id").n_unique().alias("sessions"),
            pl.len().alias("api_call_count"),
            *[pl.col(c).sum() for c in TOKEN_COLUMNS[:4]],
            # NULL for a source that does not report reasoning (Claude)
            pl.when(pl.col("reasoning_tokens").is_null().all()).then(None).otherwise(pl.col("reasoning_tokens").sum()).alias("reasoning_tokens"),
            # NULL when any call of the group is unpriced: never a partial sum shown as the cost
            pl.when(pl.col("cost_usd").is_null().any()).then(None).otherwise(pl.col("cost_usd").sum()).alias("cost_usd"),
        )
        .with_columns(
            (pl.col("input_tokens") + pl.col("cache_read_tokens") + pl.col("cache_creation_tokens") + pl.col("output_tokens")).alias("total_tokens"),
            pl.lit(timezone).alias("timezone"),
            pl.lit(price_data_version()).alias("price_data_version"),
        )
        .sort(keys, nulls_last=True)
    )
    cols = [*keys, "sessions", "api_call_count", *TOKEN_COLUMNS, "total_tokens", "cost_usd", "timezone", "price_data_version"]
    return out.select(cols)


def unpriced_models(frame: pl.DataFrame) -> list[str]:
    return sorted({f"{s}:{m or '(unknown model)'}" for s, m in frame.filter(pl.col("cost_usd").is_null()).select("source", "model").iter_rows()})


def write_daily_usage(db_path: Path, daily: pl.DataFrame) -> None:
    """Replace the daily_usage table's rows, in one transaction."""
    from .store import migrate

    con = connect(db_path)
    try:
        migrate(con)
        con.register("new_daily_usage", daily.to_arrow())
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM daily_usage")
        con.execute("INSERT INTO daily_usage BY NAME SELECT * FROM new_daily_usage")
        con.execute("COMMIT")
    finally:
        con.close()


def plot(daily: pl.DataFrame, path: Path, title: str = "Tokens per day by source, and estimated cost") -> Path:
    """A PNG: stacked daily tokens by source (bars) and estimated cost (line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_day = daily.group_by("day", "source").agg(pl.col("total_tokens").sum(), pl.col("cost_usd").sum()).sort("day")
    days = sorted(per_day["day"].unique().to_list())
    fig, ax = plt.subplots(figsize=(11, 4.8), dpi=100)
    bottom = [0.0] * len(days)
    for source, colour in (("claude", "#d97757"), ("codex", "#4a6ee0")):
        sub = dict(per_day.filter(pl.col("source") == source).select("day", "total_tokens").iter_rows())
        values = [sub.get(d, 0) / 1e6 for d in days]
        ax.bar(range(len(days)), values, bottom=bottom, color=colour, label=f"{source} tokens")
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_ylabel("tokens (millions)")
    ax.set_xticks(range(len(days)))
    ax.set_xticklabels([d.isoformat() for d in days], rotation=60, ha="right", fontsize=7)
    cost = daily.group_by("day").agg(pl.col("cost_usd").sum()).sort("day")
    cost_by_day = dict(cost.iter_rows())
    ax2 = ax.twinx()
    ax2.plot(range(len(days)), [cost_by_day.get(d) or 0 for d in days], color="#222222", marker="o", markersize=3, label="cost (USD)")
    ax2.set_ylabel("estimated cost (USD)")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=8)
    ax.set_title(f"{title} ({daily['timezone'][0] if daily.height else ''})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
