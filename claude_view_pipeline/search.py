"""Full-text search over the index's messages: a SQLite FTS5 file beside the DuckDB index
(``<db>.search.sqlite``), kept current from DuckDB and queried with ranked, filtered queries.

The search index is derived data: everything in it comes from the DuckDB tables, so a search
file that is missing, damaged or of another layout is built again from DuckDB (``sync``
does it by itself; ``rebuild`` on request). Keeping it current is incremental: a session's
messages are rewritten only when its ``sessions.run_id`` changed (the writer gives every
session a re-parsed file yields the new run's id, and replaces all its messages), and a
session gone from DuckDB is dropped. Each source is synced on its own, so a source's
partition replaces only its own documents.

Every message with text is a document: prompts, assistant text, reasoning, tool calls (their
input as JSON) and tool results, each cut at ``TEXT_CHARS`` characters. Copies a session
inherited from another (a resume, a fork's replayed history) are documents of both
sessions: the text is in both transcripts. Why SQLite FTS5: docs/adr/0002-search-index.md.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from .privacy import tighten

SCHEMA_VERSION = "1"
# what of a message is searchable: its first characters (a tool result can be a megabyte of
# build log; its start says what it was, and indexing all of it would cost the index run
# more than the rest of the run)
TEXT_CHARS = 16_384
ROLES = ("user", "assistant", "system", "tool_use", "tool_result", "reasoning")
SORTS = ("relevance", "newest")
MAX_LIMIT = 1000
BATCH_ROWS = 2000  # messages read from DuckDB at a time (bounds the memory a sync adds to a run)
# where snippet() marks a match; any such character in a message is replaced when indexed
_OPEN, _CLOSE = "\ue000", "\ue001"
MARK_OPEN, MARK_CLOSE = "«", "»"  # how a match is marked in what we print
_SNIPPET_TOKENS = 12

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- per session: what its documents were written from (run_id) and what the filters need
CREATE TABLE sessions (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, project TEXT, project_key TEXT, run_id TEXT
) WITHOUT ROWID;
CREATE INDEX sessions_source ON sessions (source);
-- one row per document (a message with text); its rowid is the document's rowid in body
CREATE TABLE docs (
    rowid INTEGER PRIMARY KEY, session_id TEXT NOT NULL, source TEXT NOT NULL,
    ordinal INTEGER NOT NULL, role TEXT NOT NULL, ts_us INTEGER
);
CREATE INDEX docs_session ON docs (session_id);
CREATE VIRTUAL TABLE body USING fts5 (text, tokenize = 'unicode61 remove_diacritics 2');
"""


class QueryError(ValueError):
    """A query that cannot be searched for; the message says why, in one line."""


class SearchIndexError(RuntimeError):
    """The search file could not be written (locked, disk full); the DuckDB index is not affected."""


def search_path(db_path: Path) -> Path:
    """The search index of a DuckDB index: beside it, ``<db>.search.sqlite``."""
    return Path(f"{Path(db_path)}.search.sqlite")


@dataclass
class SyncReport:
    """What one sync did: sessions whose documents were (re)written or dropped, documents
    written, whether the file was built from nothing, and how long it took."""

    path: Path
    sessions_written: int = 0
    sessions_dropped: int = 0
    documents_written: int = 0
    documents: int = 0
    rebuilt: bool = False
    reason: str | None = None  # why it was built from nothing
    seconds: float = 0.0
    sources: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"path": str(self.path), "sessions_written": self.sessions_written, "sessions_dropped": self.sessions_dropped,
                "documents_written": self.documents_written, "documents": self.documents, "rebuilt": self.rebuilt,
                "reason": self.reason, "seconds": round(self.seconds, 3), "sources": self.sources}


# -- the query language ---------------------------------------------------------------------

_TOKEN = re.compile(r'"[^"]*"\*?|\S+')
_OPERATORS = ("OR", "AND", "NOT")


