"""Deterministic synthetic GitHub Copilot CLI sessions, with ground truth.

Writes the current layout (``<session-state>/<id>/events.jsonl`` + ``workspace.yaml``, releases
1.0.66 and later) with the format's traps: a call's input and cache tokens only in the
``session.shutdown`` its process lifetime writes, as a running total over the session's earlier
shutdowns; resumed lifetimes that crashed (their calls' input lost for good, and missing from
every later running total); a session still running; sub-agent calls on another model; /model
switches; compaction calls counted in no shutdown; autopilot nudges, skill instructions and
slash commands among the user messages; reasoning inside the output.

Ground truth is what the generator decided to write, reported the way the index reports it:
input, cache and total are None (unknown) for a session with a call no shutdown accounts for.

    python -m benchmarks.synth_copilot OUT_DIR [--sessions N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

VERSION = "1.0.89"
MAIN_MODELS = ("claude-sonnet-4.6", "gpt-5.4", "claude-opus-4.6")
SUBAGENT_MODEL = "claude-haiku-4.5"
REASONING_MODELS = ("gpt-5.4", "gpt-5-mini")
PROJECTS = (("/home/dev/src/webapp", "acme/webapp"), ("/home/dev/src/etl", "acme/etl"), ("/work/infra", None))
TOOLS = ("bash", "view", "edit", "grep", "glob", "create")
EPOCH = datetime(2026, 7, 1, 8, 0, 0, tzinfo=timezone.utc)
_FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor\n"
_USAGE_FIELDS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "reasoningTokens")


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _padding(pad_bytes: int) -> str:
    """Tool output of about pad_bytes bytes; no randomness, so padding changes nothing else."""
    return "" if pad_bytes <= 0 else (_FILLER * (pad_bytes // len(_FILLER) + 1))[:pad_bytes]


class _Truth:
    def __init__(self, session_id: str):
        self.id = session_id
        self.prompts = self.tools = 0
        self.calls: list[str | None] = []  # model of each API call, in file order
        self.tok = {"input_tokens": 0, "cache_read_tokens": 0, "cache_creation_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0}
        self.input_unknown = False
        self.first: datetime | None = None
        self.last: datetime | None = None

    def saw(self, ts: datetime) -> None:
        self.first = ts if self.first is None else min(self.first, ts)
        self.last = ts if self.last is None else max(self.last, ts)

    def known_call(self, fresh: int, cache_read: int, cache_write: int, output: int, reasoning: int) -> None:
        self.tok["input_tokens"] += fresh
        self.tok["cache_read_tokens"] += cache_read
        self.tok["cache_creation_tokens"] += cache_write
        self.tok["output_tokens"] += output
        self.tok["reasoning_tokens"] += reasoning

    def as_dict(self) -> dict:
        named = [m for m in self.calls if m is not None]
        counts = {m: named.count(m) for m in named}
        last_index = {m: i for i, m in enumerate(self.calls) if m is not None}
        primary = max(counts, key=lambda m: (counts[m], last_index[m])) if counts else None
        tok = dict(self.tok)
        tok["total_tokens"] = tok["input_tokens"] + tok["cache_read_tokens"] + tok["cache_creation_tokens"] + tok["output_tokens"]
        if self.input_unknown:
            for k in ("input_tokens", "cache_read_tokens", "cache_creation_tokens", "total_tokens"):
                tok[k] = None
        return {
            "id": self.id, "user_prompt_count": self.prompts, "tool_call_count": self.tools, "api_call_count": len(self.calls),
            "primary_model": primary, "started_at": _iso(self.first) if self.first else None,
            "ended_at": _iso(self.last) if self.last else None, **tok,
        }


class _Writer:
    """Appends events ``{type, data, id, timestamp, parentId}`` the way the CLI chains them."""

    def __init__(self, rng: random.Random, truth: _Truth, ts: datetime):
        self.rng, self.truth, self.ts = rng, truth, ts
        self.lines: list[dict] = []
        self.parent: str | None = None

    def emit(self, etype: str, data: dict) -> None:
        self.ts += timedelta(milliseconds=self.rng.randrange(50, 3000))
        eid = _uuid(self.rng)
        self.lines.append({"type": etype, "data": data, "id": eid, "timestamp": _iso(self.ts), "parentId": self.parent})
        self.truth.saw(self.ts)
        self.parent = eid


class _Tracker:
    """The CLI's in-memory usage totals per model: restored from the last shutdown on resume."""

    def __init__(self, restored: dict[str, dict] | None):
        self.models = json.loads(json.dumps(restored or {}))

    def add(self, model: str, usage: dict[str, int]) -> None:
        entry = self.models.setdefault(model, {"requests": {"count": 0, "cost": 0}, "usage": {f: 0 for f in _USAGE_FIELDS}})
        entry["requests"]["count"] += 1
        entry["requests"]["cost"] += 1
        for f in _USAGE_FIELDS:
            entry["usage"][f] += usage[f]


