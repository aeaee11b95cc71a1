"""Project attribution: one rule (the project_root / project_key / project_name macros of
migration 009) decides every session's project from what its log records, for every table
and command. Each rule pinned by a case, then end to end on fixtures/project_attribution/ (Claude Code files, one
file per case) through the real command line, and the migration of an existing index.

Where agentsview 0.46.1 (run on the same fixtures: `agentsview sync; agentsview projects`)
names a project differently, we say so:
- `/home/dev/shop-worktrees/feature-x`: agentsview says `feature_x`; we say `shop`, because
  `<repo>-worktrees/<name>` is a worktree layout and its work belongs to the repository.
- agentsview writes hyphens in names as underscores (`feature_x`); we keep the directory's
  own name.
- A subagent is listed under its parent by both; ours is a session of its own (`relation =
  'subagent'`) whose project is its parent's, so its tokens count for the parent's project."""

import json
import shutil

import duckdb

from claude_view_pipeline.store.migrate import available_migrations
import pytest

from claude_view_pipeline.store import migrate

from helpers import FIXTURES, run_cli


@pytest.fixture(scope="module")
def macros():
    con = duckdb.connect()
    migrate(con)
    yield lambda cwd, url=None: con.execute("SELECT project_name(?, ?), project_key(?)", [cwd, url, cwd]).fetchall()[0]
    con.close()


@pytest.mark.parametrize("cwd,expected", [
    # Windows: either separator, any drive-letter case, a trailing separator: one project
    (r"C:\Users\me\Documents\webapp", ("webapp", "c:/users/me/documents/webapp")),
    (r"c:\Users\me\Documents\webapp" "\\", ("webapp", "c:/users/me/documents/webapp")),
    ("C:/Users/me/Documents/webapp", ("webapp", "c:/users/me/documents/webapp")),
    (r"\\fileserver\share\code\api", ("api", "//fileserver/share/code/api")),
    # the equivalent POSIX layout: the same name (POSIX paths keep their case)
    ("/Users/me/Documents/webapp", ("webapp", "/Users/me/Documents/webapp")),
    ("/Users/me/Documents/webapp/", ("webapp", "/Users/me/Documents/webapp")),
    ("/Users/me/Documents/webapp/.", ("webapp", "/Users/me/Documents/webapp")),
    # worktrees belong to their repository
    ("/home/dev/shop/.claude/worktrees/agent-c1d2e3f4a5b6c7d8", ("shop", "/home/dev/shop")),
    ("/home/dev/shop/.claude/worktrees/agent-c1d2e3f4a5b6c7d8/src", ("shop", "/home/dev/shop")),
    ("/home/dev/shop/.git/worktrees/hotfix", ("shop", "/home/dev/shop")),
    ("/home/dev/shop-worktrees/feature-x", ("shop", "/home/dev/shop")),
    (r"D:\work\shop-worktrees\feature-x", ("shop", "d:/work/shop")),
    # a home directory itself: named after the user when nothing better is known
    ("/home/dev", ("dev", "/home/dev")),
    (r"C:\Users\Me", ("Me", "c:/users/me")),
    ("/", ("/", "/")),
    (None, (None, None)),
])
def test_rules(macros, cwd, expected):
    assert macros(cwd) == expected


def test_a_home_directory_is_named_after_the_repository_the_log_records(macros):
    assert macros("/home/dev", "git@github.com:acme/widgets.git") == ("widgets", "/home/dev")
    assert macros("/Users/me", "https://github.com/acme/widgets/") == ("widgets", "/Users/me")
    # elsewhere the directory decides; the remote does not rename a project
    assert macros("/home/dev/shop", "https://github.com/acme/widgets.git") == ("shop", "/home/dev/shop")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("projects")
    root = tmp / "projects"
    shutil.copytree(FIXTURES / "project_attribution", root)
    db = tmp / "i.duckdb"
    proc = run_cli("index", "--db", str(db), "--sources", "claude", "--claude-dir", str(root))
    assert proc.returncode == 0, proc.stderr
    return db