def fts_query(text: str) -> str:
    """The user's query as an FTS5 expression. Words are all required; ``"a phrase"`` matches
    the words in that order; ``word*`` (or ``"a phr"*``) matches by prefix; ``OR``, ``AND`` and
    ``NOT`` (upper case) combine terms (NOT binds first, then AND, then OR; no parentheses).
    Everything else is literal text: punctuation separates words as in the indexed text, so
    ``migration-lock`` is the phrase "migration lock". Raises QueryError for a query that is
    malformed (an unclosed quote, an operator without a term on each side, a term with no
    letter or digit)."""
    if text.count('"') % 2:
        raise QueryError('unbalanced double quote in the query (a phrase is "between two quotes")')
    parts: list[str] = []
    for raw in _TOKEN.findall(text):
        if raw in _OPERATORS:
            if not parts or parts[-1] in _OPERATORS:
                raise QueryError(f"{raw} needs a term before it")
            parts.append(raw)
            continue
        prefix = raw.endswith("*")
        body = raw[:-1] if prefix else raw
        if body.startswith('"') and body.endswith('"') and len(body) >= 2:
            body = body[1:-1]
        elif '"' in body:
            raise QueryError(f"a quote inside {raw!r}: put a phrase between two quotes, apart from other words")
        if "*" in body:
            raise QueryError(f"'*' marks a prefix at the end of a word only (in {raw!r})")
        if not any(ch.isalnum() for ch in body):
            if prefix and not body:
                raise QueryError("a prefix needs at least one letter or digit before '*'")
            raise QueryError(f"{raw!r} has no letter or digit to search for")
        parts.append('"' + body.replace('"', '""') + '"' + ("*" if prefix else ""))
    if not parts:
        raise QueryError("the query is empty; give words to search for")
    if parts[-1] in _OPERATORS:
        raise QueryError(f"{parts[-1]} needs a term after it")
    return " ".join(parts)


# -- the search file ------------------------------------------------------------------------

def _open(path: Path, timeout: float = 10.0, building: bool = False) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    if building:  # a file nobody reads yet, moved into place when whole: no journal to keep
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
    else:
        con.execute("PRAGMA journal_mode = WAL")  # readers are not blocked by a sync
        con.execute("PRAGMA synchronous = NORMAL")
    return con


def _private(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        tighten(p)


def _inspect(path: Path) -> tuple[str | None, dict[str, str], int]:
    """(None when the file at path is a search index of this layout, else why it is not;
    the DuckDB state per source it was last synced to; its documents)."""
    if not path.exists():
        return "missing", {}, 0
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10.0)
        try:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            documents = con.execute("SELECT count(*) FROM docs").fetchone()[0]
            con.execute("SELECT rowid FROM body WHERE body MATCH '\"x\"' LIMIT 1").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return f"unreadable ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})", {}, 0
    if meta.get("schema_version") != SCHEMA_VERSION:
        return "of another layout", {}, 0
    return None, {k[len("state:"):]: v for k, v in meta.items() if k.startswith("state:")}, documents


def _duck_state(duck, sources: list[str] | None) -> dict[str, str]:
    """Per source, a digest of what the search file copies of its sessions: each session's
    id, the run_id its messages were written by, its project and project key (the writer
    gives a session it rewrites the run's id). Equal to the digest the search file was
    synced to: nothing to do, without comparing session by session."""
    rows = duck.execute(
        """SELECT source, count(*), bit_xor(hash(id, run_id, project, project_key)) FROM sessions
           WHERE $sources::VARCHAR[] IS NULL OR list_contains($sources::VARCHAR[], source) GROUP BY source""",
        {"sources": sources},
    ).fetchall()
    return {src: f"{n}:{digest}" for src, n, digest in rows}


