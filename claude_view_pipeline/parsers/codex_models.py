"""The model a Codex release used when none was configured: what a call is assumed to have
run on when its rollout never names a model.

Codex wrote `token_count` events (from PR openai/codex#3380, 2025-09-09) two days before it
wrote the model (`turn_context`, PR #3444, 2025-09-11), so rollouts of 0.34.0 (and of source
builds of that week, `cli_version` 0.0.0) hold tokens and no model. Each entry is the first
release with that default and the day it was first published; a rollout is matched by its
`cli_version`, else (a source build) by its date. From 2026-01-23 the default comes from the
server's model list, and the last entry stands for every later release.
"""

from __future__ import annotations

import re
from datetime import date, datetime

# (first release, first published, default model, where it was set in openai/codex)
DEFAULT_MODELS: tuple[tuple[tuple[int, int, int], date, str, str], ...] = (
    ((0, 0, 0), date(2025, 8, 7), "gpt-5", "PR #1943: gpt-5 replaces codex-mini-latest (releases to 0.39.0)"),
    ((0, 40, 0), date(2025, 9, 23), "gpt-5-codex", "PR #4076 (0.40.0 to 0.58.0)"),
    ((0, 59, 0), date(2025, 11, 19), "gpt-5.1-codex", "PR #6652, #6922 (0.59.0 to 0.64.0)"),
    ((0, 65, 0), date(2025, 12, 4), "gpt-5.1-codex-max", "PR #7566 (0.65.0 to 0.73.0)"),
    ((0, 74, 0), date(2025, 12, 18), "gpt-5.2-codex", "PR #8209, #9188 (0.74.0 on; the server's list after 2026-01-23)"),
)

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


def default_model(cli_version: str | None, at: datetime | None) -> str:
    """The model a rollout of this release (or, for a source build, of this day) ran on when
    none was configured."""
    m = _VERSION.match(cli_version or "")
    version = tuple(int(x) for x in m.groups()) if m else (0, 0, 0)
    if version != (0, 0, 0):
        return [model for first, _, model, _ in DEFAULT_MODELS if version >= first][-1]
    day = at.date() if at else None
    chosen = DEFAULT_MODELS[0][2]
    for _, published, model, _ in DEFAULT_MODELS:
        if day is not None and day >= published:
            chosen = model
    return chosen
