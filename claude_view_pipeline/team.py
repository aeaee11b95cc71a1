"""The team store: many machines push their local index into one Iceberg table
(docs/adr/0001-team-store.md), whose catalog lives in PostgreSQL
(``CLAUDE_VIEW_TEAM_CATALOG``, a SQLAlchemy URL) and whose data files live under
``CLAUDE_VIEW_TEAM_DATA``.

One row per (host, session), partitioned by host and source, with the session's counted
model calls nested in it: a push replaces one machine's (host, source) rows in one Iceberg
commit, so readers see that machine's previous push or its new one, never a mix, and two
machines pushing at once both land (a commit that lost the race is retried on the new
state). A session found on two hosts (synced home directories) counts once, for the host
that pushed it first (``first_pushed_at``)."""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute

from .config import ConfigError
from .faults import pause_point
from .sources import Source
from .store import connect

NAMESPACE = "claude_view"
TABLE = f"{NAMESPACE}.team_sessions"
COMMIT_ATTEMPTS = 20
_TOKENS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "reasoning_tokens")

CALL = pa.struct([("used_at", pa.timestamp("us", tz="UTC")), ("model", pa.string()),
                  *[(k, pa.int64()) for k in _TOKENS]])
SCHEMA = pa.schema([
    ("host", pa.string()), ("source", pa.string()), ("id", pa.string()), ("source_session_id", pa.string()),
    ("project", pa.string()), ("project_key", pa.string()), ("started_at", pa.timestamp("us", tz="UTC")),
    ("ended_at", pa.timestamp("us", tz="UTC")), ("primary_model", pa.string()), ("message_count", pa.int64()),
    ("api_call_count", pa.int64()), *[(k, pa.int64()) for k in (*_TOKENS, "total_tokens")],
    ("calls", pa.list_(CALL)), ("first_pushed_at", pa.timestamp("us", tz="UTC")), ("pushed_at", pa.timestamp("us", tz="UTC")),
])
# what a push compares to decide whether anything changed (not when it was pushed)
_CONTENT = [f.name for f in SCHEMA if f.name not in ("first_pushed_at", "pushed_at")]


@dataclass(frozen=True)
class TeamEnv:
    catalog_uri: str
    data: str

    @classmethod
    def from_env(cls) -> "TeamEnv":
        uri, data = os.environ.get("CLAUDE_VIEW_TEAM_CATALOG"), os.environ.get("CLAUDE_VIEW_TEAM_DATA")
        if not uri or not data:
            raise ConfigError("the team store is not configured: set CLAUDE_VIEW_TEAM_CATALOG and CLAUDE_VIEW_TEAM_DATA "
                              "(for a local one: eval \"$(./pipeline services up)\")")
        return cls(uri, data if "://" in data else "file://" + os.path.abspath(data))


def catalog(env: TeamEnv):
    from pyiceberg.catalog.sql import SqlCatalog

    return SqlCatalog("team", uri=env.catalog_uri, warehouse=env.data)


def team_table(env: TeamEnv):
    """The store's table, created (with its host/source partitioning) on first use."""
    from pyiceberg.exceptions import (
        NamespaceAlreadyExistsError,
        NoSuchTableError,
        TableAlreadyExistsError,
    )

    cat = catalog(env)
    try:
        return cat.load_table(TABLE)
    except NoSuchTableError:
        pass
    try:
        cat.create_namespace(NAMESPACE)
    except NamespaceAlreadyExistsError:
        pass
    try:
        table = cat.create_table(TABLE, schema=SCHEMA)
        with table.update_spec() as spec:
            spec.add_identity("host")
            spec.add_identity("source")
        return cat.load_table(TABLE)
    except TableAlreadyExistsError:  # another machine created it meanwhile
        return cat.load_table(TABLE)


