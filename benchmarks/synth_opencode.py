"""A deterministic synthetic OpenCode data directory (its ``opencode.db``), with ground truth.

The database has the schema of a current OpenCode (1.17: a database created by an older
release and upgraded, so later columns sit at the end of ``session``), with the traps of the
format: several model calls (steps) in one assistant message, whose ``tokens`` keep only the
last step's; output stored without its reasoning (AI SDK v6 builds) and a stored total that
says so; user ``!`` shell commands (a tool call with no model call); turns interrupted before
their step finished (no usage recorded); subagent sessions started by the ``task`` tool;
@-mentioned files read into synthetic user text; compactions; session aggregate columns that
hold only last-step tokens; account and share tables holding secrets beside the sessions.

Ground truth is what the generator decided (prompts typed, calls made, tokens spent), not what
a parser reads back.

    python -m benchmarks.synth_opencode OUT_DIR [--sessions N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import string
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks.synth import EPOCH, PROJECTS, _padding, _Truth

MODELS = (("anthropic", "claude-sonnet-4-5"), ("openai", "gpt-5.2"), ("opencode", "kimi-k2.6"), ("google", "gemini-2.5-pro"))
TOOLS = ("read", "edit", "bash", "grep", "glob", "write", "todowrite")
VERSION = "1.17.3"

# The tables a current OpenCode creates that a reader needs, and some it must leave alone.
SCHEMA = """
CREATE TABLE project (id text PRIMARY KEY, worktree text NOT NULL, vcs text, name text, icon_url text, icon_color text,
  time_created integer NOT NULL, time_updated integer NOT NULL, time_initialized integer, sandboxes text NOT NULL,
  commands text, icon_url_override text);
CREATE TABLE session (id text PRIMARY KEY, project_id text NOT NULL, parent_id text, slug text NOT NULL,
  directory text NOT NULL, title text NOT NULL, version text NOT NULL, share_url text, summary_additions integer,
  summary_deletions integer, summary_files integer, summary_diffs text, revert text, permission text,
  time_created integer NOT NULL, time_updated integer NOT NULL, time_compacting integer, time_archived integer,
  workspace_id text, path text, agent text, model text, cost real DEFAULT 0 NOT NULL,
  tokens_input integer DEFAULT 0 NOT NULL, tokens_output integer DEFAULT 0 NOT NULL,
  tokens_reasoning integer DEFAULT 0 NOT NULL, tokens_cache_read integer DEFAULT 0 NOT NULL,
  tokens_cache_write integer DEFAULT 0 NOT NULL, metadata text,
  FOREIGN KEY (project_id) REFERENCES project(id) ON DELETE CASCADE);
CREATE TABLE message (id text PRIMARY KEY, session_id text NOT NULL, time_created integer NOT NULL,
  time_updated integer NOT NULL, data text NOT NULL, FOREIGN KEY (session_id) REFERENCES session(id) ON DELETE CASCADE);
CREATE TABLE part (id text PRIMARY KEY, message_id text NOT NULL, session_id text NOT NULL, time_created integer NOT NULL,
  time_updated integer NOT NULL, data text NOT NULL, FOREIGN KEY (message_id) REFERENCES message(id) ON DELETE CASCADE);
CREATE INDEX message_session_time_created_id_idx ON message (session_id, time_created, id);
CREATE INDEX part_message_id_id_idx ON part (message_id, id);
CREATE INDEX part_session_idx ON part (session_id);
CREATE INDEX session_project_idx ON session (project_id);
CREATE INDEX session_parent_idx ON session (parent_id);
CREATE TABLE session_share (session_id text PRIMARY KEY, id text NOT NULL, secret text NOT NULL, url text NOT NULL,
  time_created integer NOT NULL, time_updated integer NOT NULL);
CREATE TABLE account (id text PRIMARY KEY, email text NOT NULL, url text NOT NULL, access_token text NOT NULL,
  refresh_token text NOT NULL, token_expiry integer, time_created integer NOT NULL, time_updated integer NOT NULL);
CREATE TABLE credential (id text PRIMARY KEY, provider_id text NOT NULL, value text NOT NULL);
CREATE TABLE event (id text PRIMARY KEY, aggregate_id text NOT NULL, seq integer NOT NULL, type text NOT NULL,
  data text NOT NULL);
