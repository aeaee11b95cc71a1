"""GitHub Copilot CLI token accounting (docs/parsing-rules.md, "GitHub Copilot CLI").

Copilot writes a call's input and cache tokens only into the ``session.shutdown`` a process
lifetime (a "leg") appends when it exits: per model, the request count and the summed usage.
Each ``assistant.message`` is one call and carries its own ``outputTokens``. This module turns a
leg's shutdown into its usage, and puts that usage on the leg's calls so that summing the
messages gives, per model and leg, exactly what the shutdown says.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from .base import Message, as_int

# Most calls one model's shutdown entry may add beyond the leg's messages: a count no session
# reaches, so that a damaged count cannot make a parser allocate messages without end.
MAX_CALLS_WITHOUT_MESSAGES = 10_000


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """One model's entry of a shutdown's ``modelMetrics`` (or the difference of two)."""

    requests: int
    input: int  # prompt tokens: Copilot counts cache reads and cache writes inside them
    output: int  # reasoning included
    cache_read: int
    cache_write: int
    reasoning: int | None  # None where the release did not report it (before about 1.0.23)

    def minus(self, earlier: "ModelUsage") -> "ModelUsage | None":
        """This entry less an earlier one, or None when any count would fall (not a running total)."""
        diff = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(earlier, f.name)
            if a is None or b is None:
                diff[f.name] = None
                continue
            if a < b:
                return None
            diff[f.name] = a - b
        return ModelUsage(**diff)

    @property
    def is_zero(self) -> bool:
        return not (self.requests or self.input or self.output or self.cache_read or self.cache_write or self.reasoning)


def read_model_metrics(value: object) -> dict[str, ModelUsage]:
    """A shutdown's ``modelMetrics``: model -> usage, entries with nothing in them left out."""
    out: dict[str, ModelUsage] = {}
    if not isinstance(value, dict):
        return out
    for model, entry in value.items():
        if not isinstance(model, str) or not model or not isinstance(entry, dict):
            continue
        usage = entry.get("usage") if isinstance(entry.get("usage"), dict) else {}
        requests = entry.get("requests") if isinstance(entry.get("requests"), dict) else {}
        reasoning = usage.get("reasoningTokens")
        u = ModelUsage(
            requests=as_int(requests.get("count")),
            input=as_int(usage.get("inputTokens")),
            output=as_int(usage.get("outputTokens")),
            cache_read=as_int(usage.get("cacheReadTokens")),
            cache_write=as_int(usage.get("cacheWriteTokens")),
            reasoning=as_int(reasoning) if isinstance(reasoning, (int, float)) and not isinstance(reasoning, bool) else None,
        )
        if not u.is_zero:
            out[model] = u
    return out


def _difference(current: dict[str, ModelUsage], previous: dict[str, ModelUsage]) -> dict[str, ModelUsage] | None:
    """current - previous per model, or None when current cannot be a running total over previous."""
    out = dict(current)
    for model, before in previous.items():
        now = current.get(model)
        diff = now.minus(before) if now is not None else None
        if diff is None:
            return None
        if diff.is_zero:
            del out[model]
        else:
            out[model] = diff
    return out


def _fits(usage: dict[str, ModelUsage], calls: int, output: int | None) -> bool:
    return sum(u.requests for u in usage.values()) == calls and (
        output is None or sum(u.output for u in usage.values()) == output)


def _distance(usage: dict[str, ModelUsage], calls: int, output: int | None) -> tuple[int, int]:
    return (abs(sum(u.requests for u in usage.values()) - calls),
            abs(sum(u.output for u in usage.values()) - output) if output is not None else 0)


def leg_usage(current: dict[str, ModelUsage], previous: dict[str, ModelUsage] | None, calls: int,
              output: int | None, cumulative_release: bool) -> dict[str, ModelUsage]:
    """What one leg used, from its shutdown.

    Releases up to 1.0.65 write each leg's own usage; from 1.0.66 a resumed process starts from
    the last shutdown on disk, so its shutdown is a running total and the leg's part is the
    difference from that shutdown. A resumed process does not record its version, so the leg's
    own calls decide: the reading whose request count (and output, when every call recorded it)
    equals the leg's calls wins, the leg's own figures first. When neither fits, a session
    created by a release that writes running totals is read as running totals; otherwise the
    reading nearer the leg's calls wins (a tie: the leg's own figures).
    """
    if not previous:
        return current
    if _fits(current, calls, output):
        return current
    delta = _difference(current, previous)
    if delta is None:
        return current
    if _fits(delta, calls, output) or cumulative_release:
        return delta
    return min((current, delta), key=lambda u: _distance(u, calls, output))


