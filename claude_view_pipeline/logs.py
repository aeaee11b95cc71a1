"""Structured logs of the pipeline: one event per file outcome, with source, session id,
file path, parser, stage and result. JSON lines (``CLAUDE_VIEW_LOG_FORMAT=json`` or the
CLI's ``--log-format json``) for machines, or one readable line per event (``human``)."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone

from .output import json_text, safe

LOGGER_NAME = "claude_view_pipeline"
FIELDS = ("source", "session_id", "file_path", "parser", "stage", "result")
FORMATS = ("human", "json")


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            **{k: getattr(record, k, None) for k in FIELDS},
        }
        detail = getattr(record, "detail", None)
        if detail:
            event["detail"] = detail
        return json_text(event, indent=False)


def describe(record: logging.LogRecord) -> str:
    """One event with its particulars on one line (stderr, and a Dagster run's event log);
    what came from a session file (its path, its session id) escaped, never raw."""
    parts = [f"[{getattr(record, 'source', '-')}/{getattr(record, 'stage', '-')}] {record.getMessage()}"]
    for k in ("result", "session_id", "file_path"):
        v = getattr(record, k, None)
        if v:
            parts.append(f"{k}={v}")
    if getattr(record, "detail", None):
        parts.append(f"({record.detail})")
    return safe(" ".join(parts))


class HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {describe(record)}"


def configure(fmt: str | None = None, level: int = logging.WARNING, stream=None) -> logging.Logger:
    """Send the pipeline's events to stderr in the chosen format (default from the env)."""
    from .config import log_format

    fmt = (fmt or log_format()).lower()
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r}: use one of {', '.join(FORMATS)}")
    logger = logging.getLogger(LOGGER_NAME)
    for h in list(logger.handlers):
        logger.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLineFormatter() if fmt == "json" else HumanFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger


def log_event(level: int, message: str, **fields) -> None:
    logging.getLogger(LOGGER_NAME).log(level, message, extra={k: fields.get(k) for k in (*FIELDS, "detail")})
