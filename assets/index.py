"""The three pipeline stages as source-partitioned assets:
session_files (pass 1) -> parsed_sessions (pass 2) -> session_index (DuckDB tables)."""

import warnings

import dagster as dg

from claude_view_pipeline import pipeline
from claude_view_pipeline.config import parse_workers
from claude_view_pipeline.parse_worker import WorkerPool
from claude_view_pipeline.sources import SOURCE_NAMES, UnknownSourceError
from claude_view_pipeline.store.catalog import (
    INDEX_TABLES,
    index_schema,
    row_count_metadata,
    table_row_counts,
)

from orchestration.keys import SESSION_INDEX
from orchestration.resources import IndexSettings

source_partitions = dg.StaticPartitionsDefinition(list(SOURCE_NAMES))

# A backfill over both sources is one run, so the DuckDB file has one writer at a time.
# backfill_policy is marked beta; we rely on it deliberately, so its warning is not shown.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")
_single_run = dg.BackfillPolicy.single_run()
WRITER_POOL = "claude_view_index_writer"
GROUP = "session_index"

def partition_keys_from_tags(tags) -> list[str]:
    """The source partitions a run was launched for, as given (before Dagster checks them)."""
    if tags.get("dagster/partition"):
        return [tags["dagster/partition"]]
    start, end = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    if start is None or end is None:
        return []
    if start in SOURCE_NAMES and end in SOURCE_NAMES:
        return list(SOURCE_NAMES[SOURCE_NAMES.index(start) : SOURCE_NAMES.index(end) + 1])
    return [start] if start == end else [start, end]


def handoff_id(context: dg.AssetExecutionContext) -> str:
    """What a run's stages name their hand-offs by: the run's own id, or for a re-execution the
    id of the run it re-executes, so a load re-executed from failure reads the parse its
    original run staged (and no other run's)."""
    return context.run.root_run_id or context.run.run_id


def _keyed(context: dg.AssetExecutionContext, source, values: dict) -> dict:
    """Metadata of one source; prefixed with it when one run materializes both partitions."""
    if len(context.partition_keys) > 1:
        return {f"{source.value}/{k}": v for k, v in values.items()}
    return values


def _sources(context: dg.AssetExecutionContext, index: IndexSettings):
    # Check the launch's own partition tags first: a GraphQL launch accepts any key, and
    # our message (naming the valid sources) is clearer than Dagster's range error.
    keys = partition_keys_from_tags(context.run.tags) or context.partition_keys
    try:
        return [index.checked_source(key) for key in keys]
    except UnknownSourceError as exc:
        raise dg.Failure(str(exc)) from exc

@dg.asset(
    partitions_def=source_partitions,
    backfill_policy=_single_run,
    group_name=GROUP,
    kinds={"python", "parquet"},
    description=(
        "Pass 1: the source's session files under its roots, each fingerprinted by "
        "(path, size, mtime_ns) and compared with the index to find new and changed files."
    ),
)
def session_files(context: dg.AssetExecutionContext, index: IndexSettings) -> dg.MaterializeResult:
    metadata: dict = {}
    with index.failures_explained():
        for source in _sources(context, index):
            report = pipeline.stage_session_files(source, index.roots(source), index.resolved_db_path(), index.staging(), run_id=handoff_id(context))
            context.log.info(f"[{source.value}] {report.files_scanned} files: {report.new} new, {report.changed} changed, {report.missing} missing")
            metadata.update(_keyed(context, source, report.as_metadata()))
    return dg.MaterializeResult(metadata=metadata)


class ParseConfig(dg.Config):
    full_reindex: bool = False
    """Re-parse every file of the chosen sources, not only new and changed ones."""

@dg.asset(
    partitions_def=source_partitions,
    backfill_policy=_single_run,
    deps=[session_files],
    group_name=GROUP,
    kinds={"python", "parquet"},
    description=(
        "Pass 2: unified session and message records parsed from new/changed files "
        "(every file with full_reindex), plus each file's outcome and rejection reason."
    ),
)
def parsed_sessions(context: dg.AssetExecutionContext, config: ParseConfig, index: IndexSettings) -> dg.MaterializeResult:
    metadata: dict = {}
    progress = index.progress_printer(context)
    # one set of parse workers for every source of the run (started only if one needs them)
    with index.failures_explained(), WorkerPool(index.workers or parse_workers()) as pool:
        for source in _sources(context, index):
            r = pipeline.stage_parsed_sessions(
                source, index.staging(), full=config.full_reindex, progress=progress, run_id=handoff_id(context), pool=pool
            )
            for name, rejected in r.rejected.items():
                context.log.warning(f"[{source.value}] {rejected} file(s) rejected: {name}")
            metadata.update(_keyed(context, source, r.as_metadata()))
    return dg.MaterializeResult(metadata=metadata)

def column_schema(table: str) -> dg.TableSchema:
    """The catalog's column schema, generated from the DuckDB schema and its column comments."""
    return dg.TableSchema(columns=[
        dg.TableColumn(c.name, c.type, description=c.description, constraints=dg.TableColumnConstraints(nullable=c.nullable))
        for c in index_schema()[table].columns
    ])


def _table_spec(name: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        name,
        deps=[SESSION_INDEX],
        group_name=GROUP,
        kinds={"duckdb", "table"},
        partitions_def=source_partitions,
        description=f"Table `{name}` of the index: {index_schema()[name].description} Written by session_index.",
        metadata={"dagster/column_schema": column_schema(name)},
    )


@dg.multi_asset(
    name="session_index",
    specs=[
        dg.AssetSpec(
            "session_index",
            deps=[parsed_sessions],
            group_name=GROUP,
            kinds={"duckdb"},
            partitions_def=source_partitions,
            description=(
                "The DuckDB index (tables sessions, messages, indexed_files, index_metrics). Each "
                "source partition replaces only its own rows, in one transaction."
            ),
        ),
        *(_table_spec(t) for t in INDEX_TABLES),
    ],
    partitions_def=source_partitions,
    backfill_policy=_single_run,
    pool=WRITER_POOL,
    # Any selection (session_index alone, one table) rewrites the source partition's rows of all
    # four tables in one transaction; it reports the assets that were selected.
    can_subset=True,
)
def session_index(context: dg.AssetExecutionContext, index: IndexSettings):
    db = index.resolved_db_path()
    metadata: dict = {"db_path": dg.MetadataValue.path(str(db))}
    sources = _sources(context, index)
    with index.failures_explained():
        for source in sources:
            r = pipeline.load_session_index(
                source, index.staging(), db, run_id=context.run.run_id, handoff_id=handoff_id(context),
                live=context.run.tags.get("claude_view/trigger") == "sensor",
            )
            metadata.update(_keyed(context, source, r.as_metadata()))
    selected = context.selected_asset_keys
    if SESSION_INDEX in selected:
        yield dg.MaterializeResult(asset_key=SESSION_INDEX, metadata=metadata)
    tables = [t for t in INDEX_TABLES if dg.AssetKey(t) in selected]
    if tables:
        counts = table_row_counts(db)
        for table in tables:
            yield dg.MaterializeResult(asset_key=table, metadata=row_count_metadata(counts[table], [s.value for s in sources]))


index_assets = [session_files, parsed_sessions, session_index]

index_job = dg.define_asset_job(
    name="index_sessions",
    selection=dg.AssetSelection.assets(*index_assets),
    description="Discover, parse and index session files for the selected source partitions.",
)
