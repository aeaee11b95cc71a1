"""Deterministic synthetic Qwen Code sessions (the 0.24 JSONL format), with ground truth.

Written as Qwen Code lays them out under ``projects/`` (the directory a user passes as
``--qwen-dir``), with the format's traps (docs/parsing-rules.md, "Qwen Code"): every main-chat
response logged twice (a ui_telemetry ``api_response`` event, then the assistant record with
the same usage), calls that only the events show (web_fetch summaries, sub-agent rounds),
sub-agent transcripts repeating those calls' usage, thoughts counted inside candidates, now and
then a Gemini-style response whose thoughts are apart, a response whose provider sent no usage,
api_error events, slash commands with and without the text they send to the model, cron
prompts, a resumed file whose release changes, and ``/branch`` forks copying their parent.

Ground truth is what the generator decided to write, not what a parser reads back.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from .synth import EPOCH, PROJECTS, _iso, _padding, _Truth, _uuid

# (the model the assistant record names, the model the provider reports on the event)
MODELS = (("qwen3-coder-plus", "qwen3-coder-plus-2025-09-23"), ("coder-model", "coder-model"), ("deepseek-v4-flash", "deepseek-flash"))
TOOLS = ("read_file", "run_shell_command", "edit", "glob", "grep_search", "write_file", "todo_write")


class _Writer:
    """One JSONL file of records sharing the envelope Qwen Code writes."""

    def __init__(self, rng: random.Random, sid: str, cwd: str, version: str, ts: datetime, extra: dict | None = None):
        self.rng, self.sid, self.cwd, self.version, self.ts = rng, sid, cwd, version, ts
        self.extra = extra or {}
        self.parent: str | None = None
        self.lines: list[dict] = []
        self.truth: _Truth | None = None

    def record(self, rtype: str, step_ms: tuple[int, int] = (200, 4000), **fields) -> dict:
        self.ts += timedelta(milliseconds=self.rng.randrange(*step_ms))
        uuid = _uuid(self.rng)
        line = {"uuid": uuid, "parentUuid": self.parent, "sessionId": self.sid, "timestamp": _iso(self.ts), "type": rtype,
                "cwd": self.cwd, "version": self.version, "gitBranch": "main", **self.extra, **fields}
        self.lines.append(line)
        self.parent = uuid
        if self.truth is not None:
            self.truth.saw(self.ts)
        return line

    def event(self, name: str, **fields) -> dict:
        return self.record("system", (5, 60), provenance="system", subtype="ui_telemetry",
                           systemPayload={"uiEvent": {"event.name": f"qwen-code.{name}", "event.timestamp": _iso(self.ts), **fields}})

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in self.lines))


def _usage(rng: random.Random, gemini_style: bool) -> tuple[dict, dict]:
    """(usageMetadata, the same counts as the event names them) of one response."""
    prompt = rng.randrange(2000, 60000)
    cached = rng.randrange(0, prompt)
    candidates = rng.randrange(10, 2500)
    thoughts = rng.randrange(0, candidates)
    total = prompt + candidates + (thoughts if gemini_style else 0)
    meta = {"promptTokenCount": prompt, "candidatesTokenCount": candidates, "thoughtsTokenCount": thoughts,
            "totalTokenCount": total, "cachedContentTokenCount": cached}
    event = {"input_token_count": prompt, "output_token_count": candidates, "cached_content_token_count": cached,
             "thoughts_token_count": thoughts, "tool_token_count": 0, "total_token_count": total}
    return meta, event


def _count(truth: _Truth, model: str, event: dict) -> None:
    """A call as it is billed: uncached input, cache reads, all output (thoughts inside it)."""
    truth.calls.append(model)
    prompt, cached = event["input_token_count"], event["cached_content_token_count"]
    thoughts = event["thoughts_token_count"]
    apart = event["total_token_count"] == prompt + event["output_token_count"] + thoughts and thoughts > 0
    truth.tok["input_tokens"] += prompt - cached
    truth.tok["cache_read_tokens"] += cached
    truth.tok["output_tokens"] += event["output_token_count"] + (thoughts if apart else 0)
    truth.tok["reasoning_tokens"] += thoughts


def _response(w: _Writer, model: tuple[str, str], prompt_id: str, parts: list[dict], gemini_style: bool = False) -> None:
    """A main-chat call: its event, then its assistant record a few ms later."""
    if w.rng.random() < 0.04:  # the provider sent no usage: a call all the same, of unknown size
        w.event("api_response", response_id=_uuid(w.rng), model=model[1], status_code=200, duration_ms=800, input_token_count=0,
                output_token_count=0, cached_content_token_count=0, thoughts_token_count=0, tool_token_count=0,
                total_token_count=0, prompt_id=prompt_id, auth_type="openai")
        w.record("assistant", (1, 5), provenance="assistant_output", model=model[0], message={"role": "model", "parts": parts})
        w.truth.calls.append(model[0])
        return
    meta, counts = _usage(w.rng, gemini_style)
    w.event("api_response", response_id=_uuid(w.rng), model=model[1], status_code=200, duration_ms=w.rng.randrange(500, 9000),
            **counts, prompt_id=prompt_id, auth_type="gemini" if gemini_style else "openai")
    w.record("assistant", (1, 5), provenance="assistant_output", model=model[0], message={"role": "model", "parts": parts},
             usageMetadata=meta, contextWindowSize=131072)
    _count(w.truth, model[0], counts)


def _side_call(w: _Writer, model: tuple[str, str], prompt_id: str) -> None:
    """A call with no assistant record (web_fetch's summary, a sub-agent's round)."""
    _, counts = _usage(w.rng, False)
    w.event("api_response", response_id=_uuid(w.rng), model=model[1], status_code=200, duration_ms=900, **counts,
            prompt_id=prompt_id, auth_type="openai")
    _count(w.truth, model[1], counts)


def _subagent(parent: _Writer, model: tuple[str, str], agent_id: str, task: str, rounds: int, pad_bytes: int) -> _Writer:
    """The sub-agent's rounds: usage events in the parent's file, a transcript of its own that
    repeats their usage (0.24), never counted twice."""
    rng = parent.rng
    sub = _Writer(rng, parent.sid, parent.cwd, parent.version, parent.ts,
                  {"agentId": agent_id, "agentName": "Explore", "isSidechain": True})
    sub.truth = _Truth(f"qwen:{parent.sid}/agent-{agent_id}", has_reasoning=True)
    sub.record("user", provenance="system", message={"role": "user", "parts": [{"text": task}]})
    for n in range(rounds):
        meta, counts = _usage(rng, False)
        parent.ts = max(parent.ts, sub.ts)
        parent.event("api_response", response_id=_uuid(rng), model=model[1], status_code=200, duration_ms=700, **counts,
                     prompt_id=f"{parent.sid}#{agent_id}#{n}", auth_type="openai", subagent_id=agent_id, subagent_type="Explore")
        _count(parent.truth, model[1], counts)
        sub.ts = max(sub.ts, parent.ts)
        last = n == rounds - 1
        cid = "call_" + _uuid(rng).replace("-", "")[:24]
        parts = [{"text": "Found what was asked."}] if last else [{"functionCall": {"id": cid, "name": "read_file", "args": {"file_path": f"m{n}.py"}}}]
        sub.record("assistant", (1, 5), provenance="assistant_output", message={"role": "model", "parts": parts}, usageMetadata=meta)
        if not last:
            sub.truth.tools += 1
            sub.record("tool_result", provenance="tool_result", toolCallResult={"callId": cid, "status": "success"},
                       message={"role": "user", "parts": [{"functionResponse": {"id": cid, "name": "read_file",
                                                                                 "response": {"output": "x = 1" + _padding(pad_bytes)}}}]})
    parent.ts = max(parent.ts, sub.ts)
    return sub


def _turn(w: _Writer, model: tuple[str, str], turn: int, pad_bytes: int, subagents: list[_Writer]) -> None:
    rng = w.rng
    prompt_id = f"{w.sid}########{turn}"
    kind = rng.random()
    if kind < 0.12:  # a command whose text goes to the model: counted once, as the command
        w.record("system", provenance="system", subtype="slash_command", systemPayload={"phase": "invocation", "rawCommand": "/review src"})
        w.record("system", (30, 90), provenance="system", subtype="slash_command",
                 systemPayload={"phase": "result", "rawCommand": "/review src", "outputHistoryItems": []})
        w.record("user", (30, 90), provenance="real_user", message={"role": "user", "parts": [{"text": "---\ndescription: Review\n---\nReview src."}]})
        w.truth.prompts += 1
    else:
        if kind < 0.22:  # a local command, then a prompt typed seconds later: two
            w.record("system", provenance="system", subtype="slash_command", systemPayload={"phase": "invocation", "rawCommand": "/stats"})
            w.record("system", (30, 90), provenance="system", subtype="slash_command",
                     systemPayload={"phase": "result", "rawCommand": "/stats", "outputHistoryItems": [{"type": "stats"}]})
            w.truth.prompts += 1
        w.record("user", (3000, 20000), provenance="real_user", message={"role": "user", "parts": [{"text": f"Turn {turn}: fix issue #{rng.randrange(1000)}"}]})
        w.truth.prompts += 1
    if rng.random() < 0.1:  # a scheduled prompt: the agent's, not a person's
        w.record("user", provenance="system", subtype="cron", message={"role": "user", "parts": [{"text": "Scheduled: run the tests"}]})
    for call in range(rng.randint(1, 4)):
        if rng.random() < 0.08:  # a failed request: no response, no tokens
            w.event("api_error", response_id="", model=model[1], duration_ms=30000, prompt_id=prompt_id, auth_type="openai",
                    error_message="Request timed out.", error_type="APITimeoutError")
        parts: list[dict] = []
        if rng.random() < 0.6:
            parts.append({"text": f"Thinking about step {call}.", "thought": True})
        final = call > 0 and rng.random() < 0.4
        calls = [] if final else [("call_" + _uuid(rng).replace("-", "")[:24], rng.choice(TOOLS + ("web_fetch", "agent")))
                                   for _ in range(rng.choice((1, 1, 2)))]
        if final or rng.random() < 0.5:
            parts.append({"text": f"Step {call} of turn {turn}."})
        parts += [{"functionCall": {"id": cid, "name": name, "args": {"arg": rng.randrange(1000)}}} for cid, name in calls]
        _response(w, model, prompt_id, parts, gemini_style=rng.random() < 0.05)
        w.truth.tools += len(calls)
        for i, (cid, name) in enumerate(calls):
            if name == "web_fetch":  # the fetched page is summarised by a call of its own
                _side_call(w, model, prompt_id)
            elif name == "agent":
                agent_id = f"explore-{rng.getrandbits(16):04x}"
                subagents.append(_subagent(w, model, agent_id, f"Explore for step {call}", rng.randint(1, 3), pad_bytes))
            w.event("tool_call", function_name=name, function_args={"arg": 1}, duration_ms=40, status="success", success=True,
                    decision="auto_accept", prompt_id=prompt_id, tool_type="native")
            if rng.random() < 0.05:  # the session ended before this call's result: fewer results than calls
                continue
            failed = rng.random() < 0.1
            response = {"error": "Edit error: string not found"} if failed else {"output": "ok" + _padding(pad_bytes)}
            w.record("tool_result", provenance="tool_result", toolCallResult={"callId": cid, "status": "error" if failed else "success"},
                     message={"role": "user", "parts": [{"functionResponse": {"id": cid, "name": name, "response": response}}]})
        if final:
            break


def _fork(rng: random.Random, parent: _Writer, model: tuple[str, str]) -> _Writer:
    """``/branch``: every record of the parent copied (uuid, timestamp, usage kept; sessionId
    rewritten; forkedFrom stamped), then a turn of the fork's own."""
    sid = _uuid(rng)
    fork = _Writer(rng, sid, parent.cwd, parent.version, parent.ts)
    fork.truth = _Truth(f"qwen:{sid}", has_reasoning=True)
    for line in parent.lines:
        fork.lines.append(dict(line, sessionId=sid, parentUuid=fork.parent, forkedFrom={"sessionId": parent.sid, "messageUuid": line["uuid"]}))
        fork.parent = line["uuid"]
    fork.truth.saw(parent.truth.first)
    fork.ts += timedelta(minutes=5)
    fork.record("user", provenance="real_user", message={"role": "user", "parts": [{"text": "Try it another way"}]})
    fork.truth.prompts += 1
    _response(fork, model, f"{sid}########0", [{"text": "Another way."}])
    return fork


