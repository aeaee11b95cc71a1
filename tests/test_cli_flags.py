"""Every command honours each flag it accepts, or refuses it with exit status 2 naming it: this
walks the parser's every command and option (a `usage` period counting as a command of its
own) and runs a check for each, so a flag added without one fails here."""

import argparse
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from benchmarks.synth import generate, source_dir
from claude_view_pipeline.cli import build_parser, main
from claude_view_pipeline.config import is_setting
from claude_view_pipeline.sources import SOURCE_NAMES

from helpers import run_cli

PERIODS = ("daily", "weekly", "monthly", "session", "blocks", "limits")


def every_command_and_flag() -> set[tuple[str, str]]:
    out = set()

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*path, name))
            elif not isinstance(action, argparse._HelpAction):
                flag = action.option_strings[0] if action.option_strings else action.dest
                commands = [(*path, p) for p in PERIODS] if path == ("usage",) and flag != "period" else [path]
                out.update((" ".join(c), flag) for c in commands)

    walk(build_parser(), ())
    return out


class Ctx:
    """A small corpus of both tools, its index, and the CLI run in this process."""

    def __init__(self, root: Path, capsys, monkeypatch):
        self.root, self.capsys, self.monkeypatch = root, capsys, monkeypatch
        self.db = root / "i.duckdb"
        self.claude, self.codex = root / "c/claude/projects", root / "c/codex/sessions"

    def run(self, *argv, env: dict | None = None) -> tuple[int, str, str]:
        for k, v in (env or {}).items():
            self.monkeypatch.setenv(k, v)
        self.capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *argv) -> object:
        code, out, err = self.run(*argv)
        assert code == 0, err
        return json.loads(out)

    def refused(self, flag: str, *argv) -> None:
        code, _, err = self.run(*argv)
        assert code == 2 and f"{flag} applies to" in err, (argv, code, err)

    def garbage(self) -> Path:
        bad = self.root / "garbage.duckdb"
        bad.write_bytes(b"this is not a DuckDB file" * 100)
        return bad

    def debug_shows_the_traceback(self, *argv) -> None:
        """A failing command ends with one line naming the cause; with --debug after the
        command, and before it, the traceback (printed, or the exception itself)."""
        code, _, err = self.run(*argv)
        assert code == 1 and "Traceback" not in err and err.strip().splitlines()[-1].startswith("claude-view-pipeline: "), err
        for debug_argv in ((argv[0], "--debug", *argv[1:]), ("--debug", *argv)):
            try:
                code, _, err = self.run(*debug_argv)
            except Exception:  # noqa: BLE001 - the traceback: what --debug is for
                continue
            assert code == 1 and "Traceback" in err, (debug_argv, err)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("flags")
    # Codex's plan windows on two days; one session of each other source, indexed only by the
    # checks of their --<name>-dir flags
    generate(root / "c", claude_sessions=4, codex_sessions=6, seed=77, more=dict.fromkeys(SOURCE_NAMES[2:], 1))
    proc = run_cli("index", "--db", str(root / "i.duckdb"), "--claude-dir", str(root / "c/claude/projects"),
                   "--codex-dir", str(root / "c/codex/sessions"))
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture
def ctx(corpus, tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for k in list(__import__("os").environ):
        if is_setting(k) or k == "DAGSTER_HOME":
            monkeypatch.delenv(k)
    root = tmp_path / "w"
    shutil.copytree(corpus, root)  # each check gets its own copy to change
    # the index names the files where the copy was made from: point the recorded roots here
    con = duckdb.connect(str(root / "i.duckdb"))
    con.execute("UPDATE source_roots SET roots = list_transform(roots, lambda r: replace(r, ?, ?))", [str(corpus), str(root)])
    con.close()
    return Ctx(root, capsys, monkeypatch)


def total(rows) -> int:
    return sum(r["total_tokens"] for r in rows)


def usage_json(c: Ctx, period: str, *extra) -> list:
    return c.json("usage", period, "--db", c.db, "--no-refresh", "--json", "--timezone", "UTC", *extra)


def index_totals(c: Ctx, where: str = "true") -> int:
    con = duckdb.connect(str(c.db), read_only=True)
    try:
        return con.execute(f"SELECT coalesce(sum(total_tokens), 0) FROM sessions WHERE {where}").fetchone()[0]
    finally:
        con.close()


# --- the checks, one per (command, flag) -----------------------------------------------------

def _add_session(c: Ctx) -> None:
    generate(c.root / "more", claude_sessions=1, codex_sessions=0, seed=78)
    shutil.copytree(c.root / "more/claude/projects", c.claude, dirs_exist_ok=True)


def usage_checks(period: str) -> dict:
    rollup = period in ("daily", "weekly", "monthly", "session")
    checks = {
        "--db": lambda c: (usage_json(c, period), _assert(c.run("usage", period, "--db", c.root / "none.duckdb", "--no-refresh")[0] == 2)),
        "--json": lambda c: usage_json(c, period),
        "--debug": lambda c: c.debug_shows_the_traceback("usage", period, "--db", c.garbage()),
        "--timezone": lambda c: _timezone(c, period),
        "--sources": lambda c: _sources(c, period),
        "--project": lambda c: _project(c, period),
        "--since": lambda c: _since_until(c, period, "--since"),
        "--until": lambda c: _since_until(c, period, "--until"),
        "--no-refresh": lambda c: _no_refresh(c, period),
    }
    if rollup:
        checks["--plot"] = lambda c: _plot(c, period)
        checks["--active"] = lambda c: c.refused("--active", "usage", period, "--db", c.db, "--active")
        checks["--recent"] = lambda c: c.refused("--recent", "usage", period, "--db", c.db, "--recent")
    if period == "blocks":
        checks["--plot"] = lambda c: c.refused("--plot", "usage", "blocks", "--db", c.db, "--plot", c.root / "x.png")
        # the corpus is of March 2026: no block is active, none is of the last three days
        checks["--active"] = lambda c: _assert(usage_json(c, "blocks") != [] and usage_json(c, "blocks", "--active") == [])
        checks["--recent"] = lambda c: _assert(usage_json(c, "blocks") != [] and usage_json(c, "blocks", "--recent") == [])
    if period == "limits":
        checks["--plot"] = lambda c: _plot(c, period)
        checks["--active"] = lambda c: c.refused("--active", "usage", period, "--db", c.db, "--active")
        checks["--recent"] = lambda c: c.refused("--recent", "usage", period, "--db", c.db, "--recent")
    if period == "weekly":
        checks["--week-start"] = _week_start
    else:
        checks["--week-start"] = lambda c: c.refused("--week-start", "usage", period, "--db", c.db, "--week-start", "sunday")
    return checks


def _assert(condition, what=""):
    assert condition, what


def _sources(c: Ctx, period: str) -> None:
    if period == "limits":  # Codex alone reports plan windows
        _assert(c.json("usage", "limits", "--db", c.db, "--no-refresh", "--json", "--sources", "codex")["windows"] != [])
        _assert(c.json("usage", "limits", "--db", c.db, "--no-refresh", "--json", "--sources", "claude")["windows"] == [])
        return
    rows = usage_json(c, period, "--sources", "codex")
    _assert(rows and {r["source"] for r in rows} == {"codex"})
    if period != "blocks":
        _assert(total(rows) == index_totals(c, "source = 'codex'"))


def _project(c: Ctx, period: str) -> None:
    con = duckdb.connect(str(c.db), read_only=True)
    project, tokens = con.execute("SELECT project, sum(total_tokens) FROM sessions WHERE source = 'codex' GROUP BY project ORDER BY 1 LIMIT 1").fetchone()
    con.close()
    if period == "limits":
        days = c.json("usage", "limits", "--db", c.db, "--no-refresh", "--json", "--project", project)["days"]
        every = c.json("usage", "limits", "--db", c.db, "--no-refresh", "--json")["days"]
        _assert(0 < len(days) <= len(every))
        _assert(c.json("usage", "limits", "--db", c.db, "--no-refresh", "--json", "--project", "no-such-project")["days"] == [])
        return
    rows = usage_json(c, period, "--project", project)
    _assert(rows and {r["project"] for r in rows if "project" in r} <= {project})
    if period != "blocks":
        _assert(total(rows) == index_totals(c, f"project = '{project}'"))
    _assert(usage_json(c, period, "--project", "no-such-project") == [])


def _since_until(c: Ctx, period: str, flag: str) -> None:
    if period == "limits":
        every = c.json("usage", "limits", "--db", c.db, "--no-refresh", "--json", "--timezone", "UTC")["days"]
        days = sorted({d["day"] for d in every})
        cut = days[-1] if flag == "--since" else days[0]
        got = c.json("usage", "limits", "--db", c.db, "--no-refresh", "--json", "--timezone", "UTC", flag, cut)["days"]
        _assert(0 < len(got) < len(every) and all((d["day"] >= cut) if flag == "--since" else (d["day"] <= cut) for d in got))
        return
    daily = usage_json(c, "daily")
    days = sorted({str(r["day"]) for r in daily})
    cut = days[len(days) // 2]
    kept = [r for r in daily if (str(r["day"]) >= cut if flag == "--since" else str(r["day"]) <= cut)]
    rows = usage_json(c, period, flag, cut)
    if period == "blocks":
        _assert(rows and all((b["start"][:10] >= cut) if flag == "--since" else (b["start"][:10] <= cut) for b in rows))
        return
    _assert(0 < total(rows) < total(daily) and total(rows) == total(kept))


def _timezone(c: Ctx, period: str) -> None:
    if period == "blocks":
        code, out, _ = c.run("usage", "blocks", "--db", c.db, "--no-refresh", "--timezone", "Asia/Tokyo")
        _assert(code == 0 and out.splitlines()[0] == "5-hour usage blocks (Asia/Tokyo)")
    elif period == "limits":
        utc = c.json("usage", "limits", "--db", c.db, "--no-refresh", "--json", "--timezone", "UTC")["days"]
        tokyo = c.json("usage", "limits", "--db", c.db, "--no-refresh", "--json", "--timezone", "Pacific/Kiritimati")["days"]
        _assert(utc != tokyo)
    else:
        _assert({r["timezone"] for r in c.json("usage", period, "--db", c.db, "--no-refresh", "--json", "--timezone", "Asia/Tokyo")} == {"Asia/Tokyo"})
    _assert(c.run("usage", period, "--db", c.db, "--no-refresh", "--timezone", "Mars/Olympus")[0] == 2)


def _plot(c: Ctx, period: str) -> None:
    png = c.root / f"{period}.png"
    code, _, err = c.run("usage", period, "--db", c.db, "--no-refresh", "--plot", png)
    _assert(code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", err)


def _week_start(c: Ctx) -> None:
    from datetime import date

    monday = {date.fromisoformat(str(r["week"])).weekday() for r in usage_json(c, "weekly")}
    sunday = {date.fromisoformat(str(r["week"])).weekday() for r in usage_json(c, "weekly", "--week-start", "sunday")}
    _assert(monday == {0} and sunday == {6})


def _no_refresh(c: Ctx, period: str) -> None:
    before = index_totals(c)
    _add_session(c)
    args = ["usage", period, "--db", c.db, "--json"]
    c.run(*args, "--no-refresh")
    _assert(index_totals(c) == before)  # answered from the index as it was
    c.run(*args)
    _assert(index_totals(c) > before)  # the new session indexed first


def hits(c: Ctx, *extra) -> list[dict]:
    return c.json("search", "--db", c.db, "--no-refresh", "--json", *extra)


def search_checks() -> dict:
    """The corpus's Claude prompts say "please look at module N", its Codex prompts "fix
    issue #N", its Claude answers "Step N of turn M."."""
    def claude_prompts(c: Ctx) -> int:
        return sum(f.read_text().count("please look at module") for f in c.claude.rglob("*.jsonl"))

    def project(c: Ctx) -> None:
        name = hits(c, "module")[0]["project"]
        chosen = hits(c, "module", "--project", name, "--limit", "1000")
        _assert(chosen and {h["project"] for h in chosen} == {name} and len(chosen) < claude_prompts(c))

    def days(c: Ctx, flag: str) -> None:
        every = sorted(h["timestamp"][:10] for h in hits(c, "module", "--limit", "1000", "--timezone", "UTC"))
        middle = every[len(every) // 2]
        some = [h["timestamp"][:10] for h in hits(c, "module", flag, middle, "--limit", "1000", "--timezone", "UTC")]
        _assert(some and len(some) < len(every)
                and all(d >= middle if flag == "--since" else d <= middle for d in some))

    def no_refresh(c: Ctx) -> None:
        before = len(hits(c, "module", "--limit", "1000"))
        _add_session(c)
        _assert(len(hits(c, "module", "--limit", "1000")) == before)
        after = c.json("search", "--db", c.db, "--json", "module", "--limit", "1000")
        _assert(len(after) > before)

    def rebuild(c: Ctx) -> None:
        from claude_view_pipeline.search import search_path

        search_path(c.db).unlink(missing_ok=True)
        code, _, err = c.run("search", "--db", c.db, "--no-refresh", "--rebuild")
        _assert(code == 0 and search_path(c.db).exists() and "built the search index" in err, err)

    return {
        "--debug": lambda c: c.debug_shows_the_traceback("search", "--db", c.garbage(), "--no-refresh", "module"),
        "--db": lambda c: (_assert(c.run("search", "--db", c.root / "none.duckdb", "--no-refresh", "module")[0] == 2),
                           _assert(len(hits(c, "module", "--limit", "1000")) == claude_prompts(c))),
        "query": lambda c: (_assert({h["source"] for h in hits(c, "module")} == {"claude"}),
                            _assert({h["source"] for h in hits(c, '"fix issue"')} == {"codex"})),
        "--sources": lambda c: _assert({h["source"] for h in hits(c, "module OR issue", "--sources", "codex")} == {"codex"}),
        "--project": project,
        "--since": lambda c: days(c, "--since"),
        "--until": lambda c: days(c, "--until"),
        "--role": lambda c: (_assert({h["role"] for h in hits(c, "Step", "--role", "assistant")} == {"assistant"}),
                             _assert(hits(c, "Step", "--role", "user") == [])),
        "--sort": lambda c: _assert([h["timestamp"] for h in hits(c, "module", "--sort", "newest")]
                                    == sorted((h["timestamp"] for h in hits(c, "module", "--limit", "1000")), reverse=True)[:20]),
        "--limit": lambda c: (_assert(len(hits(c, "module", "--limit", "2")) == 2),
                              _assert(c.run("search", "--db", c.db, "--no-refresh", "module", "--limit", "0")[0] == 2)),
        "--timezone": lambda c: (_assert("times in Asia/Tokyo" in c.run("search", "--db", c.db, "--no-refresh", "module", "--timezone", "Asia/Tokyo")[1]),
                                 _assert(c.run("search", "--db", c.db, "--no-refresh", "module", "--timezone", "Bad/Zone")[0] == 2)),
        "--json": lambda c: _assert({"session_id", "source", "timestamp", "project", "role", "snippet"} <= set(hits(c, "module")[0])),
        "--rebuild": rebuild,
        "--no-refresh": no_refresh,
    }


def _mcp_no_refresh(c: Ctx) -> None:
    from test_mcp_server import talk

    from claude_view_pipeline.config import environ_without_settings

    call = [("list_sessions", {"limit": 1})]
    _add_session(c)
    _, (before,) = talk(c.db, environ_without_settings(), call, "--no-refresh")
    _, (after,) = talk(c.db, environ_without_settings(), call)
    _assert((before.structured_content["total"], after.structured_content["total"]) == (10, 11))


def _index(c: Ctx, *extra) -> tuple[int, str, str]:
    return c.run("index", "--db", c.db, "--claude-dir", c.claude, "--codex-dir", c.codex, *extra)


def _index_summary(c: Ctx, *extra) -> dict:
    code, out, err = _index(c, "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def _team_env(store, c: Ctx) -> dict:
    return {**store, "CLAUDE_PROJECTS_DIR": str(c.claude), "CODEX_SESSIONS_DIR": str(c.codex)}


CHECKS = {
    ("", "--debug"): lambda c: c.debug_shows_the_traceback("status", "--db", c.garbage()),
    ("index", "--debug"): lambda c: c.debug_shows_the_traceback("index", "--db", c.garbage(), "--claude-dir", c.claude),
    ("index", "--db"): lambda c: _assert(_index_summary(c)["db_path"] == str(c.db)),
    ("index", "--sources"): lambda c: _assert(set(_index_summary(c, "--sources", "codex")["sources"]) == {"codex"}),
    ("index", "--full"): lambda c: _assert([s["files_parsed"] for s in _index_summary(c, "--full")["sources"].values()] == [4, 6, 0, 0, 0, 0]),
    ("index", "--claude-dir"): lambda c: _assert(_index_summary(c)["sources"]["claude"]["files_scanned"] == 4),
    ("index", "--codex-dir"): lambda c: _assert(_index_summary(c)["sources"]["codex"]["files_scanned"] == 6),
    ("index", "--json"): lambda c: _assert(_index_summary(c)["success"] is True),
    **{("index", f"--{name}-dir"): (lambda name: lambda c: _source_dir(c, name))(name) for name in SOURCE_NAMES[2:]},
    ("index", "--metrics-file"): lambda c: (_index(c, "--metrics-file", c.root / "m.prom"),
                                            _assert("claude_view_files" in (c.root / "m.prom").read_text())),
    ("index", "--log-format"): lambda c: _log_format(c),
    ("index", "--verbose"): lambda c: _assert("file indexed" in _index(c, "--full", "--verbose")[2] and "file indexed" not in _index(c, "--full")[2]),
    ("index", "--demo-if-empty"): lambda c: _demo(c),
    ("status", "--debug"): lambda c: c.debug_shows_the_traceback("status", "--db", c.garbage()),
    ("status", "--db"): lambda c: _assert(c.json("status", "--db", c.db, "--json")["sources"]["claude"]["sessions"] == 4),
    ("status", "--json"): lambda c: _assert(c.json("status", "--db", c.db, "--json")["schema_version"] > 10),
    ("report", "--debug"): lambda c: c.debug_shows_the_traceback("report", "--db", c.garbage()),
    ("report", "--db"): lambda c: _assert(c.run("report", "--db", c.db)[1].startswith("#")),
    ("report", "--out"): lambda c: (c.run("report", "--db", c.db, "--out", c.root / "r.md"), _assert((c.root / "r.md").read_text().startswith("#"))),
    ("report", "--json"): lambda c: _assert(set(c.json("report", "--db", c.db, "--json")) == set(SOURCE_NAMES)),
    ("metrics", "--debug"): lambda c: c.debug_shows_the_traceback("metrics", "--db", c.garbage()),
    ("metrics", "--db"): lambda c: _assert("claude_view_files" in c.run("metrics", "--db", c.db)[1]),
    ("migrate", "--debug"): lambda c: c.debug_shows_the_traceback("migrate", "--db", c.garbage()),
    ("migrate", "--db"): lambda c: _assert(c.run("migrate", "--db", c.db)[1].strip().endswith("schema up to date")),
    ("backup", "--debug"): lambda c: c.debug_shows_the_traceback("backup", "--db", c.garbage()),
    ("backup", "--db"): lambda c: _assert("written to" in c.run("backup", "--db", c.db)[1] and any((c.root / "backups").iterdir())),
    ("backup", "--to"): lambda c: (c.run("backup", "--db", c.db, "--to", c.root / "b.duckdb"), _assert((c.root / "b.duckdb").exists())),
    ("restore", "--debug"): lambda c: (c.run("backup", "--db", c.db, "--to", c.root / "b.duckdb"),
                                       c.debug_shows_the_traceback("restore", c.root / "b.duckdb", "--db", c.garbage() / "r.duckdb")),
    ("restore", "--db"): lambda c: _restore(c),
    ("restore", "backup"): lambda c: _restore(c),
    ("usage", "period"): lambda c: _assert([set(usage_json(c, p)[0]) & {"day", "week", "month", "session_id"} for p in PERIODS[:4]]
                                           == [{"day"}, {"week"}, {"month"}, {"session_id"}]),
    **{(f"usage {p}", flag): check for p in PERIODS for flag, check in usage_checks(p).items()},
    **{("search", flag): check for flag, check in search_checks().items()},
    ("mcp", "--debug"): lambda c: c.debug_shows_the_traceback("mcp", "--db", c.garbage(), "--no-refresh"),
    ("mcp", "--db"): lambda c: _assert(c.run("mcp", "--db", c.root / "none.duckdb", "--no-refresh")[0] == 2),
    ("mcp", "--no-refresh"): lambda c: _mcp_no_refresh(c),
}

TEAM = {
    ("team", "--debug"): lambda c, s: _team_debug(c, s, "team", "--debug", "status"),
    ("team push", "--debug"): lambda c, s: _team_debug(c, s, "team", "push", "--debug", "--db", c.db, "--no-refresh"),
    ("team push", "--db"): lambda c, s: _assert(c.run("team", "push", "--db", c.db, "--host", "flags-db", "--no-refresh")[0] == 0),
    ("team push", "--host"): lambda c, s: (c.run("team", "push", "--db", c.db, "--host", "flags-host", "--no-refresh"),
                                          _assert({r["host"] for r in c.json("team", "status", "--json")} >= {"flags-host"})),
    ("team push", "--no-refresh"): lambda c, s: _team_no_refresh(c),
    # one result per source the index has sessions of (an agent never used adds no partition)
    ("team push", "--json"): lambda c, s: _assert({r["source"] for r in c.json("team", "push", "--db", c.db, "--host", "flags-json", "--no-refresh", "--json")}
                                                 == _sources_with_sessions(c.db)),
    ("team status", "--debug"): lambda c, s: _team_debug(c, s, "team", "status", "--debug"),
    ("team status", "--json"): lambda c, s: _assert(isinstance(c.json("team", "status", "--json"), list)),
    ("team usage", "--debug"): lambda c, s: _team_debug(c, s, "team", "usage", "daily", "--debug"),
    ("team usage", "period"): lambda c, s: _assert({"month"} <= set(c.json("team", "usage", "monthly", "--json")[0])),
    ("team usage", "--timezone"): lambda c, s: (_assert({r["timezone"] for r in c.json("team", "usage", "daily", "--json", "--timezone", "Asia/Tokyo")} == {"Asia/Tokyo"}),
                                               _assert(c.run("team", "usage", "daily", "--timezone", "Bad/Zone")[0] == 2)),
    ("team usage", "--json"): lambda c, s: _assert(isinstance(c.json("team", "usage", "daily", "--json"), list)),
}


def _sources_with_sessions(db) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {s for (s,) in con.execute("SELECT DISTINCT source FROM sessions").fetchall()}
    finally:
        con.close()


def _source_dir(c: Ctx, name: str) -> None:
    """Only with its directory given are a source's generated sessions found, all of them."""
    truth = json.loads((c.root / "c/ground_truth.json").read_text())["sessions"]
    want = sum(1 for sid in truth if sid.startswith(f"{name}:"))
    _assert(want > 0 and _index_summary(c)["sources"][name]["sessions"] == 0)
    given = _index_summary(c, f"--{name}-dir", source_dir(c.root / "c", name))["sources"][name]
    _assert((given["sessions"], given["files_rejected"]) == (want, {}), given)


def _log_format(c: Ctx) -> None:
    (c.claude / "junk.jsonl").write_text("not json\n")
    _, _, err = _index(c, "--log-format", "json")
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    _assert(any(e["event"] == "file rejected" for e in events), err)


def _demo(c: Ctx) -> None:
    code, out, err = c.run("index", "--db", c.root / "x" / "index.duckdb", "--demo-if-empty", "--json")
    _assert(code == 0 and json.loads(out)["demo"] is True and (c.root / "x" / "demo.duckdb").exists(), err)


def _restore(c: Ctx) -> None:
    c.run("backup", "--db", c.db, "--to", c.root / "b.duckdb")
    code, out, err = c.run("restore", c.root / "b.duckdb", "--db", c.root / "r.duckdb")
    _assert(code == 0 and (c.root / "r.duckdb").exists(), err)


def _team_debug(c: Ctx, store: dict, *argv) -> None:
    unreachable = {"CLAUDE_VIEW_TEAM_CATALOG": "postgresql+psycopg2://nobody@127.0.0.1:9/none"}
    code, _, err = c.run(*[a for a in argv if a != "--debug"], env=unreachable)
    _assert(code == 1 and len(err.strip().splitlines()) == 1 and "--debug shows the traceback" in err, err)
    with pytest.raises(Exception):
        main([str(a) for a in argv])


def _team_no_refresh(c: Ctx) -> None:
    before = index_totals(c)
    _add_session(c)
    c.run("team", "push", "--db", c.db, "--host", "flags-nr", "--no-refresh")
    _assert(index_totals(c) == before)
    c.run("team", "push", "--db", c.db, "--host", "flags-nr")
    _assert(index_totals(c) > before)


def test_every_command_and_flag_has_a_check():
    assert every_command_and_flag() == set(CHECKS) | set(TEAM)


@pytest.mark.parametrize("key", sorted(CHECKS), ids=[" ".join(k).strip() for k in sorted(CHECKS)])
def test_each_flag_is_honoured_or_refused(ctx, key):
    CHECKS[key](ctx)


@pytest.mark.parametrize("key", sorted(TEAM), ids=[" ".join(k) for k in sorted(TEAM)])
def test_each_team_flag_is_honoured(ctx, store, key):
    for k, v in _team_env(store, ctx).items():
        ctx.monkeypatch.setenv(k, v)
    TEAM[key](ctx, store)