def local_rows(db_path: Path, source: Source, host: str) -> pa.Table:
    """This machine's sessions of one source with their counted calls, as the store holds them."""
    con = connect(db_path, read_only=True)
    try:
        return con.sql(
            f"""
            SELECT $host AS host, s.source, s.id, s.source_session_id, s.project, s.project_key,
                   s.started_at, s.ended_at, s.primary_model, s.message_count::BIGINT AS message_count,
                   s.api_call_count::BIGINT AS api_call_count,
                   {", ".join(f"s.{k}::BIGINT AS {k}" for k in (*_TOKENS, "total_tokens"))},
                   coalesce(c.calls, []) AS calls
            FROM sessions s LEFT JOIN (
                SELECT session_id, list(struct_pack(used_at := coalesce(usage_at, "timestamp"), model := model,
                       {", ".join(f"{k} := {k}::BIGINT" for k in _TOKENS)}) ORDER BY ordinal) AS calls
                FROM messages WHERE source = $src AND api_call AND NOT inherited GROUP BY session_id
            ) c ON c.session_id = s.id
            WHERE s.source = $src ORDER BY s.id
            """,
            params={"host": host, "src": source.value},
        ).to_arrow_table()
    finally:
        con.close()


@dataclass
class PushResult:
    host: str
    source: str
    sessions: int
    changed: bool
    attempts: int


def push(env: TeamEnv, db_path: Path, host: str, sources: list[Source]) -> list[PushResult]:
    """Replace this host's rows of each source with the local index's, one commit each."""
    from pyiceberg.exceptions import CommitFailedException

    results = []
    for source in sources:
        rows = local_rows(db_path, source, host)
        where = _partition(host, source.value)
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            table = team_table(env)
            current = table.scan(row_filter=where).to_arrow()
            if _same(current, rows):
                results.append(PushResult(host, source.value, rows.num_rows, False, attempt))
                break
            new = _with_push_times(rows, current)
            pause_point("before_team_commit")
            try:
                _overwrite(table, new, overwrite_filter=where, snapshot_properties=_push_summary(host, source, rows))
            except CommitFailedException:  # another machine committed first: start again from its state
                time.sleep(0.05 * attempt)
                continue
            results.append(PushResult(host, source.value, rows.num_rows, True, attempt))
            break
        else:
            raise RuntimeError(f"the team store stayed busy: {COMMIT_ATTEMPTS} commits of {host}/{source.value} lost the race")
    return results


def _push_summary(host: str, source: Source, rows: pa.Table) -> dict[str, str]:
    """What this push wrote, kept in the commit's own snapshot summary (so it is atomic with
    the rows): the team checks compare the table with it."""
    tokens = pa.compute.sum(rows.column("total_tokens")).as_py() or 0
    return {"claude_view.host": host, "claude_view.source": source.value,
            "claude_view.sessions": str(rows.num_rows), "claude_view.total_tokens": str(tokens)}


@dataclass(frozen=True)
class Push:
    host: str
    source: str
    sessions: int
    total_tokens: int
    snapshot_id: int


def latest_pushes(env: TeamEnv) -> dict[tuple[str, str], Push]:
    """Per (host, source), the last push that changed the store, from the snapshots' summaries."""
    out: dict[tuple[str, str], Push] = {}
    for snap in sorted(team_table(env).metadata.snapshots, key=lambda s: s.sequence_number):
        summary = snap.summary.additional_properties if snap.summary else {}
        if "claude_view.host" not in summary:
            continue
        key = (summary["claude_view.host"], summary["claude_view.source"])
        out[key] = Push(*key, int(summary["claude_view.sessions"]), int(summary["claude_view.total_tokens"]), snap.snapshot_id)
    return out


def _partition(host: str, source: str):
    """The row filter of one (host, source) partition."""
    from pyiceberg.expressions import And, EqualTo

    return And(EqualTo("host", host), EqualTo("source", source))


def _overwrite(table, rows: pa.Table, **kwargs) -> None:
    """Iceberg overwrite; the warning that a first write deleted nothing is no news."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Delete operation did not match any records")
        table.overwrite(rows, **kwargs)


def partition_totals(env: TeamEnv, host: str, source: str) -> tuple[int, int]:
    """(sessions, total tokens) the store holds for one host and source."""
    rows = team_table(env).scan(row_filter=_partition(host, source), selected_fields=("total_tokens",)).to_arrow()
    return rows.num_rows, (pa.compute.sum(rows.column("total_tokens")).as_py() or 0) if rows.num_rows else 0


def _same(current: pa.Table, rows: pa.Table) -> bool:
    if current.num_rows != rows.num_rows:
        return False
    key = [("id", "ascending")]
    return current.select(_CONTENT).sort_by(key).cast(rows.select(_CONTENT).schema).equals(rows.select(_CONTENT).sort_by(key))


def _with_push_times(rows: pa.Table, current: pa.Table) -> pa.Table:
    now = datetime.now(timezone.utc)
    first = dict(zip(current.column("id").to_pylist(), current.column("first_pushed_at").to_pylist())) if current.num_rows else {}
    ids = rows.column("id").to_pylist()
    rows = rows.append_column("first_pushed_at", pa.array([first.get(i, now) for i in ids], pa.timestamp("us", tz="UTC")))
    rows = rows.append_column("pushed_at", pa.array([now] * len(ids), pa.timestamp("us", tz="UTC")))
    return rows.cast(SCHEMA)


def open_in_duckdb(env: TeamEnv):
    """An in-memory DuckDB connection with the store's table as ``team_sessions`` (what the
    team commands and an analyst's query read)."""
    import duckdb

    con = duckdb.connect()
    team_table(env).scan().to_duckdb("team_sessions", connection=con)
    return con


