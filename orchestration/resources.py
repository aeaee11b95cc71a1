"""The resources: where the index lives and which roots to scan (IndexSettings), and the team
store (TeamStore)."""


import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Optional

import dagster as dg
from pydantic import Field

from claude_view_pipeline.config import Settings, flag_as_set
from claude_view_pipeline.sources import Source, parse_source
from claude_view_pipeline.staging import StagingArea


class IndexSettings(dg.ConfigurableResource):
    """Unset fields fall back to the environment (CLAUDE_VIEW_DB, each source's directory
    settings, ENABLE_<SOURCE>_SOURCE; see docs/configuration.md)."""

    # described, so the launchpad and the resource's page say what each field does and what an
    # unset one falls back to
    db_path: Optional[str] = Field(default=None, description=(
        "The DuckDB index file. Unset: $CLAUDE_VIEW_DB, else $XDG_DATA_HOME/claude-view-pipeline/index.duckdb."))
    dirs: Dict[str, str] = Field(default={}, description=(
        "Source name -> a directory to read that source from instead of its settings "
        "(the --<source>-dir of the command line)."))
    workers: int = Field(default=0, description="Parser processes for large runs; 0: $CLAUDE_VIEW_WORKERS, else one per core.")
    show_progress: bool = Field(default=False, description="A live progress line on stderr (the command line turns it on).")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        from claude_view_pipeline import logs
        from claude_view_pipeline.privacy import owner_only_umask

        owner_only_umask()  # the index, hand-offs and chart a run writes are private
        logger = logging.getLogger(logs.LOGGER_NAME)
        if not logger.handlers:
            logs.configure()  # file-level events (rejections, malformed lines) on the run's stderr
        # ... and in the run's event log, where Dagster users look
        self._run_log = _RunLogHandler(context.log, logs.describe)
        logger.addHandler(self._run_log)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        from claude_view_pipeline import logs

        logging.getLogger(logs.LOGGER_NAME).removeHandler(self._run_log)

    def settings(self) -> Settings:
        return Settings.from_env()

    def resolved_db_path(self) -> Path:
        return Path(self.db_path).expanduser() if self.db_path else self.settings().db_path

    def staging(self) -> StagingArea:
        return StagingArea.beside(self.resolved_db_path())

    def roots(self, source: Source) -> list[Path]:
        return self.settings().roots_for(source, self.dirs.get(source.value))

    def checked_source(self, partition_key: str) -> Source:
        """The partition's source, refusing unknown or disabled ones before any work
        (a GraphQL launch accepts any partition key, so the asset must check)."""
        source = parse_source(partition_key)
        settings = self.settings()
        if not settings.enabled.get(source, True):
            raise dg.Failure(f"source {source.value!r} is disabled ({flag_as_set(source)}); its rows are kept, nothing is indexed")
        return source

    @contextmanager
    def failures_explained(self):
        """A step that fails says why in one line that names the fix (the traceback stays in
        the event's details)."""
        from claude_view_pipeline.errors import explain

        try:
            yield
        except dg.Failure:
            raise
        except Exception as exc:
            raise dg.Failure(explain(exc, self.resolved_db_path())) from exc

    def progress_printer(self, context: dg.AssetExecutionContext):
        step = {}

        def report(source: Source, done: int, total: int) -> None:
            if self.show_progress and sys.stderr.isatty():
                sys.stderr.write(f"\r  [{source.value}] parsing {done}/{total} files")
                if done == total:
                    sys.stderr.write("\n")
                sys.stderr.flush()
            tenth = (10 * done) // max(total, 1)
            if tenth != step.get(source):
                step[source] = tenth
                context.log.info(f"[{source.value}] parsed {done}/{total} files")

        return report


class _RunLogHandler(logging.Handler):
    """Hands the pipeline's own log records to a Dagster run's logger."""

    def __init__(self, run_log, describe):
        super().__init__()
        self._run_log, self._describe = run_log, describe

    def emit(self, record: logging.LogRecord) -> None:
        self._run_log.log(record.levelno, self._describe(record))


class TeamStore(dg.ConfigurableResource):
    """The team store of CLAUDE_VIEW_TEAM_CATALOG and CLAUDE_VIEW_TEAM_DATA."""

    def env(self):
        from claude_view_pipeline import team

        return team.TeamEnv.from_env()