CREATE TABLE migration (id text PRIMARY KEY, time_completed integer NOT NULL);
"""
NOT_A_SECRET = "synthetic-placeholder-not-a-credential"


def create_database(path: Path) -> sqlite3.Connection:
    """An empty database of the current schema, in WAL mode as OpenCode keeps it."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.executescript(SCHEMA)
    con.execute("INSERT INTO migration VALUES ('20260127222353_familiar_lady_ursula', 1769558633000)")
    con.execute("INSERT INTO account VALUES ('acc_1', 'dev@example.invalid', 'https://example.invalid', ?, ?, NULL, 0, 0)",
                (NOT_A_SECRET, NOT_A_SECRET))
    con.execute("INSERT INTO credential VALUES ('cred_1', 'anthropic', ?)", (NOT_A_SECRET,))
    return con


def insert_project(con: sqlite3.Connection, project_id: str, worktree: str, at: int) -> None:
    con.execute("INSERT OR IGNORE INTO project (id, worktree, vcs, time_created, time_updated, sandboxes) VALUES (?, ?, 'git', ?, ?, '[]')",
                (project_id, worktree, at, at))


def insert_session(con: sqlite3.Connection, session_id: str, directory: str, created: int, updated: int,
                   parent_id: str | None = None, version: str = VERSION, project_id: str = "global") -> None:
    insert_project(con, project_id, directory, created)
    con.execute(
        "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (session_id, project_id, parent_id, "quiet-river", directory, "New session", version, created, updated))


def insert_message(con: sqlite3.Connection, session_id: str, message_id: str, data: dict) -> None:
    """A message row: its object without ``id``/``sessionID`` (they are the row's columns)."""
    at = data["time"]["created"]
    con.execute("INSERT INTO message VALUES (?, ?, ?, ?, ?)", (message_id, session_id, at, at, json.dumps(data)))


def insert_part(con: sqlite3.Connection, session_id: str, message_id: str, part_id: str, data: dict, at: int) -> None:
    con.execute("INSERT INTO part VALUES (?, ?, ?, ?, ?, ?)", (part_id, message_id, session_id, at, at, json.dumps(data)))


def stored_tokens(input_total: int, cache_read: int, cache_write: int, output_total: int, reasoning: int) -> dict:
    """What an AI SDK v6 build stores for a call: input without the cached part, output without
    its reasoning, and the provider's own total."""
    return {"total": input_total + output_total, "input": input_total - cache_read - cache_write,
            "output": output_total - reasoning, "reasoning": reasoning, "cache": {"read": cache_read, "write": cache_write}}


_ALPHABET = string.ascii_letters + string.digits


class _Ids:
    """OpenCode-shaped ids: message and part ids ascend in creation order."""

    def __init__(self, rng: random.Random):
        self.rng, self.seq = rng, 0

    def __call__(self, prefix: str, at_ms: int) -> str:
        self.seq += 1
        tail = "".join(self.rng.choice(_ALPHABET) for _ in range(10))
        return f"{prefix}_{at_ms:011x}{self.seq:05d}{tail}"


class _Writer:
    """Writes one session's messages and parts, advancing its clock, counting its truth."""

    def __init__(self, con: sqlite3.Connection, ids: _Ids, rng: random.Random, session_id: str, start: datetime, truth: _Truth):
        self.con, self.ids, self.rng, self.sid, self.truth = con, ids, rng, session_id, truth
        self.clock = int(start.timestamp() * 1000)

    def tick(self) -> int:
        """The clock, moved on: for times a reader does not see (row columns)."""
        self.clock += self.rng.randrange(50, 3000)
        return self.clock

    def stamp(self) -> int:
        """The clock, moved on, for a time written into a message or part."""
        at = self.tick()
        self.truth.saw(datetime.fromtimestamp(at / 1000, timezone.utc))
        return at

    def message(self, data: dict) -> str:
        mid = self.ids("msg", data["time"]["created"])
        insert_message(self.con, self.sid, mid, data)
        return mid

    def part(self, mid: str, data: dict) -> None:
        at = self.clock
        insert_part(self.con, self.sid, mid, self.ids("prt", at), data, at)


def _session(con: sqlite3.Connection, ids: _Ids, rng: random.Random, index: int, parent: tuple[str, datetime] | None,
             pad_bytes: int) -> tuple[dict, datetime | None]:
    """One session; returns its truth and, when it called the task tool, the child it spawned."""
    sid = "ses_" + "".join(rng.choice(_ALPHABET) for _ in range(26))
    cwd = rng.choice(PROJECTS)
    start = parent[1] if parent else EPOCH + timedelta(days=index % 45, minutes=rng.randrange(0, 600))
    truth = _Truth(f"opencode:{sid}", has_reasoning=True)
    w = _Writer(con, ids, rng, sid, start, truth)
    provider, model = rng.choice(MODELS)
    spawned: datetime | None = None
    session_last_tokens = {"input": 0, "output": 0, "reasoning": 0, "read": 0, "write": 0}
    created = w.tick()
    for turn in range(1 if parent else rng.randint(1, 4)):
        if not parent and rng.random() < 0.15:  # a `!` shell command: a tool call, not a prompt, not a model call
            user = w.message({"role": "user", "time": {"created": w.stamp()}, "agent": "build",
                              "model": {"providerID": provider, "modelID": model}})
            w.part(user, {"type": "text", "text": "The following tool was executed by the user", "synthetic": True})
            at, t0, t1 = w.stamp(), w.stamp(), w.stamp()
            shell = w.message({"role": "assistant", "parentID": user, "time": {"created": at, "completed": t1}, "modelID": model,
                               "providerID": provider, "mode": "build", "agent": "build", "cost": 0, "path": {"cwd": cwd, "root": cwd},
                               "tokens": {"input": 0, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0}}})
            w.part(shell, {"type": "tool", "tool": "bash", "callID": f"shell{index}x{turn}",
                           "state": {"status": "completed", "input": {"command": "git status"}, "output": "clean" + _padding(pad_bytes),
                                     "title": "", "metadata": {}, "time": {"start": t0, "end": t1}}})
            truth.tools += 1
        if not parent and rng.random() < 0.1 and turn > 0:  # a compaction: marker, then a summary that is a model call
            marker = w.message({"role": "user", "time": {"created": w.stamp()}, "agent": "build", "model": {"providerID": provider, "modelID": model}})
            w.part(marker, {"type": "compaction", "auto": True})
            _assistant(w, provider, model, cwd, turn, marker, pad_bytes, summary=True, session_last_tokens=session_last_tokens)
        if rng.random() < 0.25 and not parent:
            provider, model = rng.choice(MODELS)  # the user switched models
        user = w.message({"role": "user", "time": {"created": w.stamp()}, "agent": "build", "model": {"providerID": provider, "modelID": model}})
        w.part(user, {"type": "text", "text": f"Turn {turn}: please look at module {rng.randrange(100)}"})
        if not parent:
            truth.prompts += 1  # a subagent's prompt was written by its parent's model, not a person
        if rng.random() < 0.2:  # an @-mentioned file, read in by OpenCode as synthetic text
            w.part(user, {"type": "text", "synthetic": True, "text": "Called the Read tool with the following input: {}"})
            w.part(user, {"type": "file", "mime": "text/plain", "filename": "notes.md", "url": "file:///notes.md"})
        for _ in range(rng.randint(1, 3)):
            spawn = _assistant(w, provider, model, cwd, turn, user, pad_bytes, can_spawn=not parent and spawned is None,
                               session_last_tokens=session_last_tokens)
            spawned = spawned or spawn
    insert_session(con, sid, cwd, created, w.clock, parent_id=parent[0] if parent else None)
    # 1.15+ aggregate columns, backfilled from message tokens: last steps only, never to be read
    con.execute("UPDATE session SET tokens_input = ?, tokens_output = ?, tokens_reasoning = ? WHERE id = ?",
                (session_last_tokens["input"], session_last_tokens["output"], session_last_tokens["reasoning"], sid))
    if rng.random() < 0.1:
        con.execute("INSERT INTO session_share VALUES (?, ?, ?, ?, 0, 0)", (sid, "share1", NOT_A_SECRET, "https://example.invalid/s"))
    con.execute("INSERT INTO event VALUES (?, ?, 1, 'session.created', '{}')", (f"evt_{sid}", sid))
    return truth.as_dict(), spawned