def _call_usage(rng: random.Random, model: str) -> dict[str, int]:
    cache_read = rng.randrange(0, 60000)
    cache_write = rng.randrange(0, 4000) if model.startswith("claude") else 0
    output = rng.randrange(5, 2500)
    return {"inputTokens": cache_read + cache_write + rng.randrange(1, 3000), "outputTokens": output, "cacheReadTokens": cache_read,
            "cacheWriteTokens": cache_write, "reasoningTokens": rng.randrange(0, output) if model in REASONING_MODELS else 0}


def _session(rng: random.Random, index: int, pad_bytes: int) -> tuple[str, bytes, str, dict]:
    sid = _uuid(rng)
    cwd, repo = rng.choice(PROJECTS)
    truth = _Truth(f"copilot:{sid}")
    w = _Writer(rng, truth, EPOCH + timedelta(days=index % 40, minutes=rng.randrange(0, 600)))
    context = {"cwd": cwd, "gitRoot": cwd, "branch": "main", "repository": repo, "hostType": "github",
               "repositoryHost": "github.com"} if repo else {"cwd": cwd}
    model = rng.choice(MAIN_MODELS)
    last_shutdown: dict[str, dict] | None = None
    legs = rng.choice((1, 1, 2, 3))
    for leg in range(legs):
        if leg == 0:
            w.emit("session.start", {"sessionId": sid, "version": 1, "producer": "copilot-agent", "copilotVersion": VERSION,
                                     "startTime": _iso(w.ts), "context": context, "alreadyInUse": False})
            w.emit("session.model_change", {"newModel": model})
            w.emit("system.message", {"role": "system", "content": "You are the GitHub Copilot CLI, a terminal assistant."})
        else:
            w.emit("session.resume", {"resumeTime": _iso(w.ts), "eventCount": len(w.lines), "selectedModel": model, "context": context})
            w.emit("session.model_change", {"previousModel": model, "newModel": model})
        tracker = _Tracker(last_shutdown)
        # the lifetime's calls: (tokens known only if the lifetime writes its shutdown)
        leg_calls: list[tuple[int, int, int, int, int]] = []
        for turn in range(rng.randint(1, 3)):
            if rng.random() < 0.15:  # /model: a model_change event, no user message
                new = rng.choice(MAIN_MODELS)
                w.emit("session.model_change", {"previousModel": model, "newModel": new, "source": "user"})
                model = new
            model = _turn(rng, w, truth, tracker, leg_calls, model, turn, pad_bytes)
        # the last lifetime of a few sessions is still running; a few middle ones crashed
        ends_cleanly = rng.random() < (0.85 if leg == legs - 1 else 0.9)
        if ends_cleanly:
            w.emit("session.shutdown", {"shutdownType": "routine", "totalPremiumRequests": len(leg_calls), "totalApiDurationMs": 1000,
                                        "sessionStartTime": int(EPOCH.timestamp() * 1000), "codeChanges": {"linesAdded": 0, "linesRemoved": 0, "filesModified": []},
                                        "modelMetrics": tracker.models, "currentModel": model, "currentTokens": 9000, "systemTokens": 6000,
                                        "conversationTokens": 2000, "toolDefinitionsTokens": 1000})
            last_shutdown = tracker.models
            for c in leg_calls:
                truth.known_call(*c)
        else:
            for c in leg_calls:
                truth.tok["output_tokens"] += c[3]
            truth.input_unknown |= bool(leg_calls)
    workspace = f"id: {sid}\ncwd: {cwd}\n" + (f"git_root: {cwd}\nrepository: {repo}\nhost_type: github\nbranch: main\n" if repo else "") + \
        f"summary: Synthetic session {index}\nsummary_count: 0\ncreated_at: {_iso(EPOCH)}\nupdated_at: {_iso(w.ts)}\n"
    return sid, b"".join(orjson.dumps(line) + b"\n" for line in w.lines), workspace, truth.as_dict()


