"""The team store: many machines push their local index into one Iceberg table
(docs/adr/0001-team-store.md), whose catalog lives in PostgreSQL
(``CLAUDE_VIEW_TEAM_CATALOG``, a SQLAlchemy URL) and whose data files live under
``CLAUDE_VIEW_TEAM_DATA``.

One row per (host, session), partitioned by host and source, with the session's counted
model calls nested in it: a push replaces one machine's (host, source) rows in one Iceberg
commit, so readers see that machine's previous push or its new one, never a mix, and two
machines pushing at once both land (a commit that lost the race is retried on the new
state). A session found on several hosts (synced home directories) counts once, by its most
complete copy. What each push left in its partition is kept in the store's push log
(``claude_view.team_pushes``), which the team checks compare the partition with."""

from __future__ import annotations

import os
import re
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute

from .config import ConfigError, team_store
from .faults import pause_point
from .sources import Source
from .store import connect

NAMESPACE = "claude_view"
TABLE = f"{NAMESPACE}.team_sessions"
PUSHES_TABLE = f"{NAMESPACE}.team_pushes"
DAILY_TABLE = f"{NAMESPACE}.team_daily_usage"
COMMIT_ATTEMPTS = 20
_TS = pa.timestamp("us", tz="UTC")
_TOKENS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "cache_creation_5m_tokens",
           "cache_creation_1h_tokens", "output_tokens", "reasoning_tokens")

# Every table of the store has its schema written out: a type is never inferred from the rows
# of one push (a team with no Codex session has a reasoning column of nulls only).
CALL = pa.struct([("used_at", _TS), ("model", pa.string()), ("model_provider", pa.string()),
                  ("model_assumed", pa.bool_()), *[(k, pa.int64()) for k in _TOKENS], ("agent_cost_usd", pa.float64())])
SCHEMA = pa.schema([
    ("host", pa.string()), ("source", pa.string()), ("id", pa.string()), ("source_session_id", pa.string()),
    ("project", pa.string()), ("project_key", pa.string()), ("started_at", _TS),
    ("ended_at", _TS), ("primary_model", pa.string()), ("message_count", pa.int64()),
    ("api_call_count", pa.int64()), *[(k, pa.int64()) for k in (*_TOKENS, "total_tokens")],
    ("calls", pa.list_(CALL)), ("agent_cost_usd", pa.float64()), ("first_pushed_at", _TS), ("pushed_at", _TS),
])
# what a push compares to decide whether anything changed (not when it was pushed)
_CONTENT = [f.name for f in SCHEMA if f.name not in ("first_pushed_at", "pushed_at")]
# the store's own log of pushes: what each push left in its (host, source) partition
PUSHES_SCHEMA = pa.schema([
    ("push_id", pa.string()), ("host", pa.string()), ("source", pa.string()), ("pushed_at", _TS),
    ("sessions", pa.int64()), ("total_tokens", pa.int64()),
])
DAILY_SCHEMA = pa.schema([
    ("day", pa.date32()), ("host", pa.string()), ("source", pa.string()), ("model", pa.string()),
    ("project", pa.string()), ("project_key", pa.string()), ("sessions", pa.int64()), ("api_call_count", pa.int64()),
    *[(k, pa.int64()) for k in (*_TOKENS, "total_tokens")], ("cost_usd", pa.float64()), ("unpriced_tokens", pa.int64()),
    ("model_assumed", pa.bool_()), ("price_model", pa.string()), ("price_provider", pa.string()),
    ("timezone", pa.string()), ("price_data_version", pa.string()), ("agent_cost_usd", pa.float64()),
])

# A host name is a partition of the store and of Dagster, and a directory of its data files:
# what every one of them takes, a name as hostnames are written.
HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def check_host(name: str) -> str:
    """The host name a machine pushes as, or a settings error (exit status 2) saying why."""
    if not HOST_NAME.match(name or ""):
        from .output import safe

        raise ConfigError(f"the host name {safe(name, 40)!r} cannot name a machine in the team store: use 1 to 63 "
                          "letters, digits, '.', '-' or '_', beginning with a letter or digit (team push --host NAME)")
    return name