def team_status(env: TeamEnv) -> list[dict]:
    from .usage import dict_rows

    con = open_in_duckdb(env)
    try:
        return dict_rows(con.execute(
            f"""
            SELECT host, source, count(*) AS sessions, sum(message_count)::BIGINT AS messages,
                   {", ".join(f"sum({k})::BIGINT AS {k}" for k in (*_TOKENS, "total_tokens"))},
                   strftime(max(pushed_at) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS last_push,
                   list(id ORDER BY id) FILTER (WHERE id IN (SELECT id FROM team_sessions GROUP BY id HAVING count(*) > 1))
                       AS also_on_other_hosts
            FROM team_sessions GROUP BY host, source ORDER BY host, source
            """
        ))
    finally:
        con.close()


def team_usage(env: TeamEnv, period: str, tz: str) -> list[dict]:
    """The rows of ``usage daily|monthly --json`` with ``host``; a session pushed by several
    hosts counts once, for the one that pushed it first."""
    from .usage import PERIODS, checked_timezone, price_calls

    if period not in ("daily", "monthly"):
        raise ValueError(f"team usage is daily or monthly, not {period!r} (of {', '.join(PERIODS)})")
    con = open_in_duckdb(env)
    try:
        con.execute(f"SET TimeZone = '{checked_timezone(tz)}'")
        con.execute(
            """
            CREATE TEMP TABLE calls AS
            WITH owner AS (
                SELECT * FROM team_sessions
                QUALIFY row_number() OVER (PARTITION BY id ORDER BY first_pushed_at, host) = 1
            )
            SELECT o.host, CAST(c.used_at AS DATE) AS day, o.source, c.model, coalesce(o.project, '') AS project,
                   coalesce(o.project_key, '') AS project_key, o.id AS session_id,
                   coalesce(c.input_tokens, 0) AS input_tokens, coalesce(c.cache_read_tokens, 0) AS cache_read_tokens,
                   coalesce(c.cache_creation_tokens, 0) AS cache_creation_tokens, coalesce(c.output_tokens, 0) AS output_tokens,
                   c.reasoning_tokens
            FROM owner o, UNNEST(o.calls) AS u(c)
            """
        )
        return price_calls(con, period, tz, extra_keys=("host",))
    finally:
        con.close()


DAILY_TABLE = f"{NAMESPACE}.team_daily_usage"


def write_team_daily_usage(env: TeamEnv, tz: str | None = None) -> list[dict]:
    """Rebuild the team's daily usage (``team usage daily``) as the Iceberg table
    claude_view.team_daily_usage, in one commit; its rows."""
    from pyiceberg.exceptions import NoSuchTableError

    from .usage import local_timezone

    rows = team_usage(env, "daily", tz or local_timezone())
    table = pa.Table.from_pylist(rows) if rows else None
    if table is None:
        return rows
    table = table.cast(pa.schema([f.with_type(pa.float64()) if f.name == "cost_usd" else f for f in table.schema]))
    cat = catalog(env)
    try:
        target = cat.load_table(DAILY_TABLE)
    except NoSuchTableError:
        target = cat.create_table(DAILY_TABLE, schema=table.schema)
    _overwrite(target, table)
    return rows


def duplicate_identities(env: TeamEnv) -> list[str]:
    """(host, source, source_session_id) held more than once, as host/source/id."""
    con = open_in_duckdb(env)
    try:
        return [r[0] for r in con.execute(
            "SELECT host || '/' || source || '/' || source_session_id FROM team_sessions "
            "GROUP BY host, source, source_session_id HAVING count(*) > 1 ORDER BY 1").fetchall()]
    finally:
        con.close()
