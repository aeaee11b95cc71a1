"""Named points where crash tests stop a real run (``CLAUDE_VIEW_PAUSE_AT=<point>``): the
process writes ``$CLAUDE_VIEW_PAUSE_FILE`` and waits there to be killed; or where a run fails
(``CLAUDE_VIEW_FAIL_AT=<point>``), as a disk or a lock would make it fail. Unset (always, in
normal use) a point costs one dictionary lookup."""

from __future__ import annotations

import time

from .config import pause_at

POINTS = ("after_discovery", "mid_parse", "before_commit", "after_commit")


class InjectedFault(RuntimeError):
    """The failure a test asked for at a named point."""


def pause_point(name: str) -> None:
    point, marker, fail = pause_at()
    if fail == name:
        raise InjectedFault(f"failed at {name}, as CLAUDE_VIEW_FAIL_AT asked")
    if point != name:
        return
    if marker:
        with open(marker, "w") as fh:
            fh.write(name)
    while True:  # until the test kills us
        time.sleep(0.1)
