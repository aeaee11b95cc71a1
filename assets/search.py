"""Full-text search as an asset downstream of the index: the SQLite FTS5 file beside the
DuckDB index that `search` and the MCP server query, kept current per source partition."""

import dagster as dg

from claude_view_pipeline import search
from orchestration.keys import SESSION_INDEX
from orchestration.resources import IndexSettings

from .index import WRITER_POOL, source_partitions
from .usage import INDEX_CHECKS_PASSED

# Per source partition: after that source's partition of the index was written (eager waits
# for its own dependency partitions only, so a source never indexed holds nothing back), and
# while no blocking check of the index failed.
REFRESH_AFTER_ITS_PARTITION = (dg.AutomationCondition.eager() & INDEX_CHECKS_PASSED).with_label(
    "eager per source, while no blocking check of the index failed"
)


@dg.asset(
    partitions_def=source_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["messages", SESSION_INDEX],
    group_name="search",
    automation_condition=REFRESH_AFTER_ITS_PARTITION,
    kinds={"sqlite", "python"},
    # it reads DuckDB, which a writer holds alone
    pool=WRITER_POOL,
    description=(
        "The search index: every message with text (prompts, answers, reasoning, tool calls and results), "
        "full-text indexed with SQLite FTS5 in <index>.search.sqlite. A source partition rewrites the documents "
        "of that source's sessions that changed since it last ran; a missing or damaged file is built again "
        "from the DuckDB index. What `claude-view-pipeline search` and the MCP server query."
    ),
)
def search_index(context: dg.AssetExecutionContext, index: IndexSettings) -> dg.MaterializeResult:
    db = index.resolved_db_path()
    sources = list(context.partition_keys)
    with index.failures_explained():
        report = search.sync(db, sources)
    context.log.info(
        f"{', '.join(sources)}: {report.sessions_written} session(s) rewritten ({report.documents_written} messages), "
        f"{report.sessions_dropped} dropped" + (f"; built from nothing ({report.reason})" if report.rebuilt else "")
    )
    return dg.MaterializeResult(metadata={
        "dagster/row_count": report.documents,
        "path": dg.MetadataValue.path(str(report.path)),
        "sessions_written": report.sessions_written,
        "sessions_dropped": report.sessions_dropped,
        "documents_written": report.documents_written,
        "rebuilt": report.rebuilt,
        "seconds": round(report.seconds, 3),
    })
