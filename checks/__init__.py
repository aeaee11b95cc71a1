"""Dagster asset checks over the index (thin: the checks themselves are claude_view_pipeline.integrity)."""
