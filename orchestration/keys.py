"""The asset keys and partitions the checks hang on, named once."""

import dagster as dg

from claude_view_pipeline.sources import SOURCE_NAMES

SESSION_INDEX = dg.AssetKey("session_index")
TEAM_SESSIONS = dg.AssetKey("team_sessions")

host_partitions = dg.DynamicPartitionsDefinition(name="team_hosts")
team_partitions = dg.MultiPartitionsDefinition({"host": host_partitions, "source": dg.StaticPartitionsDefinition(list(SOURCE_NAMES))})


def host_source(context) -> tuple[str, str]:
    """The (host, source) of a team partition, from an asset's or a check's context."""
    key = context.partition_key
    if not isinstance(key, dg.MultiPartitionKey):
        key = team_partitions.get_partition_key_from_str(key)
    return key.keys_by_dimension["host"], key.keys_by_dimension["source"]
