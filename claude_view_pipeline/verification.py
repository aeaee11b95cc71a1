"""The verification report: how well the index reflects the session files, per source, as
a few statistics with pass/fail thresholds.

- parse_success_rate: files that yielded a session / files that should have (rejections for
  io_error, parse_error, not_a_session_log count against it; an empty file, a file of the
  other source and a second copy of an indexed session do not), with a Wilson 95% interval;
- session_id_match_rate: sessions whose source_session_id is the id their file is named by;
- unknown_event_ratio: line/payload types the parsers do not know / lines parsed;
- idempotency_diff_count: sessions whose file is unchanged since the baseline but whose
  content is not;
- duplicate_identity_conflicts: canonical ids held twice, or not equal to source:id;
- kind_psi: population stability index of the message-kind distribution vs the baseline
  (drift in what the logs contain).
The baseline is the last report of an earlier day (UTC): a report compares with yesterday's
when the report runs daily, however often it runs in between. Thresholds: success >= 99.5%,
unknown ratio <= 1%, idempotency diff 0, duplicate conflicts 0; PSI above 0.25 is flagged as
drift."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import orjson

from .sources import SOURCE_NAMES, parse_source
from .store import connect, migrate

THRESHOLDS = {
    "parse_success_rate": (">=", 0.995),
    "unknown_event_ratio": ("<=", 0.01),
    "idempotency_diff_count": ("==", 0),
    "duplicate_identity_conflicts": ("==", 0),
    "kind_psi": ("<=", 0.25),
}
# drift is a warning: the logs changing shape is worth a look, not a broken index
WARNING_METRICS = ("kind_psi",)
FAILURE_REASONS = ("io_error", "parse_error", "not_a_session_log")
# the session columns whose change on an unchanged file is an idempotency failure
_CONTENT = ("id, source, source_session_id, file_path, parent_session_id, relation, is_sidechain, cwd, git_branch, "
            "started_at, ended_at, primary_model, message_count, user_prompt_count, api_call_count, tool_call_count, "
            "input_tokens, cache_read_tokens, cache_creation_tokens, output_tokens, reasoning_tokens, total_tokens, "
            "compaction_count, aborted_turn_count, inherited_records")


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (well-behaved near 0 and 1, small n)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)  # exact at the ends, no float crumbs
    return (lo, hi)


def psi(previous: dict[str, int], current: dict[str, int], floor: float = 1e-4) -> float | None:
    """Population stability index of two category counts; None without a baseline."""
    if not previous or not current:
        return None
    p_total, c_total = sum(previous.values()), sum(current.values())
    out = 0.0
    for k in set(previous) | set(current):
        p = max(previous.get(k, 0) / p_total, floor)
        c = max(current.get(k, 0) / c_total, floor)
        out += (c - p) * math.log(c / p)
    return out


def passes(metric: str, value: float | None) -> bool:
    if value is None:
        return True  # nothing to compare with yet (first report, or no files)
    op, limit = THRESHOLDS[metric]
    return {">=": value >= limit, "<=": value <= limit, "==": value == limit}[op]


@dataclass
class SourceReport:
    source: str
    files_expected: int = 0
    files_ok: int = 0
    parse_success_rate: float | None = None
    parse_success_ci95: tuple[float, float] = (0.0, 1.0)
    sessions: int = 0
    session_id_match_rate: float | None = None
    unknown_events: int = 0
    lines: int = 0
    unknown_event_ratio: float | None = None
    idempotency_diff_count: int = 0
    duplicate_identity_conflicts: int = 0
    kind_psi: float | None = None
    rejections: dict[str, int] = field(default_factory=dict)

    def failed(self) -> list[str]:
        """Thresholds that do not hold and fail the report."""
        return [m for m in THRESHOLDS if m not in WARNING_METRICS and not passes(m, getattr(self, m))]

    def warnings(self) -> list[str]:
        """Thresholds that do not hold and only warn (drift)."""
        return [m for m in WARNING_METRICS if not passes(m, getattr(self, m))]


@dataclass
class Report:
    report_id: str
    created_at: datetime
    sources: dict[str, SourceReport]
    baseline_day: date | None = None  # the day of the report the drift figures compare with

    def markdown(self) -> str:
        lines = ["# Index verification report", "", f"Report {self.report_id}, {self.created_at:%Y-%m-%d %H:%M:%S} UTC. "
                 "Thresholds: parse success >= 99.5%, unknown events <= 1%, idempotency diff 0, duplicate identity conflicts 0, "
                 "kind drift PSI <= 0.25. "
                 + (f"Drift and idempotency compare with the report of {self.baseline_day}." if self.baseline_day
                    else "No report of an earlier day yet: drift and idempotency have no baseline."), "",
                 "| source | parse success (95% CI) | session-id match | unknown events | idempotency diff | duplicate conflicts | kind PSI | verdict |",
                 "|---|---|---|---|---|---|---|---|"]
        for s in self.sources.values():
            pct = lambda v: "n/a" if v is None else f"{100 * v:.2f}%"  # noqa: E731
            lo, hi = s.parse_success_ci95
            failed, warned = s.failed(), s.warnings()
            verdict = "FAIL: " + ", ".join(failed + warned) if failed else ("warn: " + ", ".join(warned) if warned else "pass")
            lines.append(
                f"| {s.source} | {pct(s.parse_success_rate)} ({s.files_ok}/{s.files_expected}; {100 * lo:.2f}-{100 * hi:.2f}%) "
                f"| {pct(s.session_id_match_rate)} | {pct(s.unknown_event_ratio)} ({s.unknown_events}/{s.lines}) "
                f"| {s.idempotency_diff_count} | {s.duplicate_identity_conflicts} | {'n/a' if s.kind_psi is None else f'{s.kind_psi:.3f}'} "
                f"| {verdict} |")
        lines.append("")
        for s in self.sources.values():
            if s.rejections:
                lines.append(f"- {s.source} rejected files: " + ", ".join(f"{k} {v}" for k, v in sorted(s.rejections.items())))
        return "\n".join(lines) + "\n"


def build_report(db_path: Path, now: datetime | None = None) -> Report:
    """Compute the report from the index and store it; its snapshots become the baseline of
    the reports of later days. ``now`` (UTC) is the report's time; tests set it."""
    con = connect(db_path)
    try:
        migrate(con)
        report = Report(uuid.uuid4().hex, now or datetime.now(timezone.utc), {})
        today = report.created_at.date()
        report.baseline_day = con.execute(
            "SELECT max(taken_on) FROM verification_kind_snapshot WHERE taken_on < ?", [today]).fetchall()[0][0]
        base = report.baseline_day
        for source in SOURCE_NAMES:
            s = SourceReport(source)
            outcomes = dict(con.execute(
                "SELECT coalesce(reason, 'ok'), count(*) FROM indexed_files WHERE source = ? AND NOT missing GROUP BY ALL", [source]).fetchall())
            s.rejections = {k: v for k, v in outcomes.items() if k != "ok"}
            s.files_ok = outcomes.get("ok", 0)
            s.files_expected = s.files_ok + sum(outcomes.get(r, 0) for r in FAILURE_REASONS)
            if s.files_expected:
                s.parse_success_rate = s.files_ok / s.files_expected
                s.parse_success_ci95 = wilson_interval(s.files_ok, s.files_expected)
            rows = con.execute("SELECT source_session_id, file_path, unknown_types FROM sessions WHERE source = ?", [source]).fetchall()
            s.sessions = len(rows)
            # of the sessions whose file names a session (a file of many sessions names none)
            id_from_path = parse_source(source).spec.id_from_path
            named = [(sid, id_from_path(path) if path else "") for sid, path, _ in rows]
            named = [(sid, expected) for sid, expected in named if expected is not None]
            if named:
                s.session_id_match_rate = sum(1 for sid, expected in named if expected == sid) / len(named)
            s.unknown_events = sum(sum(orjson.loads(u).values()) for _, _, u in rows if u)
            s.lines = con.execute("SELECT coalesce(sum(lines_ok), 0) FROM indexed_files WHERE source = ? AND status = 'indexed'", [source]).fetchone()[0]
            s.unknown_event_ratio = s.unknown_events / s.lines if s.lines else None
            s.idempotency_diff_count = con.execute(
                f"""SELECT count(*) FROM (SELECT id, file_size, file_mtime_ns, hash({_CONTENT}) AS h FROM sessions WHERE source = $s) cur
                    JOIN verification_session_snapshot prev ON prev.source = $s AND prev.session_id = cur.id AND prev.taken_on = $base
                    WHERE prev.file_size IS NOT DISTINCT FROM cur.file_size AND prev.file_mtime_ns IS NOT DISTINCT FROM cur.file_mtime_ns
                      AND prev.content_hash <> cur.h""", {"s": source, "base": base}).fetchone()[0]
            s.duplicate_identity_conflicts = con.execute(
                """SELECT (SELECT count(*) - count(DISTINCT id) FROM sessions WHERE source = $s)
                        + (SELECT count(*) - count(DISTINCT source_session_id) FROM sessions WHERE source = $s)
                        + (SELECT count(*) FROM sessions WHERE source = $s AND id <> source || ':' || source_session_id)""",
                {"s": source}).fetchone()[0]
            previous = dict(con.execute(
                "SELECT kind, n FROM verification_kind_snapshot WHERE source = ? AND taken_on = ?", [source, base]).fetchall())
            current = dict(con.execute("SELECT coalesce(kind, role), count(*) FROM messages WHERE source = ? GROUP BY ALL", [source]).fetchall())
            s.kind_psi = psi(previous, current)
            report.sources[source] = s

        con.execute("BEGIN TRANSACTION")
        for s in report.sources.values():
            values = {"parse_success_rate": s.parse_success_rate, "parse_success_ci95_low": s.parse_success_ci95[0],
                      "parse_success_ci95_high": s.parse_success_ci95[1], "session_id_match_rate": s.session_id_match_rate,
                      "unknown_event_ratio": s.unknown_event_ratio, "idempotency_diff_count": s.idempotency_diff_count,
                      "duplicate_identity_conflicts": s.duplicate_identity_conflicts, "kind_psi": s.kind_psi,
                      "files_expected": s.files_expected, "sessions": s.sessions}
            con.executemany("INSERT INTO verification_reports VALUES (?, ?, ?, ?, ?)",
                            [[report.report_id, report.created_at, s.source, k, v] for k, v in values.items()])
        # keep the baseline day's snapshot and today's (this report's, replacing today's earlier one)
        for table in ("verification_session_snapshot", "verification_kind_snapshot"):
            con.execute(f"DELETE FROM {table} WHERE taken_on IS DISTINCT FROM $base", {"base": base})
        con.execute(f"INSERT INTO verification_session_snapshot SELECT source, id, file_size, file_mtime_ns, hash({_CONTENT}), $today FROM sessions",
                    {"today": today})
        con.execute("INSERT INTO verification_kind_snapshot SELECT source, coalesce(kind, role), count(*), $today FROM messages GROUP BY ALL",
                    {"today": today})
        con.execute("COMMIT")
        return report
    finally:
        con.close()