def _turn(rng: random.Random, w: _Writer, truth: _Truth, tracker: _Tracker, leg_calls: list, model: str, turn: int, pad_bytes: int) -> str:
    """One user turn: its prompt (or an injected message), the agent's calls and tools, and
    sometimes a compaction or an abort. Returns the model in use after it."""
    kind = rng.random()
    if kind < 0.1 and turn > 0:  # autopilot's nudge: written by the CLI, text only in transformedContent
        w.emit("user.message", {"content": "", "transformedContent": "You have not yet marked the task as complete.",
                                "attachments": [], "isAutopilotContinuation": True, "agentMode": "autopilot"})
    elif kind < 0.18:  # a skill's hidden instructions
        w.emit("user.message", {"content": "Follow the release checklist.", "attachments": [], "source": "skill-release"})
    else:
        text = "/plan split the parser module" if kind < 0.28 else f"Turn {turn}: fix issue #{rng.randrange(1000)}"
        w.emit("user.message", {"content": text, "transformedContent": f"<current_datetime>{_iso(w.ts)}</current_datetime>\n\n{text}",
                                "attachments": [], "interactionId": _uuid(rng)})
        truth.prompts += 1
    w.emit("assistant.turn_start", {"turnId": str(turn), "interactionId": _uuid(rng)})
    for call in range(rng.randint(1, 4)):
        final = call > 0 and rng.random() < 0.35
        n_tools = 0 if final else rng.choice((1, 1, 2))
        _call(rng, w, truth, tracker, leg_calls, model, n_tools, pad_bytes, reasoning_text=rng.random() < 0.3)
        if not final and rng.random() < 0.15:
            _subagent(rng, w, truth, tracker, leg_calls, pad_bytes)
        if final:
            break
    w.emit("assistant.turn_end", {"turnId": str(turn)})
    if rng.random() < 0.1:
        _compaction(rng, w, truth, model)
    if rng.random() < 0.05:
        w.emit("abort", {"reason": "user_initiated"})
    return model