@dataclass(frozen=True)
class TeamEnv:
    catalog_uri: str
    data: str

    @classmethod
    def from_env(cls) -> "TeamEnv":
        uri, data = team_store()
        if not uri or not data:
            raise ConfigError("the team store is not configured: set CLAUDE_VIEW_TEAM_CATALOG and CLAUDE_VIEW_TEAM_DATA "
                              "(for a local one: eval \"$(./pipeline services up)\")")
        return cls(uri, data if "://" in data else "file://" + os.path.abspath(data))


def _creation_races():
    """What two machines setting up a new store at the same moment run into: PostgreSQL
    refusing a second CREATE of the catalog's tables (a unique violation), a namespace or table
    the other created first, a schema change the other committed first."""
    from pyiceberg.exceptions import CommitFailedException
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    return (IntegrityError, ProgrammingError, CommitFailedException)


def _retrying():
    """Retries of a step that lost a race with another machine (tenacity): from the new state,
    a little later each time, up to COMMIT_ATTEMPTS, then the last error."""
    from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

    return Retrying(retry=retry_if_exception_type(_creation_races()), stop=stop_after_attempt(COMMIT_ATTEMPTS),
                    wait=wait_random_exponential(multiplier=0.05, max=2), reraise=True)


def catalog(env: TeamEnv):
    from pyiceberg.catalog.sql import SqlCatalog

    for attempt in _retrying():
        with attempt:  # the first use of a new catalog creates its own tables
            return SqlCatalog("team", uri=env.catalog_uri, warehouse=env.data)


def _ensure_table(cat, name: str, schema: pa.Schema, partition_by: tuple[str, ...] = ()):
    """The store's table ``name``: created with its schema and partitioning in one commit (no
    reader ever sees it unpartitioned), or brought up to ``schema`` when an older release
    created it with fewer columns."""
    from pyiceberg.exceptions import NamespaceAlreadyExistsError, NoSuchTableError, TableAlreadyExistsError

    for attempt in _retrying():
        with attempt:
            try:
                table = cat.load_table(name)
            except NoSuchTableError:
                try:
                    cat.create_namespace(NAMESPACE)
                except NamespaceAlreadyExistsError:
                    pass
                try:
                    create = cat.create_table_transaction(name, schema=schema)
                    if partition_by:
                        with create.update_spec() as spec:
                            for column in partition_by:
                                spec.add_identity(column)
                    create.commit_transaction()
                except TableAlreadyExistsError:  # another machine created it meanwhile
                    pass
                table = cat.load_table(name)
            have = {f.name for f in table.schema().fields}
            if not {f.name for f in schema} <= have or _nested_fields(table) < _nested_names(schema):
                with table.update_schema() as update:
                    update.union_by_name(schema)
                table = cat.load_table(name)
            return table


def _nested_names(schema: pa.Schema) -> set[str]:
    return {f"{f.name}.{c.name}" for f in schema if pa.types.is_list(f.type) for c in f.type.value_type}


def _nested_fields(table) -> set[str]:
    return _nested_names(table.schema().as_arrow())


def team_table(env: TeamEnv):
    """The store's sessions table, created (partitioned by host and source) on first use."""
    return _ensure_table(catalog(env), TABLE, SCHEMA, ("host", "source"))


def pushes_table(env: TeamEnv):
    return _ensure_table(catalog(env), PUSHES_TABLE, PUSHES_SCHEMA)


