"""Pass 2: one module per source (its SPEC, discovery and parser), every parser behind one
function shape ``parse_file(path, sink=None) -> FileParse``. The parser is chosen by the root
a file was found under, and the parser itself confirms the content (see sniff.py)."""

from __future__ import annotations

import time

from ..sources import Source, module
from .base import REJECT_IO_ERROR, REJECT_LINE_TOO_LARGE, FileParse, LineTooLarge, Message, MessageSink, Session


def parse_file(source: Source, path: str, sink: MessageSink | None = None) -> FileParse:
    """Parse one file with its source's parser (with a sink, its messages stream out while the
    file is read, in bounded memory). Never raises for bad input: an unreadable file is an ``io_error`` rejection,
    a parser bug on odd input is a ``parse_error``."""
    started = time.perf_counter()
    try:
        result = module(source).parse_file(path, sink=sink)
    except OSError as exc:
        result = FileParse(source, path, rejection=REJECT_IO_ERROR, detail=f"{type(exc).__name__}: {exc}")
    except LineTooLarge as exc:  # this file alone: the run goes on
        result = FileParse(source, path, rejection=REJECT_LINE_TOO_LARGE, detail=str(exc))
    except Exception as exc:  # noqa: BLE001 - one odd file must not lose the run
        result = FileParse(source, path, rejection="parse_error", detail=f"{type(exc).__name__}: {exc}")
    result.parse_ms = (time.perf_counter() - started) * 1000
    return result


__all__ = ["FileParse", "Message", "MessageSink", "Session", "parse_file"]
