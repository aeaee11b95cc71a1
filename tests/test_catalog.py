"""Every table the index writes says what each column holds, in the DuckDB schema (its
comments, which the Dagster catalog shows) and in docs/tables.md."""

import re

import duckdb
from helpers import REPO

from claude_view_pipeline.store import migrate
from claude_view_pipeline.store.catalog import (
    INDEX_TABLES,
    index_schema,
    rows_per_source,
)

DOCUMENTED = (*INDEX_TABLES, "daily_usage")


def test_every_column_has_a_comment():
    schema = index_schema()
    for name in DOCUMENTED:
        assert schema[name].description, name
        assert [c.name for c in schema[name].columns if not c.description] == [], name


def test_every_column_is_in_docs_tables_md():
    doc = (REPO / "docs" / "tables.md").read_text()
    headings = re.findall(r"^## (\w+)", doc, flags=re.M)
    assert set(DOCUMENTED) <= set(headings)
    mentioned = set(re.findall(r"`(\w+)`", doc))
    for name in DOCUMENTED:
        assert [c.name for c in index_schema()[name].columns if c.name not in mentioned] == [], name


def test_rows_per_source_reads_the_source_column():
    con = duckdb.connect()
    migrate(con)
    con.execute("INSERT INTO index_metrics VALUES ('r', now(), 'codex', 'pass1', 'ok', 'files', 1), "
                "('r', now(), 'codex', 'pass2', 'ok', 'files', 1), ('r', now(), 'claude', 'pass1', 'ok', 'files', 1)")
    assert rows_per_source(con, "index_metrics") == {"claude": 1, "codex": 2}
    assert rows_per_source(con, "sessions") == {} and rows_per_source(con, "rate_limits") == {}
