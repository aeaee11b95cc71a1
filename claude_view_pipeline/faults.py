"""Named points where crash tests stop a real run (``CLAUDE_VIEW_PAUSE_AT=<point>``): the
process writes ``$CLAUDE_VIEW_PAUSE_FILE`` and waits there to be killed. Unset (always, in
normal use) a point costs one dictionary lookup."""

from __future__ import annotations

import os
import time

POINTS = ("after_discovery", "mid_parse", "before_commit", "after_commit")


def pause_point(name: str) -> None:
    if os.environ.get("CLAUDE_VIEW_PAUSE_AT") != name:
        return
    marker = os.environ.get("CLAUDE_VIEW_PAUSE_FILE")
    if marker:
        with open(marker, "w") as fh:
            fh.write(name)
    while True:  # until the test kills us
        time.sleep(0.1)
