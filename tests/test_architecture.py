"""Structural promises: the core imports no Dagster; the demo corpus is what the generator writes."""

import filecmp
import pkgutil
import subprocess
import sys

import claude_view_pipeline
from benchmarks.synth import DEMO_MORE, generate

from helpers import FIXTURES, REPO


def test_core_package_imports_no_dagster():
    # dagster_events.py records CLI runs in a Dagster instance, importing Dagster only when called
    modules = [m.name for m in pkgutil.walk_packages(claude_view_pipeline.__path__, "claude_view_pipeline.") if not m.name.endswith("__main__")]
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print(sorted(n for n in sys.modules if n.split('.')[0] == 'dagster'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert len(modules) >= 15
    assert out.stdout.strip() == "[]"


def test_demo_fixtures_are_the_generators_output(tmp_path):
    generate(tmp_path, claude_sessions=4, codex_sessions=3, seed=2026, more=DEMO_MORE)
    cmp = filecmp.dircmp(tmp_path, FIXTURES / "demo")
    def diffs(c):
        return c.left_only + c.right_only + c.diff_files + [d for sub in c.subdirs.values() for d in diffs(sub)]
    assert diffs(cmp) == []


def test_no_module_but_a_sources_own_branches_on_a_source():
    """A source is its module (parsers/<name>.py, and parsers/<name>_*.py beside it) and one line
    of the registry: no other module of the core or the code location names a source, so the
    next agent is a module and a fixture folder."""
    import ast

    from claude_view_pipeline.sources import REGISTRY

    names = set(REGISTRY)
    own = {REPO / "claude_view_pipeline" / "sources.py"}
    for name in names:
        own |= set((REPO / "claude_view_pipeline" / "parsers").glob(f"{name}.py"))
        own |= set((REPO / "claude_view_pipeline" / "parsers").glob(f"{name}_*.py"))
    found = []
    for folder in ("claude_view_pipeline", "assets", "checks"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if path in own:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and node.value in names:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.value!r}")
                elif isinstance(node, ast.Attribute) and node.attr.lower() in names and isinstance(node.value, ast.Name) \
                        and node.value.id == "Source":
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} Source.{node.attr}")
    assert found == []


def test_only_the_settings_module_reads_the_environment():
    """config.py reads the environment; the core, the assets and the checks take plain values
    from it (no os.environ, os.getenv or environ imported anywhere else)."""
    import ast

    readers = []
    for folder in ("claude_view_pipeline", "assets", "checks"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if path == REPO / "claude_view_pipeline" / "config.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv", "environb"):
                    readers.append(f"{path.relative_to(REPO)}:{node.lineno}")
                elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                        a.name in ("environ", "getenv", "environb") for a in node.names):
                    readers.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert readers == []


def test_assets_and_checks_do_not_import_each_other():
    """What both need (resources, keys, partitions) lives in orchestration/; only the code
    locations (assets/definitions.py, assets/team_definitions.py) put the two together."""
    import ast

    def imported(path):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
        return names

    composers = {"definitions.py", "team_definitions.py"}
    crossing = [f"assets/{p.name}" for p in (REPO / "assets").glob("*.py") if p.name not in composers and "checks" in imported(p)]
    crossing += [f"checks/{p.name}" for p in (REPO / "checks").glob("*.py") if "assets" in imported(p)]
    crossing += [f"orchestration/{p.name}" for p in (REPO / "orchestration").glob("*.py") if imported(p) & {"assets", "checks"}]
    assert crossing == []
