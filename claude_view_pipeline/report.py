"""How a run and the index are shown: the index summary text, and what the index holds per source."""

from __future__ import annotations

from pathlib import Path

from .store import connect


def format_summary(summary: dict) -> str:
    lines = [f"index: {summary['db_path']}"]
    header = f"  {'source':<8}{'files':>8}{'parsed':>8}{'rejected':>10}{'sessions':>10}{'messages':>10}{'tokens':>16}"
    lines.append(header)
    for name, s in summary["sources"].items():
        rejected = sum(r["files"] for r in s["files_rejected"].values())
        lines.append(
            f"  {name:<8}{s['files_scanned']:>8}{s['files_parsed']:>8}{rejected:>10}{s['sessions']:>10}"
            f"{s['messages']:>10}{s['tokens']['total_tokens']:>16,}"
        )
    for name, s in summary["sources"].items():
        t = s["tokens"]
        lines.append(
            f"  {name} tokens: input {t['input_tokens']:,}, cache read {t['cache_read_tokens']:,}, "
            f"cache creation {t['cache_creation_tokens']:,}, output {t['output_tokens']:,}"
            + (f" (reasoning {t['reasoning_tokens']:,})" if t["reasoning_tokens"] else "")
        )
        if s["files_missing"]:
            lines.append(f"  {name}: {s['files_missing']} indexed file(s) no longer on disk (rows kept)")
        if s["lines_malformed"]:
            lines.append(f"  {name}: {s['lines_malformed']} malformed line(s) skipped")
        for reason, r in s["files_rejected"].items():
            lines.append(f"  {name}: {r['files']} file(s) rejected ({reason}), e.g. {r['examples'][0]}")
    checks = summary.get("checks", {})
    if checks:
        failed = sorted(name for name, passed in checks.items() if not passed)
        lines.append(f"checks: {len(checks) - len(failed)}/{len(checks)} passed" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return "\n".join(lines)


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
        return out
    finally:
        con.close()