def generate(root: Path, sessions: int, rng: random.Random, pad_bytes: int = 0) -> dict[str, dict]:
    """Write ``sessions`` chats (plus the sub-agent transcripts and forks some of them have)
    under ``root`` (a ``projects`` directory) and return the ground truth per session id."""
    root = Path(root)
    truth: dict[str, dict] = {}
    for index in range(sessions):
        sid = _uuid(rng)
        cwd = rng.choice(PROJECTS)
        project = root / re.sub(r"[^A-Za-z0-9]", "-", cwd)
        model = rng.choice(MODELS)
        resumed = index % 5 == 0
        w = _Writer(rng, sid, cwd, "0.24.3" if resumed else "0.24.4", EPOCH + timedelta(days=index % 45, minutes=rng.randrange(0, 600)))
        w.truth = _Truth(f"qwen:{sid}", has_reasoning=True)
        subagents: list[_Writer] = []
        turns = rng.randint(2 if resumed else 1, 5)
        for turn in range(turns):
            if resumed and turn == turns // 2:
                w.ts += timedelta(days=1)  # resumed the next day by a newer release: appended to the same file
                w.version = "0.24.4"
            _turn(w, model, turn, pad_bytes, subagents)
        w.write(project / "chats" / f"{sid}.jsonl")
        truth[w.truth.id] = w.truth.as_dict()
        for sub in subagents:
            sub.write(project / "subagents" / sid / f"agent-{sub.extra['agentId']}.jsonl")
            truth[sub.truth.id] = sub.truth.as_dict()
        if index % 7 == 3:
            fork = _fork(rng, w, model)
            fork.write(project / "chats" / f"{fork.sid}.jsonl")
            truth[fork.truth.id] = fork.truth.as_dict()
    return truth
