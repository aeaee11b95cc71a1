"""pandera schemas for the index tables and the Dagster asset checks that run them."""
