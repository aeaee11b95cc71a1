"""The code location: the one Definitions object workspace.yaml points at."""

from __future__ import annotations

import dagster as dg

from checks.index_checks import index_checks

from .index import index_assets, index_job
from .resources import IndexSettings

defs = dg.Definitions(
    assets=index_assets,
    asset_checks=index_checks,
    jobs=[index_job],
    resources={"index": IndexSettings()},
)
