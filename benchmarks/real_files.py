"""Check the index against real session files that users committed to public repositories.

    .venv/bin/python -m benchmarks.real_files DIR [--source gemini] [--ccusage PATH]

The files themselves are not part of this repository (they belong to their authors); each
`benchmarks/real_files/<source>.json` names them (repository, commit, path, sha256) and says
where the agent would have written each one (`place_at`, relative to the directory its
override setting names), with every session's tokens derived by hand and what ccusage
20.0.24 reported. Download them to `DIR/<source>/<place_at>`; this indexes each source through
the real CLI into a scratch DuckDB, prints ours against the expected values (and ccusage's,
when given), and exits 1 on any difference from the expected values or a file whose bytes
are not the ones the manifest names.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import duckdb

from claude_view_pipeline.config import environ_without_settings

MANIFESTS = Path(__file__).resolve().parent / "real_files"
COLUMNS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens", "reasoning_tokens", "total_tokens")


def _index(source: str, override: str, data: Path, db: Path) -> dict:
    env = environ_without_settings({override: str(data), "HOME": str(db.parent / "home")})
    proc = subprocess.run([sys.executable, "-m", "claude_view_pipeline", "index", "--db", str(db), "--sources", source, "--json"],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{source}: index failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout)


def _ccusage(binary: str, source: str, override: str, data: Path, home: Path) -> dict[str, int]:
    proc = subprocess.run([binary, source, "session", "--json", "--offline"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", override: str(data), "HOME": str(home)})
    out = json.loads(proc.stdout or "{}")
    rows = out.get("sessions") or out.get("data") or []
    return {str(r.get("sessionId")): r.get("totalTokens") for r in rows if isinstance(r, dict)}


def check(manifest: dict, data: Path, ccusage: str | None) -> list[str]:
    source, override = manifest["source"], manifest["override"]
    problems = []
    for f in manifest["files"]:
        path = data / f["place_at"]
        if not path.is_file():
            problems.append(f"{source}: missing {f['place_at']} ({f['repo']}@{f['commit'][:10]}:{f['path']})")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != f["sha256"]:
            problems.append(f"{source}: {f['place_at']} is not the manifest's file (sha256 differs)")
    if problems:
        return problems
    with tempfile.TemporaryDirectory(prefix=f"cvp-real-{source}-") as tmp:
        db = Path(tmp) / "index.duckdb"
        (Path(tmp) / "home").mkdir()
        summary = _index(source, override, data, db)
        con = duckdb.connect(str(db), read_only=True)
        ours = {r[0]: r[1:] for r in con.execute(
            f"SELECT source_session_id, {', '.join(COLUMNS)} FROM sessions WHERE source = ?", [source]).fetchall()}
        con.close()
        theirs = _ccusage(ccusage, source, override, data, Path(tmp) / "home") if ccusage else {}
    rejected = summary["sources"][source]["files_rejected"]
    named = ", ".join(f"{reason} {r['files']}" for reason, r in rejected.items()) or "none"
    print(f"{source}: {len(manifest['files'])} files; rejected: {named}")
    print(f"  {'session':<40}{'ours total':>14}{'expected':>14}{'ccusage':>14}")
    for s in manifest["sessions"]:
        sid = s["source_session_id"]
        expected = tuple(s["expected"][c] for c in COLUMNS)
        got = ours.pop(sid, None)
        print(f"  {sid[:40]:<40}{(got[-1] if got else None)!s:>14}{expected[-1]!s:>14}{theirs.get(sid, s.get('ccusage_total_tokens'))!s:>14}"
              + (f"  ccusage: {s['ccusage_difference']}" if s.get("ccusage_difference") else ""))
        if got != expected:
            problems.append(f"{source}:{sid}: ours {got}, expected {expected} ({', '.join(COLUMNS)})")
    problems += [f"{source}:{sid}: indexed but not in the manifest" for sid in ours]
    want = Counter(r["reason"] for r in manifest.get("rejected", []))
    got = {reason: r["files"] for reason, r in rejected.items()}
    if got != want:
        problems.append(f"{source}: rejected files by reason {got}, expected {dict(want)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir", type=Path, help="holds <source>/<place_at> for every manifest's files")
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--ccusage", help="a ccusage 20.0.24 binary to print its totals beside ours")
    a = p.parse_args(argv)
    problems = []
    for path in sorted(MANIFESTS.glob("*.json")):
        manifest = json.loads(path.read_text())
        if a.source and manifest["source"] not in a.source:
            continue
        problems += check(manifest, a.dir / manifest["source"], a.ccusage)
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
