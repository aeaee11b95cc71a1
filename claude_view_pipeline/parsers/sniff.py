"""Which source a JSONL line looks like it was written by, from its shape alone.

Used to confirm that a file under a source's root really is that source's log, so a
Codex rollout dropped under the Claude root (or the reverse) is rejected, never parsed
by the wrong parser."""

from __future__ import annotations

from ..sources import Source

CLAUDE_LINE_TYPES = frozenset({
    "user", "assistant", "system", "summary", "file-history-snapshot", "progress",
    "queue-operation", "attachment", "ai-title", "last-prompt", "mode", "permission-mode",
    "bridge-session", "atis-latch", "cost-state", "custom-title", "agent-name", "tag",
    "pr-link", "worktree-state",
})
CODEX_ENVELOPE_TYPES = frozenset({"session_meta", "response_item", "compacted", "turn_context", "event_msg"})
CODEX_LEGACY_ITEM_TYPES = frozenset({
    "message", "reasoning", "function_call", "function_call_output", "custom_tool_call",
    "custom_tool_call_output", "local_shell_call", "web_search_call",
})
_CLAUDE_ENVELOPE_KEYS = ("sessionId", "parentUuid", "uuid", "isSidechain", "leafUuid")


def sniff_line(obj: dict) -> Source | None:
    t = obj.get("type")
    if not isinstance(t, str):
        t = None
    if "payload" in obj and "timestamp" in obj and isinstance(t, str):
        return Source.CODEX  # current envelope, including types newer than we know
    if "record_type" in obj:
        return Source.CODEX
    if any(k in obj for k in _CLAUDE_ENVELOPE_KEYS):
        return Source.CLAUDE
    if t in CLAUDE_LINE_TYPES and "role" not in obj:
        return Source.CLAUDE
    if t in CODEX_LEGACY_ITEM_TYPES:
        return Source.CODEX
    if obj.get("type") is None and "id" in obj and "timestamp" in obj:
        return Source.CODEX  # legacy bare SessionMeta first line
    return None
