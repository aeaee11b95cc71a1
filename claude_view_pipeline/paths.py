"""File names as the index stores them. The index holds text (UTF-8); a file name that is
not valid UTF-8 (Python gives its undecodable bytes as lone surrogates) is stored with each
such byte written as ``\\xNN``, and opened again through the bytes that text stands for."""

from __future__ import annotations

import os
import re

_ESCAPED_BYTE = re.compile(rb"\\x([0-9a-f]{2})")


def text_path(path: str) -> str:
    """The path as storable text: itself when it is valid UTF-8, else with its undecodable
    bytes escaped."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")


def os_path(text: str) -> str | bytes:
    """The file a stored path names: the text itself, unless only the bytes its ``\\xNN``
    escapes stand for name a file (a name that is not UTF-8)."""
    if "\\x" not in text or os.path.lexists(text):
        return text
    return _ESCAPED_BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))
