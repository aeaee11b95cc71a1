"""Fixtures shared by the tests."""

import os
from pathlib import Path

import pytest

from claude_view_pipeline.config import SETTING_PREFIXES


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty HOME with no Claude/Codex env vars: nothing leaks in from the machine."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    for k in list(os.environ):
        if k.startswith(SETTING_PREFIXES):
            monkeypatch.delenv(k)
    return h

