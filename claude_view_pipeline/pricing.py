"""What a model call costs: the genai-prices adapter (offline, versioned price data) and its
cache in the index.

- A call is priced by its model and the provider its agent recorded (Codex
  ``model_provider``), else its source's usual provider (Anthropic for Claude, OpenAI for
  Codex); failing that, by genai-prices' own matching across every provider; failing that, by
  the model's name without a routing prefix (``openrouter/...``) or a local tag (``:cloud``,
  ``:20b``). The genai-prices model and provider that priced it are kept, so a number can be
  traced. A model it cannot price has no price (NULL cost), never 0.
- Each component has its own rate: uncached input, cache reads, 5-minute and 1-hour cache
  writes (Claude bills them at 1.25x and 2x input), output. A component the model has no rate
  for is billed as genai-prices bills it: a cache read or write at the input rate (its parent
  unit), a 1-hour write at the general write rate where that is all there is. A rate of $0 is
  $0.
- Tiers (a higher rate once a request's input passes a threshold) apply per call, by the
  request's whole input (uncached + cache reads + writes), as the price lists define them.

Pricing runs inside DuckDB: each model's price steps are a small relation ``prices`` that
every call joins (``COSTED_SQL``); genai-prices is loaded only for a model the cache does not
hold yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version

import duckdb
import pyarrow as pa

from .sources import parse_source
from .store.migrate import has_table

COMPONENTS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output")

# per component, the genai-prices price keys that bill it, the most specific first (the rest
# are the parent units genai-prices falls back to when a model has no rate of its own)
_PRICE_KEYS = {
    "input": ("input_mtok",),
    "cache_read": ("cache_read_mtok", "input_mtok"),
    "cache_write_5m": ("cache_write_5m_mtok", "cache_write_mtok", "input_mtok"),
    "cache_write_1h": ("cache_write_1h_mtok", "cache_write_mtok", "input_mtok"),
    "output": ("output_mtok",),
}


def price_data_version() -> str:
    return f"genai-prices {version('genai-prices')}"


@dataclass(frozen=True)
class ModelPrice:
    """One model's rates as (start, USD per million tokens) steps per component, and the
    genai-prices provider and model they are from."""

    price_provider: str
    price_model: str
    steps: dict[str, list[dict]]


def _steps(value: object) -> list[dict]:
    """A rate as steps: the base from -1, then each tier from its start (a call whose request
    input exceeds a start pays that step's rate)."""
    if value is None:
        return []
    tiers = getattr(value, "tiers", None)
    if tiers is None:
        return [{"start": -1, "price": float(value)}]
    return [{"start": -1, "price": float(value.base)}] + [{"start": int(t.start), "price": float(t.price)} for t in tiers]


def _rate(model_price: object, keys: tuple[str, ...]) -> object:
    for key in keys:
        value = getattr(model_price, key, None)
        if value is not None:  # 0 is a rate (a free cache read), not a missing one
            return value
    return None


def _name_variants(model: str) -> list[tuple[str, str | None]]:
    """(model name, provider it names) to ask for, the name as written first: a routing
    prefix (``openrouter/anthropic/claude-x``) names a provider and is then dropped segment by
    segment; a local tag (``kimi-k2.5:cloud``, ``gpt-oss:20b``) is folded into the name, then
    dropped."""
    out: list[tuple[str, str | None]] = [(model, None)]
    rest = model
    while "/" in rest:
        head, rest = rest.split("/", 1)
        out.append((rest, head))
    name, sep, tag = out[-1][0].partition(":")
    if sep:
        tag = tag.removesuffix("cloud").strip("-")
        if tag:
            out.append((f"{name}-{tag}", out[-1][1]))
        out.append((name, out[-1][1]))
    return out


def find_price(source: str, provider: str | None, model: str | None) -> ModelPrice | None:
    """The price of ``model`` as called through ``provider`` (as the call recorded it) by a
    ``source`` session; None where genai-prices knows no price for it."""
    if not model:
        return None
    from genai_prices import Usage, calc_price
    from genai_prices.data_snapshot import get_snapshot

    known = {p.id for p in get_snapshot().providers}
    recorded = provider.strip().lower() if provider else None
    for name, named_provider in _name_variants(model):
        hints = [recorded] if recorded else [parse_source(source).spec.provider]  # the source's usual provider
        hints.append(named_provider)
        for hint in [h for h in hints if h in known] + [None]:
            try:
                found = calc_price(Usage(input_tokens=1, output_tokens=1), model_ref=name, provider_id=hint)
            except LookupError:
                continue
            mp = found.model_price
            return ModelPrice(found.provider.id, found.model.id, {c: _steps(_rate(mp, keys)) for c, keys in _PRICE_KEYS.items()})
    return None


_STEPS = pa.list_(pa.struct([("start", pa.int64()), ("price", pa.float64())]))
_KEY = ("source", "provider", "model")


def register_prices(con: duckdb.DuckDBPyConnection, known: dict[tuple[str, str, str], ModelPrice]) -> None:
    """The relation ``prices(source, provider, model, price_provider, price_model, <components>)``
    for the models that have prices, and the macro that reads a step."""
    con.register("prices", pa.table({
        **{k: pa.array([key[i] for key in known], pa.string()) for i, k in enumerate(_KEY)},
        "price_provider": pa.array([p.price_provider for p in known.values()], pa.string()),
        "price_model": pa.array([p.price_model for p in known.values()], pa.string()),
        **{c: pa.array([p.steps[c] for p in known.values()], _STEPS) for c in COMPONENTS},
    }))
    con.execute("CREATE OR REPLACE TEMP MACRO step_price(steps, x) AS"
                " coalesce(list_filter(steps, lambda t: t.start < x)[-1].price, 0)")


def load_prices(con: duckdb.DuckDBPyConnection, models: list[tuple[str, str, str]], writable: bool) -> None:
    """Register ``prices`` for these (source, provider, model) keys (provider '' for none):
    from the index's model_prices cache for this price-data version; genai-prices is asked
    only for a key not in it (and the answer is kept when the connection may write)."""
    data_version = price_data_version()
    cache = has_table(con, "model_prices") and _cache_has_providers(con)
    cached: dict[tuple[str, str, str], ModelPrice | None] = {}
    if cache:
        for source, provider, model, priced, price_provider, price_model, *steps in con.execute(
            f"SELECT source, provider, model, priced, price_provider, price_model, {', '.join(_quoted(c) for c in COMPONENTS)}"
            " FROM model_prices WHERE price_data_version = ?", [data_version],
        ).fetchall():
            cached[(source, provider, model)] = ModelPrice(price_provider, price_model, dict(zip(COMPONENTS, steps))) if priced else None
    missing = [k for k in models if k not in cached and k[2]]
    found = {k: find_price(k[0], k[1] or None, k[2]) for k in missing}
    if writable and missing and cache:
        for (source, provider, model), price in found.items():
            con.execute(
                "INSERT OR REPLACE INTO model_prices (source, provider, model, price_data_version, priced, price_provider,"
                f" price_model, {', '.join(_quoted(c) for c in COMPONENTS)}) VALUES ({', '.join('?' * (7 + len(COMPONENTS)))})",
                [source, provider, model, data_version, price is not None,
                 price and price.price_provider, price and price.price_model,
                 *((price.steps[c] if price else None) for c in COMPONENTS)],
            )
    register_prices(con, {k: p for k, p in {**cached, **found}.items() if p is not None})


def priced_keys(con: duckdb.DuckDBPyConnection, keys: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Which (source, provider, model) keys genai-prices has a price for (read-only)."""
    load_prices(con, keys, writable=False)
    return {tuple(r) for r in con.execute("SELECT source, provider, model FROM prices").fetchall()}


def _quoted(name: str) -> str:
    return f'"{name}"'


def _cache_has_providers(con: duckdb.DuckDBPyConnection) -> bool:
    """An index not yet migrated (a read-only answer from an older schema) has the cache
    without providers: it is then not used."""
    return con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'model_prices' AND column_name = 'price_model'").fetchone()[0] > 0


# each call of the relation ``calls`` priced by its model's steps (NULL cost for a model with
# no price, or a call whose tokens the log does not all give), with the genai-prices model and
# provider that priced it
COSTED_SQL = """
SELECT c.*, p.price_model, p.price_provider,
       CASE WHEN p.model IS NOT NULL AND NOT c.usage_unknown THEN (
           c.input_tokens * step_price(p."input", r.request_input)
         + c.cache_read_tokens * step_price(p.cache_read, r.request_input)
         + c.cache_creation_5m_tokens * step_price(p.cache_write_5m, r.request_input)
         + c.cache_creation_1h_tokens * step_price(p.cache_write_1h, r.request_input)
         + c.output_tokens * step_price(p."output", r.request_input)) / 1000000 END AS cost_usd
FROM {calls} c
CROSS JOIN LATERAL (SELECT c.input_tokens + c.cache_read_tokens + c.cache_creation_5m_tokens
                           + c.cache_creation_1h_tokens AS request_input) r
LEFT JOIN prices p ON p.source = c.source AND p.provider = c.model_provider AND p.model = c.model
"""


def price_calls(con: duckdb.DuckDBPyConnection, calls: str, writable: bool = False) -> str:
    """Every call of the connection's relation named ``calls`` (source, model_provider ('' for
    none), model, the token columns, usage_unknown), priced: the name of the temp table written
    (``<calls>_costed``: the calls' columns, the price used and ``cost_usd``)."""
    keys = [tuple(r) for r in con.execute(f"SELECT DISTINCT source, model_provider, model FROM {calls}").fetchall()]
    load_prices(con, keys, writable)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {calls}_costed AS {COSTED_SQL.format(calls=calls)}")
    return f"{calls}_costed"


def call_cost(source: str, provider: str | None, model: str, input_tokens: int, cache_read: int,
              cache_write_5m: int, cache_write_1h: int, output: int) -> float | None:
    """The cost of one call: the SQL that prices every call, on a call of one."""
    con = duckdb.connect()
    try:
        price = find_price(source, provider, model)
        register_prices(con, {(source, provider or "", model): price} if price else {})
        con.execute(
            "CREATE TEMP TABLE calls AS SELECT ?::VARCHAR AS source, ?::VARCHAR AS model_provider, ?::VARCHAR AS model,"
            " ?::BIGINT AS input_tokens, ?::BIGINT AS cache_read_tokens, ?::BIGINT AS cache_creation_5m_tokens,"
            " ?::BIGINT AS cache_creation_1h_tokens, ?::BIGINT AS output_tokens, false AS usage_unknown",
            [source, provider or "", model, input_tokens, cache_read, cache_write_5m, cache_write_1h, output])
        return con.execute(f"SELECT cost_usd FROM ({COSTED_SQL.format(calls='calls')})").fetchone()[0]
    finally:
        con.close()