@dataclass(slots=True)
class Call:
    """One ``assistant.message`` (one API call; chunks of one call merged) and what is known of its model."""

    message: Message  # the part that carries the call
    output: int | None  # its outputTokens; None where the release did not record it
    named_model: str | None = None  # the model the log names for this call (its own, or its tools')
    fallback_model: str | None = None  # the agent's model when the call was made: a weaker guess
    subagent: str | None = None  # parentToolCallId of a sub-agent's call
    tool_ids: tuple[str, ...] = ()  # its tool calls (their execution events name the model that asked)
    model: str | None = None  # settled

    @property
    def named(self) -> bool:
        return self.named_model is not None and self.model == self.named_model


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Where a leg's shutdown was written: usage messages it needs are dated and keyed by it."""

    at: datetime | None
    line_no: int
    key: str


def settle_models(calls: list[Call], tool_models: dict[str, str], subagent_models: dict[str, str]) -> None:
    """Each call's model: the one the log names for it (on the message, else on the execution of
    one of its tool calls), else its sub-agent's (named on a sibling call or on ``subagent.*``),
    else the agent's model at the time."""
    sibling: dict[str, str] = {}
    for c in calls:
        c.named_model = c.named_model or next((tool_models[t] for t in c.tool_ids if t in tool_models), None)
    for c in calls:
        if c.subagent and c.named_model:
            sibling.setdefault(c.subagent, c.named_model)
    for c in calls:
        c.model = c.named_model or (
            (sibling.get(c.subagent) or subagent_models.get(c.subagent)) if c.subagent else None) or c.fallback_model


def _reconcile(calls: list[Call], usage: dict[str, ModelUsage]) -> None:
    """Move calls whose model is only a guess (then calls on a model the shutdown does not name)
    to the shutdown's models that have fewer calls than it counted: the shutdown knows each
    call's model, the log does not always (a sub-agent's calls in releases that do not record it)."""
    need = {m: u.requests for m, u in usage.items()}
    for c in calls:
        if c.model in need:
            need[c.model] -= 1
    # sub-agent calls first: they are the ones that run on another model
    ordered = sorted(range(len(calls)), key=lambda i: (calls[i].subagent is None, i))
    for guessed_only in (True, False):
        for i in ordered:
            c = calls[i]
            if guessed_only == c.named:
                continue
            if not guessed_only and c.model in usage:
                continue
            if c.model in need and need[c.model] >= 0:
                continue  # its model is not over-counted
            target = next((m for m, n in need.items() if n > 0), None)
            if target is None:
                return
            if c.model in need:
                need[c.model] += 1
            need[target] -= 1
            c.model = target


def _set_usage(m: Message, model: str | None, input_: int | None, cache_read: int | None, cache_write: int | None,
               output: int | None, reasoning: int | None) -> None:
    m.api_call = True
    m.usage_at = m.timestamp
    m.model = model
    m.input_tokens, m.cache_read_tokens, m.output_tokens, m.reasoning_tokens = input_, cache_read, output, reasoning
    m.cache_creation_tokens = m.cache_creation_5m_tokens = cache_write
    m.cache_creation_1h_tokens = None if cache_write is None else 0


def mark_unknown_input(calls: list[Call]) -> None:
    """Calls of a leg no shutdown accounts for: output as recorded, input unknown. A call that
    recorded no output either (the flat files of 0.0.3xx) is a call whose tokens are unknown."""
    for c in calls:
        _set_usage(c.message, c.model, None, None, None, c.output, None)


def apply_leg_usage(calls: list[Call], usage: dict[str, ModelUsage], shutdown: Shutdown) -> list[Message]:
    """Put a leg's usage on its calls: each call keeps its own output; the model's input, cache
    and reasoning go on its last call of the leg (calls the shutdown counts beyond the leg's
    messages get ``usage`` messages, the last of them the carrier; output the messages do not
    account for goes there too). Returns the usage messages to add where the shutdown was written."""
    _reconcile(calls, usage)
    added: list[Message] = []
    for model, u in usage.items():
        mine = [c for c in calls if c.model == model]
        reasoning_part = 0 if u.reasoning is not None else None
        for c in mine:
            _set_usage(c.message, model, 0, 0, 0, c.output or 0, reasoning_part)
        extra = [Message("assistant", "usage", shutdown.at, line_no=shutdown.line_no, dedup_key=f"{shutdown.key}:{model}:{i}")
                 for i in range(min(MAX_CALLS_WITHOUT_MESSAGES, max(0, u.requests - len(mine))) or (0 if mine else 1))]
        for m in extra:
            _set_usage(m, model, 0, 0, 0, 0, reasoning_part)
        carrier = (extra or [c.message for c in mine])[-1]
        carrier.output_tokens += max(0, u.output - sum(c.output or 0 for c in mine))
        carrier.input_tokens = max(0, u.input - u.cache_read - u.cache_write)
        carrier.cache_read_tokens = u.cache_read
        carrier.cache_creation_tokens = carrier.cache_creation_5m_tokens = u.cache_write
        carrier.reasoning_tokens = u.reasoning
        added += extra
    mark_unknown_input([c for c in calls if c.model not in usage])
    return added
