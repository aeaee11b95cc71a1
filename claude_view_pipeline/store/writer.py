"""Writing one source partition into the index: all-or-nothing, one transaction.

Rows of the files parsed in this run replace the rows those files wrote before; rows of
unchanged files are left alone; rows of files that vanished are kept and flagged
``file_missing``. Every statement is scoped to the partition's source, so a Codex write
can never touch a Claude row and the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..faults import pause_point
from ..parsers.base import REJECT_DUPLICATE_SESSION as REJECT_DUPLICATE
from ..parsers.base import REJECT_IO_ERROR
from ..sources import Source
from .migrate import has_table, migrate


class SourceScopeError(RuntimeError):
    """Staged data holds rows of another source than the partition being written."""


@dataclass
class PartitionWrite:
    source: Source
    run_id: str
    files_parquet: Path  # every discovered file of the source (pass 1)
    sessions_parquet: list[str]  # the parts, as files
    messages_parquet: list[str]
    file_results_parquet: Path  # outcome of every file parsed in this run (pass 2)
    metrics: list[tuple[str, str, str, float]] = field(default_factory=list)  # (stage, result, metric, value)
    roots: list[str] = field(default_factory=list)  # where the files were discovered (source_roots)
    rate_limits_parquet: list[str] = field(default_factory=list)  # Codex plan-window reports (parts)


@dataclass
class WriteSummary:
    sessions_written: int
    messages_written: int
    sessions_in_index: int
    duplicates_rejected: int
    superseded: int
    files_missing: int
    changed: bool = True  # False: nothing was parsed and no file appeared, vanished or moved root


def _literal(text: str) -> str:
    """A SQL string literal (for the places DuckDB takes no parameters: views, file paths)."""
    return "'" + str(text).replace("'", "''") + "'"


_q = _literal


def _files(paths: list[str]) -> str:
    """A SQL list of file names for read_parquet (no globbing: each is taken as it is)."""
    return "[" + ", ".join(_literal(p) for p in paths) + "]"


def _record_metrics(con: duckdb.DuckDBPyConnection, w: PartitionWrite) -> None:
    if w.metrics:
        con.executemany(
            "INSERT INTO index_metrics VALUES (?, now(), ?, ?, ?, ?, ?)",
            [[w.run_id, w.source.value, stage, result, metric, float(value)] for stage, result, metric, value in w.metrics],
        )


def _nothing_changed(con: duckdb.DuckDBPyConnection, w: PartitionWrite) -> WriteSummary | None:
    """The no-op run (nothing parsed, no file appeared or vanished): its summary, read with
    two cheap queries, so an unchanged index costs no write transaction."""
    if pq_rows(w.file_results_parquet) != 0:
        return None
    src = w.source.value
    changed_missing, in_index, missing = con.execute(
        f"""
        WITH disc AS (SELECT path FROM read_parquet({_q(w.files_parquet)}))
        SELECT (SELECT count(*) FROM indexed_files f WHERE f.source = $src
                  AND f.missing IS DISTINCT FROM (f.path NOT IN (SELECT path FROM disc)))
             + (SELECT count(*) FROM disc WHERE path NOT IN (SELECT path FROM indexed_files WHERE source = $src)),
               (SELECT count(*) FROM sessions WHERE source = $src),
               (SELECT count(*) FROM indexed_files WHERE source = $src AND missing)
        """,
        {"src": src},
    ).fetchone()
    if changed_missing or _recorded_roots(con, w.source) != w.roots:
        return None
    return WriteSummary(0, 0, in_index, 0, 0, missing, changed=False)


def _recorded_roots(con: duckdb.DuckDBPyConnection, source: Source) -> list[str] | None:
    row = con.execute("SELECT roots FROM source_roots WHERE source = ?", [source.value]).fetchall()
    return list(row[0][0]) if row else None


def recorded_roots(con: duckdb.DuckDBPyConnection, source: Source) -> list[str] | None:
    """The roots a source was last indexed from, or None (never indexed, or an index older
    than schema v5)."""
    return _recorded_roots(con, source) if has_table(con, "source_roots") else None


def pq_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def write_partition(con: duckdb.DuckDBPyConnection, w: PartitionWrite) -> WriteSummary:
    migrate(con)
    src = w.source.value
    unchanged = _nothing_changed(con, w)
    if unchanged is not None:
        _record_metrics(con, w)
        return unchanged
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE stage_results AS SELECT * FROM read_parquet({_q(w.file_results_parquet)})")
        # a second copy of a session within the batch was rejected at parse time: leave its rows out
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE stage_sessions AS SELECT * FROM read_parquet({_files(w.sessions_parquet)})
                WHERE file_path NOT IN (SELECT path FROM stage_results WHERE reason = '{REJECT_DUPLICATE}')"""
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE stage_files AS SELECT * FROM read_parquet({_q(w.files_parquet)})")
        foreign = con.execute("SELECT count(*) FROM stage_sessions WHERE source IS DISTINCT FROM ?", [src]).fetchone()[0]
        foreign_msgs = con.execute(
            f"SELECT count(*) FROM read_parquet({_files(w.messages_parquet)}) WHERE source IS DISTINCT FROM ?", [src]
        ).fetchone()[0]  # checked over every staged row, rejected copies included
        if foreign or foreign_msgs:
            raise SourceScopeError(
                f"staged data for partition {src!r} holds {foreign} session(s) and {foreign_msgs} message(s) "
                "of another source; refusing to write"
            )

        # A session id already held by a file that was not re-parsed: the preferred copy wins
        # (a file on disk over one that is gone, as after a moved tree; an active Codex thread
        # over its archived copy; then path order).
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE id_clash AS
            WITH cand AS (
                SELECT s.id, s.file_path, r.kind, 'new' AS origin
                FROM stage_sessions s JOIN stage_results r ON r.path = s.file_path
                UNION ALL
                SELECT s.id, s.file_path, coalesce(f.kind, 'main'), 'old'
                FROM sessions s LEFT JOIN indexed_files f ON f.path = s.file_path AND f.source = s.source
                WHERE s.source = $src
                  AND s.id IN (SELECT id FROM stage_sessions)
                  AND s.file_path NOT IN (SELECT path FROM stage_results)
            ),
            ranked AS (
                SELECT *, row_number() OVER preference AS rn, first_value(file_path) OVER preference AS winner
                FROM cand
                WINDOW preference AS (PARTITION BY id ORDER BY (file_path NOT IN (SELECT path FROM stage_files)),
                                      (kind = 'archived'), file_path)
            )
            SELECT id, file_path, origin, winner FROM ranked WHERE rn > 1
            """,
            {"src": src},
        )
        # drop what the re-parsed files wrote before, and old copies that lost a clash
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE doomed AS
            SELECT id FROM sessions
            WHERE source = $src AND (file_path IN (SELECT path FROM stage_results)
                  OR id IN (SELECT id FROM id_clash WHERE origin = 'old'))
            """,
            {"src": src},
        )
        con.execute("DELETE FROM messages WHERE source = $src AND session_id IN (SELECT id FROM doomed)", {"src": src})
        con.execute("DELETE FROM rate_limits WHERE source = $src AND session_id IN (SELECT id FROM doomed)", {"src": src})
        _insert_staged(con, "rate_limits", w.rate_limits_parquet, w.run_id)
        con.execute("DELETE FROM sessions WHERE source = $src AND id IN (SELECT id FROM doomed)", {"src": src})

        con.execute(
            """
            INSERT INTO sessions BY NAME
            SELECT s.*, project_name(s.cwd, s.git_repository_url) AS project, project_key(s.cwd) AS project_key,
                   false AS file_missing, $run AS run_id, now() AS indexed_at
            FROM stage_sessions s
            WHERE s.id NOT IN (SELECT id FROM id_clash WHERE origin = 'new')
            """,
            {"run": w.run_id},
        )
        sessions_written = con.execute("SELECT count(*) FROM stage_sessions WHERE id NOT IN (SELECT id FROM id_clash WHERE origin = 'new')").fetchone()[0]
        _insert_staged(con, "messages", w.messages_parquet, w.run_id)
        messages_written = con.execute(
            "SELECT count(*) FROM messages WHERE source = $src AND run_id = $run", {"src": src, "run": w.run_id}
        ).fetchone()[0]
        _attribute_copies(con, src, w.run_id)
        _refresh_aggregates(con, src, w.run_id)
        # a subagent works for its parent's project, wherever it ran (a worktree, a temp dir);
        # whichever of the two was indexed first, the later write settles it
        con.execute(
            """
            UPDATE sessions SET project = p.project, project_key = p.project_key
            FROM sessions p
            WHERE sessions.source = $src AND sessions.relation = 'subagent' AND p.id = sessions.parent_session_id
              AND (sessions.project IS DISTINCT FROM p.project OR sessions.project_key IS DISTINCT FROM p.project_key)
            """,
            {"src": src},
        )

        con.execute("DELETE FROM indexed_files WHERE source = $src AND path IN (SELECT path FROM stage_results)", {"src": src})
        con.execute(
            f"""
            INSERT INTO indexed_files BY NAME
            -- a file that could not be read is read again next run, though it did not change:
            -- size -1 never matches a fingerprint (the same as a copy whose owner vanished)
            SELECT r.path, $src AS source, r.kind, CASE WHEN r.reason = '{REJECT_IO_ERROR}' THEN -1 ELSE r.size END AS size, r.mtime_ns,
                   CASE WHEN c.id IS NULL THEN r.status ELSE 'rejected' END AS status,
                   CASE WHEN c.id IS NULL THEN r.reason ELSE 'duplicate_session_id' END AS reason,
                   CASE WHEN c.id IS NULL THEN r.detail ELSE 'session ' || c.id || ' is already indexed from ' || c.winner END AS detail,
                   r.session_ids, r.lines_ok, r.lines_malformed, false AS missing, $run AS run_id, now() AS indexed_at
            FROM stage_results r
            LEFT JOIN (SELECT * FROM id_clash WHERE origin = 'new') c ON c.file_path = r.path
            """,
            {"src": src, "run": w.run_id},
        )
        con.execute(
            """
            UPDATE indexed_files SET status = 'superseded',
                   detail = 'session ' || c.id || ' is now indexed from ' || c.winner
            FROM id_clash c WHERE c.origin = 'old' AND indexed_files.path = c.file_path AND indexed_files.source = $src
            """,
            {"src": src},
        )
        # Files that vanished keep their rows; files that came back are re-linked.
        con.execute(
            """
            UPDATE indexed_files SET missing = (path NOT IN (SELECT path FROM stage_files))
            WHERE source = $src AND missing IS DISTINCT FROM (path NOT IN (SELECT path FROM stage_files))
            """,
            {"src": src},
        )
        con.execute(
            """
            UPDATE sessions SET file_missing = (file_path NOT IN (SELECT path FROM stage_files))
            WHERE source = $src AND file_missing IS DISTINCT FROM (file_path NOT IN (SELECT path FROM stage_files))
            """,
            {"src": src},
        )
        con.execute("INSERT OR REPLACE INTO source_roots VALUES ($src, $roots, now())", {"src": src, "roots": w.roots})
        _record_metrics(con, w)
        dup_new, dup_old = con.execute(
            "SELECT count(*) FILTER (WHERE origin = 'new'), count(*) FILTER (WHERE origin = 'old') FROM id_clash"
        ).fetchone()
        in_index = con.execute("SELECT count(*) FROM sessions WHERE source = $src", {"src": src}).fetchone()[0]
        missing = con.execute(
            "SELECT count(*) FROM indexed_files WHERE source = $src AND missing", {"src": src}
        ).fetchone()[0]
        pause_point("before_commit")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for t in ("stage_sessions", "stage_results", "stage_files", "id_clash", "doomed", "shared_keys", "copies", "owners", "recount"):
            con.execute(f"DROP TABLE IF EXISTS {t}")
    return WriteSummary(sessions_written, messages_written, in_index, dup_new, dup_old, missing)


