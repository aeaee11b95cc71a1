"""Listing sessions and reading one session's messages, a page at a time: what the MCP server
gives an agent that asks about its own history. Every answer is bounded (a page of rows, each
text cut to a number of characters), so a session of megabytes cannot flood a caller."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from .store import connect
from .usage import dict_rows

MAX_PAGE = 200
MAX_TEXT_CHARS = 20_000
PROMPT_CHARS = 200


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    t = t.astimezone(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise ValueError("offset must be 0 or more")


def list_sessions(db_path: Path, sources: list[str] | None = None, project: str | None = None,
                  since: date | None = None, until: date | None = None, tz: str = "UTC",
                  limit: int = 50, offset: int = 0) -> dict:
    """Sessions newest first (by start), with the filters usage takes (days cut in ``tz``):
    ``sessions`` (id, source, project, started_at, ended_at, primary_model, prompts, messages,
    total_tokens and the first prompt, cut), ``total`` that match, ``next_offset`` (None on
    the last page)."""
    from .config import checked_timezone

    _page(limit, offset)
    con = connect(db_path, read_only=True)
    try:
        con.execute(f"SET TimeZone = '{checked_timezone(tz)}'")
        where = """
            WHERE ($sources::VARCHAR[] IS NULL OR list_contains($sources::VARCHAR[], s.source))
              AND ($project::VARCHAR IS NULL OR s.project = $project OR s.project_key = $project)
              AND ($since::DATE IS NULL OR CAST(s.started_at AS DATE) >= $since)
              AND ($until::DATE IS NULL OR CAST(s.started_at AS DATE) <= $until)
        """
        params = {"sources": sources, "project": project, "since": since, "until": until}
        total = con.execute(f"SELECT count(*) FROM sessions s {where}", params).fetchone()[0]
        rows = dict_rows(con.execute(
            f"""
            WITH page AS (
                SELECT s.id, s.source, s.project, s.started_at, s.ended_at, s.primary_model,
                       s.user_prompt_count, s.message_count, s.total_tokens
                FROM sessions s {where}
                ORDER BY s.started_at DESC NULLS LAST, s.id LIMIT $limit OFFSET $offset
            )
            SELECT p.*, (SELECT left(m.text, {PROMPT_CHARS}) FROM messages m
                         WHERE m.session_id = p.id AND m.role = 'user' AND m.kind = 'prompt'
                         ORDER BY m.ordinal LIMIT 1) AS first_prompt
            FROM page p ORDER BY p.started_at DESC NULLS LAST, p.id
            """,
            {**params, "limit": limit, "offset": offset},
        ))
    finally:
        con.close()
    for r in rows:
        r["started_at"], r["ended_at"] = _iso(r["started_at"]), _iso(r["ended_at"])
    return {"sessions": rows, "total": total, "next_offset": offset + len(rows) if offset + len(rows) < total else None}


def read_session(db_path: Path, session_id: str, offset: int = 0, limit: int = 50, max_chars: int = 2000,
                 roles: list[str] | None = None) -> dict:
    """One session's messages in order, a page at a time: ``session`` (as list_sessions gives
    it), ``messages`` (ordinal, role, kind, timestamp, tool_name, text cut to ``max_chars``
    with ``text_chars`` the full length), ``total`` messages (of these roles), ``next_offset``.
    An unknown session id is a ValueError."""
    _page(limit, offset)
    if not 1 <= max_chars <= MAX_TEXT_CHARS:
        raise ValueError(f"max_chars must be between 1 and {MAX_TEXT_CHARS}")
    con = connect(db_path, read_only=True)
    try:
        head = dict_rows(con.execute(
            """SELECT id, source, project, cwd, git_branch, started_at, ended_at, primary_model, user_prompt_count,
                      message_count, api_call_count, tool_call_count, total_tokens, parent_session_id, relation
               FROM sessions WHERE id = ?""", [session_id]))
        if not head:
            raise ValueError(f"no session {session_id!r} in the index (ids look like claude:<uuid>; list_sessions gives them)")
        filt = "AND ($roles::VARCHAR[] IS NULL OR list_contains($roles::VARCHAR[], role))"
        total = con.execute(f"SELECT count(*) FROM messages WHERE session_id = $id {filt}", {"id": session_id, "roles": roles}).fetchone()[0]
        messages = dict_rows(con.execute(
            f"""
            SELECT ordinal, role, kind, "timestamp", tool_name, left(text, $chars) AS text, length(text) AS text_chars, inherited
            FROM messages WHERE session_id = $id {filt}
            ORDER BY ordinal LIMIT $limit OFFSET $offset
            """,
            {"id": session_id, "roles": roles, "chars": max_chars, "limit": limit, "offset": offset},
        ))
    finally:
        con.close()
    session = head[0]
    session["started_at"], session["ended_at"] = _iso(session["started_at"]), _iso(session["ended_at"])
    for m in messages:
        m["timestamp"] = _iso(m["timestamp"])
    return {"session": session, "messages": messages, "total": total,
            "next_offset": offset + len(messages) if offset + len(messages) < total else None}