def local_rows(db_path: Path, source: Source, host: str) -> pa.Table:
    """This machine's sessions of one source with their counted calls, as the store holds them."""
    con = connect(db_path, read_only=True)
    try:
        table = con.sql(
            f"""
            SELECT $host AS host, s.source, s.id, s.source_session_id, s.project, s.project_key,
                   s.started_at, s.ended_at, s.primary_model, s.message_count::BIGINT AS message_count,
                   s.api_call_count::BIGINT AS api_call_count,
                   {", ".join(f"s.{k}::BIGINT AS {k}" for k in (*_TOKENS, "total_tokens"))},
                   coalesce(c.calls, []) AS calls, s.agent_cost_usd
            FROM sessions s LEFT JOIN (
                SELECT session_id, list(struct_pack(used_at := coalesce(usage_at, "timestamp"), model := model,
                       model_provider := model_provider, model_assumed := coalesce(model_assumed, false),
                       {", ".join(f"{k} := {k}::BIGINT" for k in _TOKENS)}, agent_cost_usd := agent_cost_usd)
                       ORDER BY ordinal) AS calls
                FROM messages WHERE source = $src AND api_call AND NOT inherited GROUP BY session_id
            ) c ON c.session_id = s.id
            WHERE s.source = $src ORDER BY s.id
            """,
            params={"host": host, "src": source.value},
        ).to_arrow_table()
    finally:
        con.close()
    return table.cast(pa.schema([f for f in SCHEMA if f.name in table.column_names]))


@dataclass
class PushResult:
    host: str
    source: str
    sessions: int
    changed: bool
    attempts: int


def push(env: TeamEnv, db_path: Path, host: str, sources: list[Source]) -> list[PushResult]:
    """Replace this host's rows of each source with the local index's, one commit each, and
    log what the partition now holds (the store's push log, which the team checks compare
    the partition with)."""
    from pyiceberg.exceptions import CommitFailedException

    check_host(host)
    results = []
    for source in sources:
        rows = local_rows(db_path, source, host)
        where = _partition(host, source.value)
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            table = team_table(env)
            pause_point("team_store_open")
            current = table.scan(row_filter=where).to_arrow()
            if _same(current, rows):
                changed = False
                break
            new = _with_push_times(rows, current)
            pause_point("before_team_commit")
            try:
                _overwrite(table, new, overwrite_filter=where)
            except CommitFailedException:  # another machine committed first: start again from its state
                time.sleep(0.05 * attempt)
                continue
            changed = True
            break
        else:
            raise RuntimeError(f"the team store stayed busy: {COMMIT_ATTEMPTS} commits of {host}/{source.value} lost the race")
        pause_point("after_team_commit")
        _log_push(env, host, source.value, rows)
        results.append(PushResult(host, source.value, rows.num_rows, changed, attempt))
    return results


def _log_push(env: TeamEnv, host: str, source: str, rows: pa.Table) -> None:
    """Append what the partition now holds to the push log, unless its last entry says so
    already (a push that changed nothing, or one whose entry an earlier, killed push did not
    get to write: this one writes it)."""
    import uuid

    tokens = pa.compute.sum(rows.column("total_tokens")).as_py() or 0
    last = latest_pushes(env).get((host, source))
    if last is not None and (last.sessions, last.total_tokens) == (rows.num_rows, tokens):
        return
    entry = pa.Table.from_pylist([{"push_id": uuid.uuid4().hex, "host": host, "source": source,
                                   "pushed_at": datetime.now(timezone.utc), "sessions": rows.num_rows,
                                   "total_tokens": tokens}], schema=PUSHES_SCHEMA)
    for attempt in _retrying():
        with attempt:
            pushes_table(env).append(entry)


@dataclass(frozen=True)
class Push:
    host: str
    source: str
    sessions: int
    total_tokens: int
    push_id: str


