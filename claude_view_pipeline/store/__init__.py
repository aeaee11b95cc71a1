"""The DuckDB index: connection (with bounded lock retry), migrations, partition writes."""

from .db import IndexLockedError, connect
from .migrate import migrate, pending_migrations
from .writer import PartitionWrite, write_partition

__all__ = ["IndexLockedError", "PartitionWrite", "connect", "migrate", "pending_migrations", "write_partition"]
