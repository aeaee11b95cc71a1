"""Gemini CLI message records (``parsers/gemini.py`` reads the files): one message id merged
over all the copies the CLI wrote of it, and the messages it becomes."""

from __future__ import annotations

import re

from .base import FileParse, Message, as_int, json_text, parse_timestamp

MESSAGE_TYPES = frozenset({"user", "gemini", "info", "error", "warning"})
# User turns the CLI writes itself: the environment bootstrap (v0.44+) and hook context.
INJECTED_PREFIXES = ("<session_context>", "<hook_context>")
CANCELLED_NOTICE = "Request cancelled."
_UPDATE_NOTICE = re.compile(r"Gemini CLI update available! (\S+) ")
# the recorder's randomUUID() ids; synthetic turns have stable ids shared by every session
_RANDOM_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def cli_version(notice: str) -> str | None:
    """The version an "update available" notice names as running: the only place a chat
    file records the CLI's version."""
    found = _UPDATE_NOTICE.search(notice)
    return found.group(1) if found else None


class Record:
    """One message id, merged over all its copies: the last copy's content, the last
    ``tokens`` object written for it, every tool call it ever held (the last version of
    each), and whether it was ever recorded as it happened (not only rebuilt in a checkpoint)."""

    __slots__ = ("id", "copy", "tokens", "model", "calls", "recorded", "line_no")

    def __init__(self, message_id: str, line_no: int):
        self.id = message_id
        self.copy: dict = {}
        self.tokens: dict | None = None
        self.model: str | None = None
        self.calls: dict[str, dict] = {}
        self.recorded = False
        self.line_no = line_no

    def add(self, copy: dict, in_checkpoint: bool) -> None:
        """One more copy, in file order (the files of a unit oldest name first)."""
        self.copy = copy
        if isinstance(copy.get("tokens"), dict):
            self.tokens = copy["tokens"]
            self.model = copy.get("model") if isinstance(copy.get("model"), str) else self.model
        calls = copy.get("toolCalls")
        for i, call in enumerate(calls if isinstance(calls, list) else ()):
            if isinstance(call, dict):
                self.calls[call["id"] if isinstance(call.get("id"), str) else f"#{i}"] = call
        self.recorded = self.recorded or not in_checkpoint


# --- messages of one record -----------------------------------------------------------


def _parts(content: object) -> list[dict]:
    """A ``PartListUnion`` as a list of parts: a string, one part, or a list of either."""
    if isinstance(content, str):
        return [{"text": content}]
    if isinstance(content, dict):
        return [content]
    if isinstance(content, list):
        return [p if isinstance(p, dict) else {"text": p} for p in content if isinstance(p, (dict, str))]
    return []


def _text(parts: list[dict], thought: bool = False) -> str:
    return "\n".join(p["text"] for p in parts if isinstance(p.get("text"), str) and p["text"] and bool(p.get("thought")) == thought)


def record_messages(record: Record, subagent: bool, answered: set[str], result: FileParse) -> list[Message]:
    """The messages one record gives (``answered``: the tool calls whose result is recorded
    on the call itself; unknown record types are counted into ``result``)."""
    m = record.copy
    mtype = m.get("type") if isinstance(m.get("type"), str) else None
    ts = parse_timestamp(m.get("timestamp"))
    parts = _parts(m.get("content"))
    if mtype == "user":
        made = _user_turn(record, parts, ts, subagent, answered)
    elif mtype == "gemini":
        made = _model_turn(record, parts, ts)
    elif mtype in MESSAGE_TYPES:  # info / error / warning: notices the UI showed
        text = _text(parts)
        made = [Message("system", "turn_aborted" if text.strip() == CANCELLED_NOTICE else mtype, ts, text or None)]
    else:
        result.unknown_types[f"message:{mtype}"] += 1
        return []
    key = record.id if _RANDOM_ID.fullmatch(record.id) else None
    for msg in made:
        msg.line_no = record.line_no
        msg.dedup_key = key
    return made


def _user_turn(record: Record, parts: list[dict], ts, subagent: bool, answered: set[str]) -> list[Message]:
    text = _text(parts)
    responses = [p["functionResponse"] for p in parts if isinstance(p.get("functionResponse"), dict)]
    if responses:  # v0.44+: the tool results sent back, as a user turn
        made = [_function_response(r, ts) for r in responses if not (isinstance(r.get("id"), str) and r["id"] in answered)]
        return made + ([Message("system", "injected", ts, text)] if text else [])
    if not record.recorded or text.lstrip().startswith(INJECTED_PREFIXES):
        # rebuilt from the model history only (bootstrap, compression summary) or CLI-written
        return [Message("system", "injected", ts, text or None)]
    if subagent:
        return [Message("user", "agent_prompt", ts, text or None)]  # the parent model wrote it
    return [Message("user", "command" if text.lstrip().startswith("/") else "prompt", ts, text or None)]