def _build(duck, path: Path, report: SyncReport) -> None:
    """A new search file at path, every source's documents in it: written under a temporary
    name without a journal (a third faster), then moved over whatever was there."""
    tmp = Path(f"{path}.new")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
        p.unlink(missing_ok=True)
    con = sqlite3.connect(tmp, isolation_level=None)
    try:
        con.executescript(_SCHEMA)
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    finally:
        con.close()
    tighten(tmp)
    try:
        _sync(duck, tmp, None, report, building=True)
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode = WAL")  # kept in the file: readers never wait for a sync
        finally:
            con.close()
        for suffix in ("-wal", "-shm"):  # a damaged file's journal must not be applied to the new one
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# -- keeping it current ---------------------------------------------------------------------

def sync(db_path: Path, sources: list[str] | None = None, rebuild: bool = False) -> SyncReport:
    """Bring the search index of db_path up to date with DuckDB, for these sources (default:
    every source in the index): sessions whose run_id changed get their documents rewritten,
    sessions gone from DuckDB lose theirs. A missing, damaged or outdated search file (or
    ``rebuild``) is built again from DuckDB, every source. Raises SearchIndexError when the
    file cannot be written."""
    from .store import connect

    started = time.perf_counter()
    path = search_path(db_path)
    report = SyncReport(path)
    reason, synced_to, documents = _inspect(path)
    reason = "asked to rebuild" if rebuild else reason
    duck = connect(db_path, read_only=True)
    try:
        try:
            if reason is not None:
                report.rebuilt, report.reason = True, reason
                path.parent.mkdir(parents=True, exist_ok=True)
                _build(duck, path, report)
            else:
                state = _duck_state(duck, sources)
                scope = sources if sources is not None else sorted(set(state) | set(synced_to))
                if all(state.get(s) == synced_to.get(s) for s in scope):  # DuckDB unchanged since the last sync
                    report.sources, report.documents = sorted(scope), documents
                else:
                    _sync(duck, path, sources, report)
        except sqlite3.DatabaseError as exc:
            if report.rebuilt or not _damaged(exc):
                raise SearchIndexError(f"the search index {path} could not be written: {exc}") from exc
            # damaged past what opening it showed: build it again, once
            report = SyncReport(path, rebuilt=True, reason=f"unreadable ({exc})")
            _build(duck, path, report)
    finally:
        duck.close()
    _private(path)
    report.seconds = time.perf_counter() - started
    return report


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    """Does the error say the file is damaged (not merely locked, full or read-only)?"""
    text = str(exc).lower()
    return any(w in text for w in ("malformed", "corrupt", "not a database", "no such table", "no such column"))


def rebuild(db_path: Path) -> SyncReport:
    """Build the search index again from DuckDB, from nothing."""
    return sync(db_path, rebuild=True)