def _insert_staged(con: duckdb.DuckDBPyConnection, table: str, parts: list[str], run_id: str) -> None:
    """A session's staged rows (messages, rate limits) into their table, less those of a
    session that lost an id clash and of a file rejected as a duplicate copy."""
    if not parts:
        return
    con.execute(
        f"""
        INSERT INTO {table} BY NAME
        SELECT r.* EXCLUDE (file_path), $run AS run_id FROM read_parquet({_files(parts)}) r
        WHERE r.session_id NOT IN (SELECT id FROM id_clash WHERE origin = 'new')
          AND r.file_path NOT IN (SELECT path FROM stage_results WHERE reason = '{REJECT_DUPLICATE}')
        """,
        {"run": run_id},
    )


def _attribute_copies(con: duckdb.DuckDBPyConnection, src: str, run_id: str) -> None:
    """A record copied into several files (a resumed Claude session, a Codex branch) counts
    once in the whole index: the copy that appears first owns it (earliest timestamp, then
    a main session over a subagent, then a line that names its own session, then path
    order); the others are marked inherited and carry no tokens (docs/parsing-rules.md)."""
    # only keys held by more than one session need an owner: find those first (two narrow
    # columns), so the wide grouping below sees the few copies, not every message written
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE shared_keys AS
        SELECT dedup_key FROM messages
        WHERE source = $src AND dedup_key IN (
            SELECT dedup_key FROM messages WHERE source = $src AND run_id = $run AND dedup_key IS NOT NULL
        )
        GROUP BY dedup_key HAVING count(DISTINCT session_id) > 1
        """,
        {"src": src, "run": run_id},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE copies AS
        SELECT m.session_id, m.dedup_key, min(m."timestamp") AS ts, min(m.ordinal) AS first_ordinal,
               bool_or(m.origin_session_id IS NOT NULL) AS foreign_line, bool_or(m.inherited) AS was_inherited,
               any_value(s.is_sidechain) AS is_sidechain, any_value(s.file_path) AS file_path
        FROM messages m JOIN sessions s ON s.id = m.session_id
        WHERE m.source = $src AND m.dedup_key IN (SELECT dedup_key FROM shared_keys)
        GROUP BY m.session_id, m.dedup_key
        """,
        {"src": src},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE owners AS
        SELECT dedup_key,
               arg_min(session_id, (ts IS NULL, ts, is_sidechain, foreign_line, file_path, first_ordinal)) AS owner
        FROM copies GROUP BY dedup_key HAVING count(*) > 1
        """
    )
    # An owner whose copy was already stripped (its earlier owner vanished from the index
    # when that file was rewritten) has no tokens left: parse its file again next run.
    con.execute(
        """
        UPDATE indexed_files SET size = -1
        WHERE source = $src AND path IN (
            SELECT c.file_path FROM copies c JOIN owners o ON o.dedup_key = c.dedup_key AND o.owner = c.session_id
            WHERE c.was_inherited)
        """,
        {"src": src},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE recount AS
        SELECT DISTINCT c.session_id FROM copies c JOIN owners o USING (dedup_key)
        """
    )
    con.execute(
        """
        UPDATE messages SET inherited = true, input_tokens = NULL, cache_read_tokens = NULL,
               cache_creation_tokens = NULL, cache_creation_5m_tokens = NULL, cache_creation_1h_tokens = NULL,
               output_tokens = NULL, reasoning_tokens = NULL
        FROM owners o
        WHERE messages.source = $src AND messages.dedup_key = o.dedup_key
          AND messages.session_id <> o.owner AND NOT messages.inherited
        """,
        {"src": src},
    )


