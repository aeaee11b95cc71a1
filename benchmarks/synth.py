"""A deterministic synthetic corpus of sessions of every source, with ground truth.

The generator writes both layouts as the real tools do, with the traps of FORMATS.md:
Claude responses streamed over several lines (partial output_tokens on early lines), tool
results as user lines, injected/meta user lines, ``<synthetic>`` notices; Codex mirrors of
prompts and answers, injected ``<environment_context>``, repeated and null
``token_count`` events, every kind of tool call, model switches between turns.

Ground truth is what the generator decided to write (prompts typed, calls made, tokens
spent), not what a parser reads back, so tests can hold the parsers to it. Claude and Codex
are written here; each other source by its own ``benchmarks/synth_<name>.py``.

    python -m benchmarks.synth OUT_DIR [--claude N] [--codex N] [--gemini N ...] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from importlib import import_module
from pathlib import Path
from typing import Mapping

import orjson

from claude_view_pipeline.sources import SOURCE_NAMES, Source

CLAUDE_MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001")
CODEX_MODELS = ("gpt-5-codex", "gpt-5.1", "gpt-5.2-codex")
PROJECTS = ("/home/dev/src/webapp", "/home/dev/src/data-pipeline", "/home/dev/src/cli-tool", "/work/infra")
TOOLS = ("Bash", "Read", "Edit", "Grep", "Write", "TodoWrite")
EPOCH = datetime(2026, 3, 1, 8, 0, 0, tzinfo=timezone.utc)


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _dump(lines: list[dict]) -> bytes:
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)


class _Truth:
    """Counts what a session really contains, as it is written."""

    def __init__(self, session_id: str, has_reasoning: bool):
        self.id = session_id
        self.prompts = 0
        self.tools = 0
        self.calls: list[str] = []  # model of each API call, in order
        self.tok = {"input_tokens": 0, "cache_read_tokens": 0, "cache_creation_tokens": 0, "cache_creation_5m_tokens": 0,
                    "cache_creation_1h_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0}
        self.has_reasoning = has_reasoning
        self.first: datetime | None = None
        self.last: datetime | None = None

    def saw(self, ts: datetime) -> None:
        self.first = ts if self.first is None or ts < self.first else self.first
        self.last = ts if self.last is None or ts > self.last else self.last

    def as_dict(self) -> dict:
        counts: dict[str, int] = {}
        for m in self.calls:
            counts[m] = counts.get(m, 0) + 1
        primary = None
        if counts:
            last_index = {m: i for i, m in enumerate(self.calls)}
            primary = max(counts, key=lambda m: (counts[m], last_index[m]))
        tok = dict(self.tok)
        if not self.has_reasoning:
            tok["reasoning_tokens"] = None
        tok["total_tokens"] = tok["input_tokens"] + tok["cache_read_tokens"] + tok["cache_creation_tokens"] + tok["output_tokens"]
        return {
            "id": self.id,
            "user_prompt_count": self.prompts,
            "tool_call_count": self.tools,
            "api_call_count": len(self.calls),
            "primary_model": primary,
            "started_at": _iso(self.first) if self.first else None,
            "ended_at": _iso(self.last) if self.last else None,
            **tok,
        }


_FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor\n"


def _padding(pad_bytes: int) -> str:
    """Tool output of about pad_bytes bytes (to make sessions the size of real ones); no
    randomness, so the same seed gives the same sessions whatever the padding."""
    return "" if pad_bytes <= 0 else (_FILLER * (pad_bytes // len(_FILLER) + 1))[:pad_bytes]


def _claude_session(rng: random.Random, index: int, pad_bytes: int = 0) -> tuple[str, str, bytes, dict]:
    sid = _uuid(rng)
    cwd = rng.choice(PROJECTS)
    main_model = rng.choice(CLAUDE_MODELS)
    truth = _Truth(f"claude:{sid}", has_reasoning=False)
    # every other session is written by a release that splits cache writes by lifetime, its
    # main thread writing mostly 1-hour caches (as Claude Code 2.1 does); no new random draw,
    # so the rest of the corpus is as it was
    version, split = ("2.1.37", True) if index % 2 else ("2.0.14", False)
    ts = EPOCH + timedelta(days=index % 45, minutes=rng.randrange(0, 600))
    lines: list[dict] = []
    parent: str | None = None

    def emit(line: dict) -> None:
        nonlocal parent, ts
        ts += timedelta(milliseconds=rng.randrange(200, 4000))
        u = _uuid(rng)
        full = {"parentUuid": parent, "isSidechain": False, "userType": "external", "cwd": cwd, "sessionId": sid,
                "version": version, "gitBranch": "main", **line, "uuid": u, "timestamp": _iso(ts)}
        lines.append(full)
        truth.saw(ts)
        parent = u

    if rng.random() < 0.5:  # injected context before the first prompt: not a prompt
        emit({"type": "user", "isMeta": True, "message": {"role": "user", "content": "Caveat: The messages below were generated by the user while running local commands."}})
    for turn in range(rng.randint(1, 5)):
        if rng.random() < 0.15:  # a slash command counts as a prompt of kind "command"
            emit({"type": "user", "message": {"role": "user", "content": "<command-message>review</command-message>\n<command-name>/review</command-name>"}})
            emit({"type": "user", "message": {"role": "user", "content": "<local-command-stdout>ok</local-command-stdout>"}})
        else:
            emit({"type": "user", "message": {"role": "user", "content": f"Task {turn}: please look at module {rng.randrange(100)}"}})
        truth.prompts += 1
        for call in range(rng.randint(1, 4)):
            model = main_model if rng.random() < 0.75 else rng.choice(CLAUDE_MODELS)
            usage = {
                "input_tokens": rng.randrange(1, 60),
                "cache_creation_input_tokens": rng.randrange(0, 5000),
                "cache_read_input_tokens": rng.randrange(0, 40000),
                "output_tokens": rng.randrange(20, 2000),
            }
            one_hour = usage["cache_creation_input_tokens"] - usage["cache_creation_input_tokens"] // 4 if split else 0
            if split:
                usage["cache_creation"] = {"ephemeral_5m_input_tokens": usage["cache_creation_input_tokens"] - one_hour,
                                           "ephemeral_1h_input_tokens": one_hour}
            n_tools = rng.choice((0, 0, 1, 1, 2))
            blocks: list[dict] = []
            if rng.random() < 0.4:
                blocks.append({"type": "thinking", "thinking": f"thinking about step {call}", "signature": "sig"})
            blocks.append({"type": "text", "text": f"Step {call} of turn {turn}."})
            tool_ids = []
            for _ in range(n_tools):
                tid = "toolu_" + _uuid(rng).replace("-", "")[:24]
                tool_ids.append(tid)
                blocks.append({"type": "tool_use", "id": tid, "name": rng.choice(TOOLS), "input": {"arg": rng.randrange(1000)}})
            mid = "msg_" + _uuid(rng).replace("-", "")[:24]
            rid = "req_" + _uuid(rng).replace("-", "")[:24]
            # one line per content block; early lines carry partial output_tokens (ccusage #901)
            for i, block in enumerate(blocks):
                last = i == len(blocks) - 1
                u = dict(usage, output_tokens=usage["output_tokens"] if last else rng.randrange(1, usage["output_tokens"] + 1))
                emit({"type": "assistant", "requestId": rid, "message": {"id": mid, "type": "message", "role": "assistant", "model": model,
                      "content": [block], "stop_reason": "tool_use" if tool_ids and last else None, "usage": u}})
            truth.calls.append(model)
            truth.tools += n_tools
            truth.tok["input_tokens"] += usage["input_tokens"]
            truth.tok["cache_creation_tokens"] += usage["cache_creation_input_tokens"]
            truth.tok["cache_creation_5m_tokens"] += usage["cache_creation_input_tokens"] - one_hour
            truth.tok["cache_creation_1h_tokens"] += one_hour
            truth.tok["cache_read_tokens"] += usage["cache_read_input_tokens"]
            truth.tok["output_tokens"] += usage["output_tokens"]
            for tid in tool_ids:  # tool results come back as user lines: never prompts
                out = "done" + _padding(pad_bytes)
                emit({"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tid, "content": out, "is_error": False}]},
                      "toolUseResult": {"stdout": out, "stderr": "", "interrupted": False}})
        if rng.random() < 0.1:  # a client-made notice: not an API call, not a model
            emit({"type": "assistant", "isApiErrorMessage": True, "message": {"id": _uuid(rng), "role": "assistant", "model": "<synthetic>",
                  "content": [{"type": "text", "text": "API Error: overloaded"}], "usage": {"input_tokens": 0, "output_tokens": 0}}})
    lines.append({"type": "summary", "summary": f"Synthetic session {index}", "leafUuid": parent})
    project_dir = cwd.replace("/", "-").replace(".", "-")
    return project_dir, f"{sid}.jsonl", _dump(lines), truth.as_dict()


def _codex_session(rng: random.Random, index: int, pad_bytes: int = 0) -> tuple[str, bytes, dict]:
    sid = _uuid(rng)
    cwd = rng.choice(PROJECTS)
    truth = _Truth(f"codex:{sid}", has_reasoning=True)
    ts = EPOCH + timedelta(days=index % 45, minutes=rng.randrange(0, 600))
    start = ts
    lines: list[dict] = []
    total = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0, "reasoning_output_tokens": 0, "total_tokens": 0}

    def emit(kind: str, payload: dict) -> None:
        nonlocal ts
        ts += timedelta(milliseconds=rng.randrange(100, 3000))
        lines.append({"timestamp": _iso(ts), "type": kind, "payload": payload})
        truth.saw(ts)

    emit("session_meta", {"id": sid, "timestamp": _iso(start), "cwd": cwd, "originator": "codex_cli_rs", "cli_version": "0.77.0",
                          "instructions": None, "source": "cli", "model_provider": "openai", "git": {"branch": "main", "commit_hash": "0" * 40}})
    emit("response_item", {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "<permissions instructions>"}]})
    emit("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": f"<environment_context>\n  <cwd>{cwd}</cwd>\n</environment_context>"}]})
    model = rng.choice(CODEX_MODELS)
    for turn in range(rng.randint(1, 5)):
        if rng.random() < 0.2:
            model = rng.choice(CODEX_MODELS)  # /model switch between turns
        emit("turn_context", {"cwd": cwd, "approval_policy": "on-request", "sandbox_policy": {"type": "workspace-write"}, "model": model, "effort": "medium", "summary": "auto"})
        prompt = f"Turn {turn}: fix issue #{rng.randrange(1000)}"
        emit("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]})
        emit("event_msg", {"type": "user_message", "message": prompt, "images": []})
        truth.prompts += 1
        if rng.random() < 0.3:  # a token_count with info: null (rate limits only)
            # how full the plan's windows are follows the session's spend (no random draw, so
            # the rest of the corpus is the same whatever these values are)
            used = min(100.0, round(total["total_tokens"] / 4000, 1))
            emit("event_msg", {"type": "token_count", "info": None, "rate_limits": {
                "primary": {"used_percent": used, "window_minutes": 300, "resets_in_seconds": 3600},
                "secondary": {"used_percent": round(used / 6, 1), "window_minutes": 10080, "resets_in_seconds": 86400}}})
        for call in range(rng.randint(1, 4)):
            inp = rng.randrange(2000, 30000)
            cached = rng.randrange(0, inp)
            out = rng.randrange(10, 3000)
            reasoning = rng.randrange(0, out)
            emit("response_item", {"type": "reasoning", "summary": [{"type": "summary_text", "text": f"**Plan {call}**"}], "content": None, "encrypted_content": "gAAA"})
            emit("event_msg", {"type": "agent_reasoning", "text": f"**Plan {call}**"})
            final = call > 0 and rng.random() < 0.4
            if final:
                text = f"Done with turn {turn}."
                emit("response_item", {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]})
                emit("event_msg", {"type": "agent_message", "message": text})
            else:
                kind = rng.choice(("function_call", "function_call", "custom_tool_call", "local_shell_call", "web_search_call"))
                cid = "call_" + _uuid(rng).replace("-", "")[:20]
                if kind == "function_call":
                    emit("response_item", {"type": "function_call", "name": "shell", "arguments": json.dumps({"command": ["ls"]}), "call_id": cid})
                    emit("response_item", {"type": "function_call_output", "call_id": cid, "output": json.dumps({"output": "a b" + _padding(pad_bytes), "metadata": {"exit_code": 0}})})
                elif kind == "custom_tool_call":
                    emit("response_item", {"type": "custom_tool_call", "status": "completed", "call_id": cid, "name": "apply_patch", "input": "*** Begin Patch\n*** End Patch"})
                    emit("response_item", {"type": "custom_tool_call_output", "call_id": cid, "output": "Success."})
                elif kind == "local_shell_call":
                    emit("response_item", {"type": "local_shell_call", "call_id": cid, "status": "completed", "action": {"type": "exec", "command": ["pytest", "-q"]}})
                    emit("response_item", {"type": "function_call_output", "call_id": cid, "output": "1 passed" + _padding(pad_bytes)})
                else:
                    emit("response_item", {"type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "duckdb arrow"}})
                truth.tools += 1
            last = {"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": out, "reasoning_output_tokens": reasoning, "total_tokens": inp + out}
            for k in ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens"):
                total[k] += last[k]
            info = {"total_token_usage": dict(total), "last_token_usage": last, "model_context_window": 272000}
            emit("event_msg", {"type": "token_count", "info": info, "rate_limits": None})
            if rng.random() < 0.3:  # the same running total re-emitted: not a new call
                emit("event_msg", {"type": "token_count", "info": info, "rate_limits": None})
            truth.calls.append(model)
            truth.tok["input_tokens"] += inp - cached
            truth.tok["cache_read_tokens"] += cached
            truth.tok["output_tokens"] += out
            truth.tok["reasoning_tokens"] += reasoning
            if final:
                break
    name = f"rollout-{start.strftime('%Y-%m-%dT%H-%M-%S')}-{sid}.jsonl"
    rel = f"{start:%Y}/{start:%m}/{start:%d}/{name}"
    return rel, _dump(lines), truth.as_dict()


def generate(out_dir: Path, claude_sessions: int = 300, codex_sessions: int = 300, seed: int = 7,
             pad_bytes: int | tuple[int, int] = 0, more: Mapping[str, int] | None = None) -> dict:
    """Write the corpus under out_dir (claude/projects, codex/sessions) and ground_truth.json.
    ``pad_bytes`` (one value, or Claude's and Codex's) lengthens tool outputs; benchmarks use
    it to reach real session sizes. ``more``: sessions of the other sources by name, each
    written by its generator (benchmarks/synth_<name>.py) under ``<name>/<corpus_dir>``, the
    directory a user would pass as ``--<name>-dir``."""
    claude_pad, codex_pad = pad_bytes if isinstance(pad_bytes, tuple) else (pad_bytes, pad_bytes)
    out_dir = Path(out_dir)
    claude_root = out_dir / "claude" / "projects"
    codex_root = out_dir / "codex" / "sessions"
    truth: dict[str, dict] = {}
    rng = random.Random(seed)
    for i in range(claude_sessions):
        project, name, data, t = _claude_session(rng, i, claude_pad)
        path = claude_root / project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        truth[t["id"]] = t
    rng = random.Random(seed + 1)
    for i in range(codex_sessions):
        rel, data, t = _codex_session(rng, i, codex_pad)
        path = codex_root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        truth[t["id"]] = t
    for offset, (name, count) in enumerate((more or {}).items(), start=2):
        generator = import_module(f"benchmarks.synth_{name}")
        truth.update(generator.generate(source_dir(out_dir, name), count, random.Random(seed + offset), claude_pad))
    result = {"seed": seed, "claude_sessions": claude_sessions, "codex_sessions": codex_sessions, "sessions": truth}
    if more:
        result["more_sessions"] = dict(more)
    (out_dir / "ground_truth.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    return result


# fixtures/demo: generate(DIR, claude_sessions=4, codex_sessions=3, seed=2026, more=DEMO_MORE)
DEMO_MORE = {name: 2 for name in SOURCE_NAMES[2:]}


def source_dir(out_dir: Path, name: str) -> Path:
    """Where the corpus keeps a source's files: the directory ``--<name>-dir`` takes."""
    return Path(out_dir) / name / Source(name).spec.corpus_dir


