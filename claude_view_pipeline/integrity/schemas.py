"""The pandera (polars) schemas that declare what each integrity check (``__init__.py``)
holds the rows to, and validating a frame against one. Imported only when a check has rows
to judge; no Dagster import."""

from __future__ import annotations

import pandera.errors
import pandera.polars as pa
import polars as pl

from claude_view_pipeline.sources import SOURCE_NAMES

from . import CHECKS_BY_NAME, TOKEN_COLUMNS, CheckOutcome, IndexCheck

__all__ = ["SCHEMAS", "validate", "validate_batches"]


def _frame_check(name: str, fn) -> pa.Check:
    return pa.Check(lambda data: data.lazyframe.select(fn()), name=name)


def _not_blank(data) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col(data.key).str.strip_chars().str.len_chars() > 0)


SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "sessions_source_valid": pa.DataFrameSchema({"source": pa.Column(str, pa.Check.isin(list(SOURCE_NAMES)), nullable=False)}),
    "sessions_source_session_id_present": pa.DataFrameSchema(
        {"source_session_id": pa.Column(str, pa.Check(_not_blank, name="not_blank"), nullable=False)}),
    "sessions_id_canonical": pa.DataFrameSchema(
        {"id": pa.Column(str, nullable=False)},
        checks=[_frame_check("id_equals_source_colon_source_session_id",
                             lambda: pl.col("id") == pl.concat_str([pl.col("source"), pl.lit(":"), pl.col("source_session_id")]))]),
    "sessions_id_unique": pa.DataFrameSchema({"id": pa.Column(str, unique=True, nullable=False)}),
    "sessions_source_session_id_unique": pa.DataFrameSchema(
        {"source": pa.Column(str, nullable=True), "source_session_id": pa.Column(str, nullable=True)},
        unique=["source", "source_session_id"]),
    # NULL is "not known" (rows a v1 index wrote without usage); what is known must add up
    "sessions_tokens_consistent": pa.DataFrameSchema(
        {c: pa.Column(pl.Int64, pa.Check.ge(0), nullable=True) for c in (*TOKEN_COLUMNS, "total_tokens")},
        checks=[_frame_check("total_tokens_equals_sum_of_parts",
                             lambda: pl.any_horizontal([pl.col(c).is_null() for c in (*TOKEN_COLUMNS, "total_tokens")])
                             | (pl.col("total_tokens") == pl.sum_horizontal([pl.col(c) for c in TOKEN_COLUMNS])))]),
    "messages_reference_sessions": pa.DataFrameSchema({"session_exists": pa.Column(bool, pa.Check.eq(True), nullable=False)}),
    # which sources are allowed depends on the run: validate() adds the isin check
    "partition_writes_own_source": pa.DataFrameSchema({"source": pa.Column(str, nullable=False)}),
}
assert set(SCHEMAS) == set(CHECKS_BY_NAME)


def validate_batches(check: IndexCheck, batches, sources: list[str] | None = None) -> CheckOutcome:
    """Validate the rows of an Arrow record batch reader batch by batch (bounded memory);
    the failures of every batch together."""
    outcomes = [validate(check, pl.from_arrow(batch), sources) for batch in batches]
    if not outcomes:
        return CheckOutcome(True, 0)
    failed = [o for o in outcomes if not o.passed]
    if not failed:
        return CheckOutcome(True, sum(o.rows_checked for o in outcomes))
    return CheckOutcome(False, sum(o.rows_checked for o in outcomes),
                        pl.concat([o.failures for o in failed], how="diagonal_relaxed"),
                        pl.concat([o.failing_rows for o in failed], how="diagonal_relaxed"))


def validate(check: IndexCheck, frame: pl.DataFrame, sources: list[str] | None = None) -> CheckOutcome:
    schema = SCHEMAS[check.name]
    if check.name == "partition_writes_own_source":
        schema = schema.update_column("source", checks=[pa.Check.isin(list(sources or []))])
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as err:
        cases = err.failure_cases
        rows = sorted({i for i in cases["index"].to_list() if i is not None})
        return CheckOutcome(False, frame.height, cases, frame[rows])
    return CheckOutcome(True, frame.height, frame.head(0), frame.head(0))
