"""claude-view-pipeline core: discovery, parsers and the DuckDB store.

Nothing in this package imports Dagster; the Dagster layer lives in the top-level
``assets`` and ``checks`` packages and calls into this one.
"""

__version__ = "0.1.0"
