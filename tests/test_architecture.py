"""Structural promises: the core imports no Dagster; the demo corpus is what the generator writes."""

import filecmp
import pkgutil
import subprocess
import sys

import claude_view_pipeline
from benchmarks.synth import generate

from helpers import FIXTURES, REPO


def test_core_package_imports_no_dagster():
    # dagster_events.py records CLI runs in a Dagster instance, importing Dagster only when called
    modules = [m.name for m in pkgutil.walk_packages(claude_view_pipeline.__path__, "claude_view_pipeline.") if not m.name.endswith("__main__")]
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print(sorted(n for n in sys.modules if n.split('.')[0] == 'dagster'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert len(modules) >= 15
    assert out.stdout.strip() == "[]"


def test_demo_fixtures_are_the_generators_output(tmp_path):
    generate(tmp_path, claude_sessions=4, codex_sessions=3, seed=2026)
    cmp = filecmp.dircmp(tmp_path, FIXTURES / "demo")
    def diffs(c):
        return c.left_only + c.right_only + c.diff_files + [d for sub in c.subdirs.values() for d in diffs(sub)]
    assert diffs(cmp) == []