def latest_pushes(env: TeamEnv) -> dict[tuple[str, str], Push]:
    """Per (host, source), the last push logged."""
    rows = pushes_table(env).scan().to_arrow().to_pylist()
    out: dict[tuple[str, str], Push] = {}
    for r in sorted(rows, key=lambda r: (r["pushed_at"], r["push_id"])):
        out[(r["host"], r["source"])] = Push(r["host"], r["source"], r["sessions"], r["total_tokens"], r["push_id"])
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
    if not set(_CONTENT) <= set(current.column_names):
        return False
    key = [("id", "ascending")]
    try:
        held = current.select(_CONTENT).sort_by(key).cast(rows.select(_CONTENT).schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a row written by an older release
        return False
    return held.equals(rows.select(_CONTENT).sort_by(key))


def _with_push_times(rows: pa.Table, current: pa.Table) -> pa.Table:
    now = datetime.now(timezone.utc)
    first = dict(zip(current.column("id").to_pylist(), current.column("first_pushed_at").to_pylist())) if current.num_rows else {}
    ids = rows.column("id").to_pylist()
    rows = rows.append_column("first_pushed_at", pa.array([first.get(i, now) for i in ids], _TS))
    rows = rows.append_column("pushed_at", pa.array([now] * len(ids), _TS))
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


# A session found on several hosts (synced home directories, a copy pushed while it was still
# being written) counts once, by its most complete copy: the most model calls, then the latest
# end, then the first host name. Recomputed from what the store holds at every read, so a
# complete copy pushed later replaces a half one pushed first.
_OWNER_ORDER = "api_call_count DESC, ended_at DESC NULLS LAST, host"


def team_usage(env: TeamEnv, period: str, tz: str) -> list[dict]:
    """The rows of ``usage daily|monthly --json`` with ``host``; a session pushed by several
    hosts counts once, for its most complete copy."""
    from .usage import PERIODS, checked_timezone, rollup_calls

    if period not in ("daily", "monthly"):
        raise ValueError(f"team usage is daily or monthly, not {period!r} (of {', '.join(PERIODS)})")
    con = open_in_duckdb(env)
    try:
        con.execute(f"SET TimeZone = '{checked_timezone(tz)}'")
        con.execute(
            f"""
            CREATE TEMP TABLE team_calls AS
            WITH owner AS (
                SELECT * FROM team_sessions
                QUALIFY row_number() OVER (PARTITION BY id ORDER BY {_OWNER_ORDER}) = 1
            )
            SELECT o.host, CAST(c.used_at AS DATE) AS day, o.source, c.model,
                   coalesce(c.model_provider, '') AS model_provider, coalesce(c.model_assumed, false) AS model_assumed,
                   coalesce(o.project, '') AS project, coalesce(o.project_key, '') AS project_key, o.id AS session_id,
                   coalesce(c.input_tokens, 0) AS input_tokens, coalesce(c.cache_read_tokens, 0) AS cache_read_tokens,
                   -- a call pushed by a release before writes were split by lifetime: all 5-minute
                   coalesce(c.cache_creation_5m_tokens, c.cache_creation_tokens, 0) AS cache_creation_5m_tokens,
                   coalesce(c.cache_creation_1h_tokens, 0) AS cache_creation_1h_tokens,
                   coalesce(c.output_tokens, 0) AS output_tokens, c.reasoning_tokens, c.agent_cost_usd,
                   c.input_tokens IS NULL OR c.output_tokens IS NULL AS usage_unknown
            FROM owner o, UNNEST(o.calls) AS u(c)
            """
        )
        return rollup_calls(con, "team_calls", period, tz, extra_keys=("host",))
    finally:
        con.close()


def write_team_daily_usage(env: TeamEnv, tz: str) -> list[dict]:
    """Rebuild the team's daily usage (``team usage daily``) as the Iceberg table
    claude_view.team_daily_usage, in one commit; its rows."""
    rows = team_usage(env, "daily", tz)
    table = pa.Table.from_pylist(rows, schema=DAILY_SCHEMA)
    _overwrite(_ensure_table(catalog(env), DAILY_TABLE, DAILY_SCHEMA), table)
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
