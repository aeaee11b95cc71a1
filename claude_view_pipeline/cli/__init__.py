"""``claude-view-pipeline``: the command line, one module per group of commands (indexing
and status, usage, asking the index (search, mcp), team, admin), every table and line printed through ``output``.

``index`` runs the same stage functions and integrity checks as the Dagster assets, directly
(no Dagster run, no Dagster import); with DAGSTER_HOME set, a run that changed the index is
recorded in that Dagster instance so the UI shows it. ``usage`` brings the index up to date
the same way before it answers. Arguments and settings are checked before any work.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..config import ConfigError, Settings
from ..output import err
from ..privacy import owner_only_umask
from . import admin, ask, indexing, team, usage
from .common import EXIT_FAILED, CliError, explain_failure, fail


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="claude-view-pipeline",
                                description="Index coding-agent session logs into one DuckDB file, and ask it where the tokens and the money go.")
    p.add_argument("--debug", action="store_true", help="show the full traceback when the command fails")
    sub = p.add_subparsers(dest="command", required=True)
    for group in (indexing, usage, ask, team, admin):
        group.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    owner_only_umask()  # everything a command writes (index, backups, hand-offs, metrics) is private
    try:
        Settings.from_env()  # a bad setting stops every command before any work (exit 2)
        return args.run(args)
    except (ConfigError, CliError) as exc:
        return fail(str(exc))
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        # workers are stopped on the way out; an index write in progress is rolled back
        err("claude-view-pipeline: interrupted; the index keeps its last committed state")
        return 130
    except Exception as exc:  # noqa: BLE001 - a failure is one line naming the cause; the traceback with --debug
        if args.debug:
            raise
        err(f"claude-view-pipeline: {explain_failure(exc, args)} (--debug shows the traceback)")
        return EXIT_FAILED
