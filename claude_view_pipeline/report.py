"""What the index holds, per source (``status``)."""

from __future__ import annotations

from pathlib import Path

from .store import connect


def index_status(db_path: Path) -> dict:
    """Schema version and, per source, what the index holds (read-only)."""
    from .sources import SOURCE_NAMES
    from .store.migrate import applied_versions

    con = connect(db_path, read_only=True)
    try:
        versions = applied_versions(con)
        out: dict = {"db_path": str(db_path), "schema_version": max(versions, default=0), "sources": {}}
        for s in SOURCE_NAMES:
            sessions, tokens, last = con.execute(
                "SELECT count(*), coalesce(sum(total_tokens), 0), max(indexed_at) FROM sessions WHERE source = ?", [s]
            ).fetchone()
            messages = con.execute("SELECT count(*) FROM messages WHERE source = ?", [s]).fetchone()[0]
            rejected, missing = con.execute(
                "SELECT count(*) FILTER (WHERE status <> 'indexed'), count(*) FILTER (WHERE missing) FROM indexed_files WHERE source = ?", [s]
            ).fetchone()
            out["sources"][s] = {"sessions": sessions, "messages": messages, "total_tokens": int(tokens),
                                 "files_rejected": rejected, "files_missing": missing, "last_indexed_at": last}
        out["projects"] = [
            {"project": name, "project_key": key, "sessions": n}
            for name, key, n in con.execute(
                # a key's display name is its first spelling, as in usage
                "SELECT min(project), project_key, count(*) FROM sessions WHERE project_key IS NOT NULL"
                " GROUP BY project_key ORDER BY count(*) DESC, min(project), project_key"
            ).fetchall()
        ] if 9 in versions else []  # an index not yet migrated has no project keys
        out["unpriced_models"] = unpriced_models(con)
        return out
    finally:
        con.close()


def unpriced_models(con) -> list[dict]:
    """The models (with their source and recorded provider) genai-prices has no price for,
    and their tokens: what every cost leaves out."""
    from .pricing import priced_keys

    rows = con.execute(
        """
        SELECT source, coalesce(model_provider, '') AS provider, model,
               sum(coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0) + coalesce(cache_creation_tokens, 0)
                   + coalesce(output_tokens, 0))::BIGINT AS tokens
        FROM messages WHERE api_call AND NOT inherited GROUP BY ALL ORDER BY tokens DESC, source, model
        """
    ).fetchall()
    priced = priced_keys(con, [(source, provider, model) for source, provider, model, _ in rows])
    return [{"source": source, "provider": provider or None, "model": model, "tokens": tokens}
            for source, provider, model, tokens in rows if (source, provider, model) not in priced]