def _call(rng, w: _Writer, truth: _Truth, tracker: _Tracker, leg_calls: list, model: str, n_tools: int, pad_bytes: int,
          reasoning_text: bool = False, parent: str | None = None) -> None:
    usage = _call_usage(rng, model)
    requests = [{"toolCallId": "toolu_" + _uuid(rng).replace("-", "")[:24], "name": rng.choice(TOOLS),
                 "arguments": {"arg": rng.randrange(1000)}, "type": "function"} for _ in range(n_tools)]
    data = {"messageId": _uuid(rng), "model": model, "content": "" if requests and rng.random() < 0.5 else f"Working on step {len(truth.calls)}.",
            "toolRequests": requests, "interactionId": _uuid(rng), "outputTokens": usage["outputTokens"], "apiCallId": "chatcmpl-" + _uuid(rng)[:18]}
    if reasoning_text:
        data["reasoningText"] = "Considering the options."
    if parent:
        data["parentToolCallId"] = parent
    w.emit("assistant.message", data)
    tracker.add(model, usage)
    truth.calls.append(model)
    truth.tools += len(requests)
    leg_calls.append((usage["inputTokens"] - usage["cacheReadTokens"] - usage["cacheWriteTokens"], usage["cacheReadTokens"],
                      usage["cacheWriteTokens"], usage["outputTokens"], usage["reasoningTokens"]))
    for r in requests:
        start = {"toolCallId": r["toolCallId"], "toolName": r["name"], "arguments": r["arguments"], "model": model}
        done = {"toolCallId": r["toolCallId"], "success": True, "model": model, "result": {"content": "ok" + _padding(pad_bytes)}}
        if parent:
            start["parentToolCallId"] = done["parentToolCallId"] = parent
        w.emit("tool.execution_start", start)
        if rng.random() < 0.2:
            w.emit("permission.requested", {"requestId": _uuid(rng), "permissionRequest": {"kind": "shell"}})
            w.emit("permission.completed", {"requestId": _uuid(rng), "toolCallId": r["toolCallId"], "result": {"kind": "approved"}})
        w.emit("tool.execution_complete", done)


def _subagent(rng, w: _Writer, truth: _Truth, tracker: _Tracker, leg_calls: list, pad_bytes: int) -> None:
    """A task tool call whose agent runs on another model; its calls are in the same log."""
    task = "toolu_" + _uuid(rng).replace("-", "")[:24]
    w.emit("subagent.started", {"toolCallId": task, "agentName": "explore", "agentDisplayName": "Explore Agent", "model": SUBAGENT_MODEL})
    for i in range(rng.randint(1, 3)):
        _call(rng, w, truth, tracker, leg_calls, SUBAGENT_MODEL, 1 if i == 0 else 0, pad_bytes, parent=task)
    w.emit("subagent.completed", {"toolCallId": task, "agentName": "explore", "agentDisplayName": "Explore Agent", "model": SUBAGENT_MODEL})


def _compaction(rng, w: _Writer, truth: _Truth, model: str) -> None:
    """The summary call's tokens are on the event only (no shutdown counts it)."""
    cache_read = rng.randrange(0, 40000)
    prompt = cache_read + rng.randrange(1000, 60000)
    output = rng.randrange(500, 4000)
    w.emit("session.compaction_start", {"systemTokens": 6000, "conversationTokens": 80000, "toolDefinitionsTokens": 9000})
    w.emit("session.compaction_complete", {"success": True, "preCompactionTokens": 95000, "summaryContent": "Summary so far.",
                                           "checkpointNumber": 1, "compactionTokensUsed": {"inputTokens": prompt, "outputTokens": output,
                                           "cacheReadTokens": cache_read, "cacheWriteTokens": 0, "model": model}})
    truth.calls.append(model)
    truth.known_call(prompt - cache_read, cache_read, 0, output, 0)


def generate(root: Path, sessions: int, rng: random.Random, pad_bytes: int = 0) -> dict[str, dict]:
    """Write ``sessions`` sessions under ``root`` (a ``session-state`` directory); ground truth by session id."""
    root = Path(root)
    truth: dict[str, dict] = {}
    for i in range(sessions):
        sid, events, workspace, t = _session(rng, i, pad_bytes)
        (root / sid).mkdir(parents=True, exist_ok=True)
        (root / sid / "events.jsonl").write_bytes(events)
        (root / sid / "workspace.yaml").write_text(workspace)
        truth[t["id"]] = t
    return truth


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write deterministic synthetic Copilot CLI sessions with ground truth.")
    p.add_argument("out_dir", type=Path, help="the session-state directory to write")
    p.add_argument("--sessions", type=int, default=100)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--pad-bytes", type=int, default=0)
    a = p.parse_args(argv)
    truth = generate(a.out_dir, a.sessions, random.Random(a.seed), a.pad_bytes)
    (a.out_dir / "ground_truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")
    print(f"wrote {a.sessions} Copilot sessions under {a.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