def _refresh_aggregates(con: duckdb.DuckDBPyConnection, src: str, run_id: str) -> None:
    """Recompute counters and totals of the sessions this write touched (aggregate.py)."""
    from ..aggregate import AGGREGATE_COLUMNS, aggregates_sql

    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW sess AS
        SELECT id, source FROM sessions
        WHERE source = $src AND (run_id = $run OR id IN (SELECT session_id FROM recount))
        """.replace("$src", _literal(src)).replace("$run", _literal(run_id))
    )
    con.execute("CREATE OR REPLACE TEMP VIEW msgs AS SELECT * FROM messages WHERE session_id IN (SELECT id FROM sess)")
    assignments = ", ".join(f"{c} = a.{c}" for c in AGGREGATE_COLUMNS)
    con.execute(f"UPDATE sessions SET {assignments} FROM ({aggregates_sql()}) a WHERE sessions.id = a.session_id")
    con.execute("DROP VIEW IF EXISTS msgs")
    con.execute("DROP VIEW IF EXISTS sess")


def indexed_file_states(con: duckdb.DuckDBPyConnection, source: Source) -> dict[str, tuple[int, int, bool, str | None]]:
    """path -> (size, mtime_ns, missing, reason) as last indexed: what pass 1 diffs discovery
    against, and what the sensors compare the disk with."""
    if not has_table(con, "indexed_files"):
        return {}
    rows = con.execute(
        "SELECT path, size, mtime_ns, missing, reason FROM indexed_files WHERE source = ?", [source.value]
    ).fetchall()
    return {p: (s, m, missing, reason) for p, s, m, missing, reason in rows}


def indexed_fingerprints(con: duckdb.DuckDBPyConnection, source: Source) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) as last parsed, for the incremental diff of pass 1."""
    return {p: (s, m) for p, (s, m, _, _) in indexed_file_states(con, source).items()}
