"""Checks on the team store, per (host, source) partition: every session is there once, and
the partition holds exactly what that machine's last push wrote."""

import dagster as dg

from claude_view_pipeline import team
from orchestration.keys import TEAM_SESSIONS, host_source
from orchestration.resources import TeamStore


@dg.asset_check(asset=TEAM_SESSIONS, blocking=True,
                description="No (host, source, source_session_id) appears twice in the team store.")
def team_identity_unique(store: TeamStore) -> dg.AssetCheckResult:
    dupes = team.duplicate_identities(store.env())
    return dg.AssetCheckResult(passed=not dupes, metadata={"duplicates": len(dupes), "examples": ", ".join(dupes[:5]) or "none"})


@dg.asset_check(asset=TEAM_SESSIONS, blocking=True,
                description="The partition's sessions and tokens equal what its machine's last push wrote.")
def team_totals_match_last_push(context: dg.AssetCheckExecutionContext, store: TeamStore) -> dg.AssetCheckResult:
    host, source = host_source(context)
    env = store.env()
    held = team.partition_totals(env, host, source)
    push = team.latest_pushes(env).get((host, source))
    pushed = (push.sessions, push.total_tokens) if push else (0, 0)
    return dg.AssetCheckResult(passed=held == pushed, metadata={
        "sessions_held": held[0], "sessions_pushed": pushed[0], "tokens_held": held[1], "tokens_pushed": pushed[1]})


team_checks = [team_identity_unique, team_totals_match_last_push]
