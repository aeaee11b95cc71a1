"""A deterministic synthetic corpus of Gemini CLI sessions in the current format (JSON lines,
v0.44 and later), with ground truth.

Each session is written the way the CLI writes it: a metadata record, a ``$set.messages``
checkpoint holding the injected ``<session_context>`` bootstrap, ``$set`` updates after every
message, every update of a message appended again in full. The traps: a model response
written before its usage (``tokens: null``, then the same id with tokens), tool calls appended
to a response under its id, tool results sent back as a user turn, all-zero usage (still a
call), a cancelled request leaving a tool-call container without usage (not a call),
``$rewindTo`` after billed calls, and checkpoints that copy the visible history (copies, never
new calls).

Ground truth is what the generator decided to write (prompts typed, calls made, tokens
spent), not what a parser reads back.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from pathlib import Path

from .synth import EPOCH, PROJECTS, _dump, _iso, _padding, _Truth, _uuid

GEMINI_MODELS = ("gemini-3-flash-preview", "gemini-2.5-pro", "gemini-3.1-pro-preview")
TOOLS = ("read_file", "run_shell_command", "replace", "write_file", "grep_search")
BOOTSTRAP_ID = "d04923d38bb0f6017037e74183378ef4"  # the same in every session (a stable id)


def _session(root: Path, rng: random.Random, index: int, pad_bytes: int) -> dict:
    sid = _uuid(rng)
    cwd = rng.choice(PROJECTS)
    slug = Path(cwd).name
    truth = _Truth(f"gemini:{sid}", has_reasoning=True)
    start = EPOCH + timedelta(days=index % 30, minutes=rng.randrange(0, 600))
    ts = start
    records: list[dict] = []

    def tick(low: int = 5, high: int = 3000) -> datetime:
        nonlocal ts
        ts += timedelta(milliseconds=rng.randrange(low, high))
        return ts

    def message(mtype: str, content: object, **extra) -> dict:
        at = tick()
        truth.saw(at)
        record = {"id": _uuid(rng), "timestamp": _iso(at), "type": mtype, "content": content, **extra}
        records.append(dict(record))  # as written now: the caller may update it and write it again
        records.append({"$set": {"lastUpdated": _iso(tick(1, 3))}})
        return record

    truth.saw(start)
    records.append({"sessionId": sid, "projectHash": hashlib.sha256(cwd.encode()).hexdigest(), "startTime": _iso(start),
                    "lastUpdated": _iso(start), "kind": "main", "directories": [cwd]})
    boot_at = tick(1, 10)
    truth.saw(boot_at)
    bootstrap = {"id": BOOTSTRAP_ID, "timestamp": _iso(boot_at), "type": "user",
                 "content": [{"text": f"<session_context>\nThis is the Gemini CLI.\n- **Workspace Directories:**\n  - {cwd}\n</session_context>"}]}
    records.append({"$set": {"messages": [bootstrap], "lastUpdated": _iso(boot_at)}})
    history = [bootstrap]
    if rng.random() < 0.3:
        message("info", "Gemini CLI update available! 0.46.0 → 0.47.1\nInstalled with npm. Attempting to automatically update now...")

    for turn in range(rng.randint(1, 4)):
        prompt = message("user", [{"text": f"Turn {turn}: fix issue #{rng.randrange(1000)}"}])
        truth.prompts += 1
        history.append(prompt)
        for call in range(rng.randint(1, 4)):
            model = rng.choice(GEMINI_MODELS)
            prompt_tokens = rng.randrange(4000, 60000)
            tokens = {"input": prompt_tokens, "output": rng.randrange(5, 2000), "cached": rng.randrange(0, prompt_tokens),
                      "thoughts": rng.randrange(0, 1500), "tool": rng.choice((0, 0, 0, rng.randrange(1, 400)))}
            if rng.random() < 0.05:  # usage unknown: still a response
                tokens = dict.fromkeys(tokens, 0)
            tokens["total"] = tokens["input"] + tokens["output"] + tokens["thoughts"] + tokens["tool"]
            thoughts = [{"subject": f"Step {call}", "description": "Looking at the code.", "timestamp": _iso(tick())} for _ in range(rng.randint(0, 2))]
            for t in thoughts:
                truth.saw(datetime.fromisoformat(t["timestamp"].replace("Z", "+00:00")))
            final = call > 0 and rng.random() < 0.4
            text = f"Done with turn {turn}." if final else ""
            late_usage = rng.random() < 0.3  # written first with the usage still queued
            response = message("gemini", text, thoughts=thoughts, tokens=None if late_usage else tokens, model=model)
            if late_usage:  # the same id again, its usage filled in
                response["tokens"] = tokens
                records.append(dict(response))
            truth.calls.append(model)
            truth.tok["input_tokens"] += tokens["input"] - tokens["cached"] + tokens["tool"]
            truth.tok["cache_read_tokens"] += tokens["cached"]
            truth.tok["output_tokens"] += tokens["output"] + tokens["thoughts"]
            truth.tok["reasoning_tokens"] += tokens["thoughts"]
            history.append(response)
            if final:
                break
            name = rng.choice(TOOLS)
            call_at = tick()
            truth.saw(call_at)
            call_id = f"{name}_{int(call_at.timestamp() * 1000)}_0"
            result = [{"functionResponse": {"id": call_id, "name": name, "response": {"output": "ok" + _padding(pad_bytes)}}}]
            tool_call = {"id": call_id, "name": name, "args": {"path": f"src/mod_{call}.py"}, "result": result, "status": "success",
                         "timestamp": _iso(call_at), "displayName": name, "description": "", "renderOutputAsMarkdown": True}
            response["toolCalls"] = [tool_call]
            records.append(dict(response))  # the same id again, its tool call appended
            truth.tools += 1
            history.append(message("user", result))  # the result sent back as a user turn
        if rng.random() < 0.1:  # Esc: the request is cancelled, its tool call kept without usage
            message("info", "Request cancelled.")
            cancel_at = tick()
            truth.saw(cancel_at)
            call_id = f"run_shell_command_{int(cancel_at.timestamp() * 1000)}_0"
            message("gemini", "", thoughts=[], model="gemini-3-flash-preview", toolCalls=[{
                "id": call_id, "name": "run_shell_command", "args": {"command": "make"}, "status": "cancelled", "timestamp": _iso(cancel_at),
                "result": [{"functionResponse": {"id": call_id, "name": "run_shell_command", "response": {"error": "[Operation Cancelled]"}}}]}])
            truth.tools += 1
        if rng.random() < 0.15:  # /rewind to this turn's prompt: the visible history loses it, the calls stay made
            records.append({"$rewindTo": prompt["id"]})
            history = [bootstrap]
            records.append({"$set": {"messages": list(history), "lastUpdated": _iso(tick(1, 5))}})
        elif rng.random() < 0.4:  # a checkpoint of the visible history: copies, not new calls
            records.append({"$set": {"messages": [dict(m) for m in history], "lastUpdated": _iso(tick(1, 5))}})

    path = root / slug / "chats" / f"session-{start:%Y-%m-%dT%H-%M}-{sid[:8]}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_dump(records))
    (root / slug / ".project_root").write_text(cwd)
    return truth.as_dict()


def generate(root: Path, sessions: int, rng: random.Random, pad_bytes: int = 0) -> dict[str, dict]:
    """Write ``sessions`` sessions under ``root`` (a ``~/.gemini/tmp``) and return the ground
    truth per canonical session id."""
    root = Path(root)
    truth: dict[str, dict] = {}
    for i in range(sessions):
        t = _session(root, rng, i, pad_bytes)
        truth[t["id"]] = t
    return truth
