"""What one index run did, per source: read back from the staged manifests and the index."""

from __future__ import annotations

from pathlib import Path

from .sources import Source
from .staging import StagingArea, read_manifest
from .store import connect

TOKEN_KEYS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "reasoning_tokens", "total_tokens")


def run_summary(db_path: Path, sources: list[Source], run_id: str) -> dict:
    staging = StagingArea.beside(db_path)
    out: dict = {"db_path": str(db_path), "run_id": run_id, "sources": {}}
    con = connect(db_path, read_only=True)
    try:
        for source in sources:
            s = source.value
            files = read_manifest(staging.find(source, "files", run_id))
            parsed = read_manifest(staging.find(source, "parsed", run_id))
            sessions, messages, *tokens = con.execute(
                "SELECT count(*), (SELECT count(*) FROM messages WHERE source = $s), "
                + ", ".join(f"coalesce(sum({k}), 0)" for k in TOKEN_KEYS)
                + " FROM sessions WHERE source = $s",
                {"s": s},
            ).fetchone()
            rejected: dict[str, dict] = {}
            for reason, n, examples in con.execute(
                "SELECT reason, count(*), list(path ORDER BY path)[1:3] FROM indexed_files"
                " WHERE source = $s AND run_id = $r AND status = 'rejected' GROUP BY reason ORDER BY reason",
                {"s": s, "r": run_id},
            ).fetchall():
                rejected[reason] = {"files": n, "examples": examples}
            out["sources"][s] = {
                "files_scanned": files["files_scanned"],
                "files_new": files["new"],
                "files_changed": files["changed"],
                "files_unchanged": files["unchanged"],
                "files_missing": files["missing"],
                "files_parsed": parsed["files_parsed"],
                "lines_malformed": parsed["lines_malformed"],
                "files_rejected": rejected,
                "sessions": sessions,
                "messages": messages,
                "tokens": dict(zip(TOKEN_KEYS, (int(t) for t in tokens))),
            }
    finally:
        con.close()
    return out


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
        return out
    finally:
        con.close()