def _model_turn(record: Record, parts: list[dict], ts) -> list[Message]:
    m = record.copy
    thoughts = m.get("thoughts") if isinstance(m.get("thoughts"), list) else []
    made = [Message("reasoning", "thought", parse_timestamp(t.get("timestamp")) or ts, _thought_text(t))
            for t in thoughts if isinstance(t, dict)]
    if not made and _text(parts, thought=True):  # a synthetic turn keeps its thinking in its content
        made.append(Message("reasoning", "thought", ts, _text(parts, thought=True)))
    text = _text(parts)
    # a turn the CLI made up (no usage, no model, no tool call), or rebuilt in a checkpoint only
    synthetic = record.tokens is None and (not record.recorded or (not isinstance(m.get("model"), str) and not record.calls))
    answer = None
    if text:
        answer = Message("system", "injected", ts, text) if synthetic else Message("assistant", "text", ts, text)
        made.append(answer)
    for call in record.calls.values():
        made += _tool_call(call, ts)
    if record.tokens is not None:
        carrier = answer if answer is not None and answer.role == "assistant" else (made[0] if made else None)
        if carrier is None:  # a response whose content was not kept
            carrier = Message("assistant", "usage", ts)
            made.append(carrier)
        _set_usage(carrier, record.tokens, record.model or (m.get("model") if isinstance(m.get("model"), str) else None), ts)
    return made


def _thought_text(thought: dict) -> str | None:
    texts = [thought[k] for k in ("subject", "description") if isinstance(thought.get(k), str) and thought[k]]
    return "\n".join(texts) or None


def _set_usage(m: Message, tokens: dict, model: str | None, ts) -> None:
    """Gemini's usageMetadata as recorded: ``input`` is the whole prompt (cached part
    included), ``tool`` the tool-use prompt (billed as input, not inside ``input``),
    ``output`` the visible answer and ``thoughts`` the thinking (billed as output)."""
    prompt = as_int(tokens.get("input"))
    cached = min(as_int(tokens.get("cached")), prompt)
    thoughts = as_int(tokens.get("thoughts"))
    m.api_call = True
    m.usage_at = ts
    m.model = model
    m.input_tokens = prompt - cached + as_int(tokens.get("tool"))
    m.cache_read_tokens = cached
    m.cache_creation_tokens = m.cache_creation_5m_tokens = m.cache_creation_1h_tokens = 0
    m.output_tokens = as_int(tokens.get("output")) + thoughts
    m.reasoning_tokens = thoughts


def _tool_call(call: dict, ts) -> list[Message]:
    at = parse_timestamp(call.get("timestamp")) or ts
    name = call.get("name") if isinstance(call.get("name"), str) else None
    call_id = call.get("id") if isinstance(call.get("id"), str) else None
    made = [Message("tool_use", "tool_call", at, json_text(call.get("args")), tool_name=name, call_id=call_id)]
    if call.get("result") is not None or call.get("resultDisplay") is not None:
        texts = [_response_text(p["functionResponse"]) if isinstance(p.get("functionResponse"), dict) else p.get("text")
                 for p in _parts(call.get("result"))]
        text = "\n".join(t for t in texts if isinstance(t, str) and t)
        if not text and isinstance(call.get("resultDisplay"), str):
            text = call["resultDisplay"]
        status = call.get("status")
        made.append(Message("tool_result", "tool_result", at, text or None, tool_name=name, call_id=call_id,
                            is_error=status in ("error", "cancelled") if isinstance(status, str) else None))
    return made


def _function_response(response: dict, ts) -> Message:
    body = response.get("response")
    return Message("tool_result", "function_response", ts, _response_text(response),
                   tool_name=response.get("name") if isinstance(response.get("name"), str) else None,
                   call_id=response.get("id") if isinstance(response.get("id"), str) else None,
                   is_error=isinstance(body, dict) and "error" in body)


def _response_text(response: dict) -> str | None:
    body = response.get("response")
    if isinstance(body, dict):
        for k in ("output", "error"):
            if isinstance(body.get(k), str):
                return body[k]
    return json_text(body)
