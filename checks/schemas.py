"""pandera (polars) schemas that guard source identity in the ``sessions`` table.

Kept free of Dagster so they can validate any frame (tests, notebooks)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from claude_view_pipeline.sources import SOURCE_NAMES

TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "output_tokens")


def _id_is_canonical(data) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col("id") == pl.concat_str([pl.col("source"), pl.lit(":"), pl.col("source_session_id")]))


def _total_is_sum(data) -> pl.LazyFrame:
    parts = pl.sum_horizontal([pl.col(c) for c in TOKEN_COLUMNS])
    return data.lazyframe.select(pl.col("total_tokens") == parts)


sessions_identity_schema = pa.DataFrameSchema(
    {
        "id": pa.Column(str, nullable=False, unique=True),
        "source": pa.Column(str, pa.Check.isin(list(SOURCE_NAMES)), nullable=False),
        "source_session_id": pa.Column(str, pa.Check.str_length(min_value=1), nullable=False),
        **{c: pa.Column(pl.Int64, pa.Check.ge(0), nullable=False) for c in (*TOKEN_COLUMNS, "total_tokens")},
    },
    checks=[
        pa.Check(_id_is_canonical, name="id_equals_source_colon_source_session_id"),
        pa.Check(_total_is_sum, name="total_tokens_equals_sum_of_parts"),
    ],
    unique=["source", "source_session_id"],
    name="sessions_identity",
)
