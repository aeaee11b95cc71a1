"""The README's promises stay true: its example queries run on a real index, and its two
commands are the ones .ci/run and ./pipeline implement."""

import duckdb

from helpers import FIXTURES, REPO, run_cli


def test_readme_queries_run_on_the_demo_index(tmp_path):
    db = tmp_path / "i.duckdb"
    proc = run_cli("index", "--db", str(db), "--claude-dir", str(FIXTURES / "demo/claude/projects"), "--codex-dir", str(FIXTURES / "demo/codex/sessions"))
    assert proc.returncode == 0, proc.stderr
    blocks = [b.split("```")[0] for b in (REPO / "README.md").read_text().split("```sql")[1:]]
    con = duckdb.connect(str(db), read_only=True)
    try:
        for block in blocks:  # every SQL example in the README runs
            for q in block.split(";"):
                if any(line.strip() and not line.startswith("--") for line in q.splitlines()):
                    con.execute(q).fetchall()
        examples = next(b for b in blocks if "tokens per source and model" in b)
        queries = [q for q in examples.split(";") if any(line.strip() and not line.startswith("--") for line in q.splitlines())]
        rows = [con.execute(q).fetchall() for q in queries]
    finally:
        con.close()
    assert len(blocks) >= 2 and len(queries) == 5
    assert sum(r[2] for r in rows[0]) == 7  # sessions across source x model groups
    assert len(rows[1]) == 7 and rows[4] == []


def test_readme_commands_match_the_scripts():
    readme = (REPO / "README.md").read_text()
    assert "./pipeline index" in readme and "./pipeline test" in readme
    assert "./pipeline test" in (REPO / ".ci/run").read_text()