def _sync(duck, path: Path, sources: list[str] | None, report: SyncReport, building: bool = False) -> None:
    import pyarrow as pa

    rows = duck.execute(
        "SELECT id, source, project, project_key, run_id FROM sessions WHERE $sources::VARCHAR[] IS NULL OR list_contains($sources::VARCHAR[], source)",
        {"sources": sources},
    ).fetchall()
    current = {r[0]: r for r in rows}
    report.sources = sorted({r[1] for r in rows} | set(sources or ()))
    con = _open(path, building=building)
    try:
        con.execute("CREATE TEMP TABLE IF NOT EXISTS stale (id TEXT PRIMARY KEY)")
        # what the file holds is read under its write lock: another sync (the Dagster asset, a
        # command) cannot commit between this read and the write
        con.execute("BEGIN IMMEDIATE")
        try:
            scope = "" if sources is None else f" WHERE source IN ({', '.join('?' * len(sources))})"
            held = {r[0]: r for r in con.execute(f"SELECT id, source, project, project_key, run_id FROM sessions{scope}",
                                                 sources or []).fetchall()}
            changed = [sid for sid, r in current.items() if sid not in held or held[sid][4] != r[4]]
            gone = [sid for sid in held if sid not in current]
            # a session's project can change without its messages (a subagent's follows its parent)
            moved = [r for sid, r in current.items() if sid in held and held[sid][4] == r[4] and held[sid][2:4] != r[2:4]]
            con.execute("DELETE FROM temp.stale")
            con.executemany("INSERT INTO temp.stale VALUES (?)", [(s,) for s in (*changed, *gone)])
            if held:
                con.execute("DELETE FROM body WHERE rowid IN (SELECT d.rowid FROM docs d JOIN temp.stale s ON s.id = d.session_id)")
                con.execute("DELETE FROM docs WHERE session_id IN (SELECT id FROM temp.stale)")
                con.execute("DELETE FROM sessions WHERE id IN (SELECT id FROM temp.stale)")
            con.executemany("UPDATE sessions SET project = ?, project_key = ? WHERE id = ?", [(r[2], r[3], r[0]) for r in moved])
            con.executemany("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", [current[s] for s in changed])
            next_rowid = (con.execute("SELECT coalesce(max(rowid), 0) FROM docs").fetchone()[0] or 0) + 1
            if changed:
                duck.register("search_changed", pa.table({"id": changed}))
                try:
                    reader = duck.sql(
                        f"""
                        SELECT m.session_id, m.source, m.ordinal, m.role, epoch_us(m."timestamp") AS ts_us,
                               left(m.text, {TEXT_CHARS}) AS text
                        FROM messages m JOIN search_changed c ON c.id = m.session_id
                        WHERE m.text IS NOT NULL AND length(m.text) > 0
                        """
                    ).to_arrow_reader(BATCH_ROWS)
                    for batch in reader:
                        cols = batch.to_pydict()
                        n = len(cols["session_id"])
                        ids = range(next_rowid, next_rowid + n)
                        next_rowid += n
                        con.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)",
                                        zip(ids, cols["session_id"], cols["source"], cols["ordinal"], cols["role"], cols["ts_us"]))
                        con.executemany("INSERT INTO body (rowid, text) VALUES (?, ?)",
                                        zip(ids, (_clean(t) for t in cols["text"])))
                        report.documents_written += n
                finally:
                    duck.unregister("search_changed")
            # what DuckDB held for these sources, as this sync saw it (the same connection)
            state = _duck_state(duck, sources)
            scope = sources if sources is not None else sorted(set(state) | {r[1] for r in held.values()})
            con.execute(f"DELETE FROM meta WHERE key LIKE 'state:%'{'' if sources is None else ' AND substr(key, 7) IN (' + ', '.join('?' * len(scope)) + ')'}",
                        [] if sources is None else scope)
            con.executemany("INSERT INTO meta VALUES (?, ?)", [(f"state:{s}", state[s]) for s in scope if s in state])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        report.sessions_written, report.sessions_dropped = len(changed), len(gone)
        report.documents = con.execute("SELECT count(*) FROM docs").fetchone()[0]
    finally:
        con.close()


def _clean(text: str) -> str:
    """A message's text as indexed: the characters that mark a match in a snippet replaced."""
    if _OPEN in text or _CLOSE in text:
        return text.replace(_OPEN, "\ufffd").replace(_CLOSE, "\ufffd")
    return text


# -- asking it ------------------------------------------------------------------------------

def _day_start_us(day: date, tz: str) -> int:
    start = datetime.combine(day, dtime.min, tzinfo=ZoneInfo(tz))
    return int(start.timestamp() * 1_000_000)