def _assistant(w: _Writer, provider: str, model: str, cwd: str, turn: int, parent_message: str, pad_bytes: int,
               summary: bool = False, can_spawn: bool = False, session_last_tokens: dict | None = None) -> datetime | None:
    """One assistant message of one or more steps (model calls), or an interrupted one; when
    it called the task tool, when (its subagent session starts then)."""
    rng, truth = w.rng, w.truth
    created = w.stamp()
    interrupted = not summary and rng.random() < 0.08
    steps = 1 if summary or interrupted else rng.choice((1, 1, 1, 2, 3))
    parts: list[dict] = []
    cost_total, last_tokens, spawned = 0.0, None, None
    for step in range(steps):
        parts.append({"type": "step-start"})
        if rng.random() < 0.5 and not summary:
            t0, t1 = w.stamp(), w.stamp()
            parts.append({"type": "reasoning", "text": f"thinking about step {step}", "time": {"start": t0, "end": t1}})
        last_step = step == steps - 1
        if last_step or summary:
            t0, t1 = w.stamp(), w.stamp()
            parts.append({"type": "text", "text": "Summary of the work so far." if summary else f"Step {step} of turn {turn}.",
                          "time": {"start": t0, "end": t1}})
        if not summary and (not last_step or rng.random() < 0.3):
            for n in range(rng.choice((1, 1, 2))):
                t0 = w.stamp()
                tool = "task" if can_spawn and spawned is None and rng.random() < 0.1 else rng.choice(TOOLS)
                status = "running" if interrupted else ("error" if rng.random() < 0.05 else "completed")
                state: dict = {"status": status, "input": {"arg": rng.randrange(1000)}, "time": {"start": t0}}
                if status == "completed":
                    state.update(output="done" + _padding(pad_bytes), title=tool, metadata={}, time={"start": t0, "end": w.stamp()})
                elif status == "error":
                    state.update(error="tool failed", time={"start": t0, "end": w.stamp()})
                if tool == "task":
                    spawned = datetime.fromtimestamp(t0 / 1000, timezone.utc)
                parts.append({"type": "tool", "tool": tool, "callID": f"call_{t0}_{n}", "state": state})
                truth.tools += 1
        if interrupted:
            break  # stopped mid-step: no step-finish, so OpenCode recorded no usage
        input_total = rng.randrange(2000, 60000)
        cache_read = rng.randrange(0, input_total // 2)
        cache_write = rng.randrange(0, min(3000, input_total - cache_read)) if provider == "anthropic" else 0
        output_total = rng.randrange(10, 3000)
        reasoning = rng.randrange(0, output_total) if provider in ("openai", "google") else 0
        tokens = stored_tokens(input_total, cache_read, cache_write, output_total, reasoning)
        cost = round(rng.random() / 50, 6)
        w.tick()
        parts.append({"type": "step-finish", "reason": "stop" if last_step else "tool-calls", "cost": cost, "tokens": tokens})
        cost_total += cost
        last_tokens = tokens
        truth.calls.append(model)
        truth.tok["input_tokens"] += tokens["input"]
        truth.tok["cache_read_tokens"] += cache_read
        truth.tok["cache_creation_tokens"] += cache_write
        truth.tok["cache_creation_5m_tokens"] += cache_write
        truth.tok["output_tokens"] += output_total
        truth.tok["reasoning_tokens"] += reasoning
    completed = None if interrupted and rng.random() < 0.5 else w.stamp()
    data = {"role": "assistant", "parentID": parent_message, "time": {"created": created}, "modelID": model, "providerID": provider,
            "mode": "compaction" if summary else "build", "agent": "build", "path": {"cwd": cwd, "root": cwd}, "cost": cost_total,
            # overwritten at every step: the last step's only
            "tokens": last_tokens or {"input": 0, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0}}}
    if summary:
        data["summary"] = True
    if completed is not None:
        data["time"]["completed"] = completed
    if interrupted and completed is not None:
        data["error"] = {"name": "MessageAbortedError", "data": {"message": "The operation was aborted."}}
    elif not interrupted:
        data["finish"] = "stop"
    mid = w.message(data)
    for part in parts:
        w.part(mid, part)
    if last_tokens and session_last_tokens is not None:
        for key in ("input", "output", "reasoning"):
            session_last_tokens[key] += last_tokens[key]
    return spawned