def test_every_session_gets_its_project(index):
    con = duckdb.connect(str(index), read_only=True)
    rows = con.execute("SELECT source_session_id, relation, project, project_key FROM sessions ORDER BY source_session_id").fetchall()
    con.close()
    webapp, shop = ("webapp", "c:/users/me/documents/webapp"), ("shop", "/home/dev/shop")
    assert rows == [
        ("5c1b0d2e-0101-4a5b-9c6d-7e8f90a1b2c3", None, *webapp),
        ("5c1b0d2e-0102-4a5b-9c6d-7e8f90a1b2c3", None, *webapp),
        ("5c1b0d2e-0103-4a5b-9c6d-7e8f90a1b2c3", None, *webapp),
        ("5c1b0d2e-0104-4a5b-9c6d-7e8f90a1b2c3", None, "api", "//fileserver/share/code/api"),
        ("5c1b0d2e-0105-4a5b-9c6d-7e8f90a1b2c3", None, *shop),
        ("5c1b0d2e-0106-4a5b-9c6d-7e8f90a1b2c3", None, *shop),
        ("5c1b0d2e-0107-4a5b-9c6d-7e8f90a1b2c3", None, "dev", "/home/dev"),
        ("5c1b0d2e-0108-4a5b-9c6d-7e8f90a1b2c3", None, *shop),
        ("agent-c1d2e3f4a5b6c7d8", "subagent", *shop),  # ran in a worktree; its parent's project
    ]


def test_usage_groups_and_filters_by_project(index):
    proc = run_cli("usage", "monthly", "--db", str(index), "--json", "--timezone", "UTC", "--no-refresh")
    assert proc.returncode == 0, proc.stderr
    per_project = {(r["project"], r["project_key"]): (r["sessions"], r["total_tokens"]) for r in json.loads(proc.stdout)}
    # every fixture session is minimal.jsonl's one call of 115 tokens
    assert per_project == {
        ("api", "//fileserver/share/code/api"): (1, 115),
        ("dev", "/home/dev"): (1, 115),
        ("shop", "/home/dev/shop"): (4, 460),
        ("webapp", "c:/users/me/documents/webapp"): (3, 345),
    }
    only = run_cli("usage", "daily", "--db", str(index), "--json", "--timezone", "UTC", "--no-refresh", "--project", "shop")
    assert [(r["project"], r["sessions"], r["total_tokens"]) for r in json.loads(only.stdout)] == [("shop", 4, 460)]
    by_key = run_cli("usage", "daily", "--db", str(index), "--json", "--timezone", "UTC", "--no-refresh",
                     "--project", "c:/users/me/documents/webapp")
    assert [(r["project"], r["sessions"]) for r in json.loads(by_key.stdout)] == [("webapp", 3)]


def test_status_lists_projects(index):
    proc = run_cli("status", "--db", str(index), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["projects"] == [
        {"project": "shop", "project_key": "/home/dev/shop", "sessions": 4},
        {"project": "webapp", "project_key": "c:/users/me/documents/webapp", "sessions": 3},
        {"project": "api", "project_key": "//fileserver/share/code/api", "sessions": 1},
        {"project": "dev", "project_key": "/home/dev", "sessions": 1},
    ]


def test_migration_recomputes_projects_of_an_existing_index(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    migrate(con, target=8)
    # rows as the previous release wrote them: the whole Windows path as the project
    for sid, cwd, project, parent, relation in [
        ("p1", r"C:\Users\me\Documents\webapp", r"C:\Users\me\Documents\webapp", None, None),
        ("p2", r"c:\Users\me\Documents\webapp", r"c:\Users\me\Documents\webapp", None, None),
        ("agent-x", "/tmp/scratch/.claude/worktrees/agent-x", "agent-x", "claude:p1", "subagent"),
    ]:
        con.execute("INSERT INTO sessions (id, source, source_session_id, cwd, project, parent_session_id, relation) "
                    "VALUES (?, 'claude', ?, ?, ?, ?, ?)", [f"claude:{sid}", sid, cwd, project, parent, relation])
    report = migrate(con)
    assert report.applied == [v for v, _, _ in available_migrations() if v >= 9] and report.backup is not None  # backed up first
    assert con.execute("SELECT id, project, project_key FROM sessions ORDER BY id").fetchall() == [
        ("claude:agent-x", "webapp", "c:/users/me/documents/webapp"),
        ("claude:p1", "webapp", "c:/users/me/documents/webapp"),
        ("claude:p2", "webapp", "c:/users/me/documents/webapp"),
    ]
    con.close()