def search(db_path: Path, query: str, *, sources: list[str] | None = None, project: str | None = None,
           since: date | None = None, until: date | None = None, roles: list[str] | None = None,
           sort: str = "relevance", limit: int = 20, offset: int = 0, tz: str = "UTC") -> list[dict]:
    """The messages that match ``query`` (fts_query's language), best first (``relevance``,
    BM25) or newest first, after the filters: sources, a project (its name or key), days
    ``since``..``until`` cut in ``tz``, roles. Each hit: ``session_id``, ``source``,
    ``timestamp`` (ISO-8601 UTC), ``project``, ``role``, ``ordinal``, ``score`` (higher is
    better) and ``snippet``: the text around the match, whitespace collapsed, each match
    between MARK_OPEN and MARK_CLOSE. The search file must exist (``sync`` builds it)."""
    expression = fts_query(query)
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}")
    if roles:
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise QueryError(f"unknown role {unknown[0]!r}; roles are {', '.join(ROLES)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise QueryError("offset must be 0 or more")
    where, params = ["body MATCH ?"], [expression]
    if sources:
        where.append(f"d.source IN ({', '.join('?' * len(sources))})")
        params += sources
    if roles:
        where.append(f"d.role IN ({', '.join('?' * len(roles))})")
        params += roles
    if project is not None:
        where.append("(s.project = ? OR s.project_key = ?)")
        params += [project, project]
    if since is not None:
        where.append("d.ts_us >= ?")
        params.append(_day_start_us(since, tz))
    if until is not None:
        where.append("d.ts_us < ?")
        params.append(_day_start_us(until + timedelta(days=1), tz))
    # Two steps: the page's documents in order (BM25 or time; no text read), then the page's
    # snippets and details (a snippet reads the document's text: for the page only, not for
    # every match, which a common word makes tens of thousands)
    order = "bm25(body), d.ts_us DESC" if sort == "relevance" else "d.ts_us DESC NULLS LAST"
    sessions_join = "CROSS JOIN sessions s ON s.id = d.session_id" if project is not None else ""
    page_sql = f"""
        SELECT body.rowid FROM body CROSS JOIN docs d ON d.rowid = body.rowid {sessions_join}
        WHERE {' AND '.join(where)}
        ORDER BY {order}, d.session_id, d.ordinal
        LIMIT ? OFFSET ?
    """
    path = search_path(db_path)
    if not path.exists():
        raise SearchIndexError(f"no search index at {path}; 'claude-view-pipeline search --rebuild' builds it")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10.0)
    try:
        page = [r[0] for r in con.execute(page_sql, [*params, limit, offset]).fetchall()]
        details = {}
        if page:
            details = {r[0]: r[1:] for r in con.execute(
                f"""
                SELECT body.rowid, d.session_id, d.source, d.ts_us, s.project, d.role, d.ordinal, -bm25(body),
                       snippet(body, 0, '{_OPEN}', '{_CLOSE}', '…', {_SNIPPET_TOKENS})
                FROM body CROSS JOIN docs d ON d.rowid = body.rowid LEFT JOIN sessions s ON s.id = d.session_id
                WHERE body MATCH ? AND body.rowid IN ({', '.join('?' * len(page))})
                """,
                [expression, *page],
            ).fetchall()}
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "fts5" in text or "syntax" in text or "MATCH" in text:
            raise QueryError(f"cannot search for {query!r}: {text}") from None
        raise
    finally:
        con.close()
    rows = [details[rowid] for rowid in page]
    return [{"session_id": sid, "source": src, "timestamp": _iso(ts), "project": proj, "role": role, "ordinal": ordinal,
             "score": round(score, 4), "snippet": snippet_text(snip)}
            for sid, src, ts, proj, role, ordinal, score, snip in rows]


_SPACE = re.compile(r"\s+")


def snippet_text(raw: str) -> str:
    """A snippet as shown: whitespace runs as one space, matches between « and »."""
    return _SPACE.sub(" ", raw).strip().replace(_OPEN, MARK_OPEN).replace(_CLOSE, MARK_CLOSE)


def _iso(ts_us: int | None) -> str | None:
    if ts_us is None:
        return None
    t = datetime.fromtimestamp(ts_us / 1_000_000, tz=timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