def generate(root: Path, sessions: int, rng: random.Random, pad_bytes: int = 0) -> dict[str, dict]:
    """Write ``sessions`` sessions into ``root/opencode.db`` (root = the data directory a user
    passes as --opencode-dir) and return the ground truth per canonical session id. A session
    that calls the ``task`` tool spawns the next one as its subagent."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    con = create_database(root / "opencode.db")
    ids = _Ids(rng)
    truth: dict[str, dict] = {}
    child_of: tuple[str, datetime] | None = None
    try:
        con.execute("BEGIN")
        for i in range(sessions):
            parent = child_of
            t, spawned = _session(con, ids, rng, i, parent, pad_bytes)
            truth[t["id"]] = t
            child_of = (t["id"].split(":", 1)[1], spawned) if spawned else None
        con.execute("COMMIT")
    finally:
        con.close()  # the last connection checkpoints the WAL into the database and removes it
    return truth


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write a deterministic synthetic OpenCode database with ground truth.")
    p.add_argument("out_dir", type=Path)
    p.add_argument("--sessions", type=int, default=100)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--pad-bytes", type=int, default=0, help="lengthen each tool output by this many bytes")
    a = p.parse_args(argv)
    truth = generate(a.out_dir, a.sessions, random.Random(a.seed), a.pad_bytes)
    (a.out_dir / "ground_truth.json").write_text(json.dumps({"seed": a.seed, "sessions": truth}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {a.sessions} OpenCode sessions into {a.out_dir / 'opencode.db'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
