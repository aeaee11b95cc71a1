"""Dagster layer: assets, resources, jobs. Thin wrappers over claude_view_pipeline."""