def corpus_env(out_dir: Path) -> dict[str, str]:
    """Each source's own setting pointed at the corpus, for processes that take no flags
    (``dagster dev``): Claude's and Codex's name the directory ``--<name>-dir`` takes, the
    other agents' the one above it, as the agents themselves read them."""
    out_dir = Path(out_dir)
    return {"CLAUDE_PROJECTS_DIR": str(source_dir(out_dir, "claude")), "CODEX_SESSIONS_DIR": str(source_dir(out_dir, "codex")),
            "GEMINI_DATA_DIR": str(out_dir / "gemini"), "QWEN_DATA_DIR": str(out_dir / "qwen"),
            "COPILOT_HOME": str(out_dir / "copilot"), "OPENCODE_DATA_DIR": str(out_dir / "opencode")}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write a deterministic synthetic corpus of every source with ground truth.")
    p.add_argument("out_dir", type=Path)
    p.add_argument("--claude", type=int, default=300)
    p.add_argument("--codex", type=int, default=300)
    for name in SOURCE_NAMES[2:]:
        p.add_argument(f"--{name}", type=int, default=0, help=f"{Source(name).spec.label} sessions (default 0)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--pad-bytes", type=int, default=0, help="lengthen each tool output by this many bytes")
    a = p.parse_args(argv)
    more = {name: getattr(a, name) for name in SOURCE_NAMES[2:] if getattr(a, name)}
    result = generate(a.out_dir, a.claude, a.codex, a.seed, a.pad_bytes, more)
    print(f"wrote {len(result['sessions'])} sessions under {a.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
