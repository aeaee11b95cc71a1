"""End to end against a real `dagster dev` on loopback (own DAGSTER_HOME, own process
group): a backfill over every source's partition launched through GraphQL, a run for an unknown source
refused, the sensor indexing a new session file, and the UI in headless Chromium."""

import json
import shutil
from collections import Counter

import pytest
from helpers import FIXTURES, REPO, missing

from benchmarks.devserver import dagster_dev as start_dagster_dev
from benchmarks.devserver import wait_for
from benchmarks.synth import generate
from claude_view_pipeline.sources import SOURCE_NAMES

pytestmark = pytest.mark.e2e
ARTIFACTS = REPO / "test-artifacts"
ASSETS = [["session_files"], ["parsed_sessions"], ["session_index"]]


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    corpus = base / "corpus"
    generate(corpus, claude_sessions=4, codex_sessions=3, seed=41, more={name: 1 for name in SOURCE_NAMES[2:]})
    with start_dagster_dev(base, corpus, sensor_interval_s=2) as (server, read_log):
        yield server
        text = read_log()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "dagster-dev.log").write_text(text)
    ours = [line for line in text.splitlines() if "Warning" in line and any(p in line for p in ("/assets/", "/checks/", "claude_view_pipeline"))]
    assert ours == [], "warnings caused by our code:\n" + "\n".join(ours)


def test_asset_graph_is_served_with_partitions(dagster_dev):
    nodes = dagster_dev.gql("{ assetNodes { assetKey { path } partitionKeys } }")["assetNodes"]
    every = list(SOURCE_NAMES)
    assert {n["assetKey"]["path"][0]: n["partitionKeys"] for n in nodes} == {
        "session_files": every, "parsed_sessions": every, "session_index": every,
        "sessions": every, "messages": every, "indexed_files": every, "index_metrics": every, "rate_limits": every,
        "verification_report": [], "daily_usage": [], "usage_blocks": [], "search_index": every,
    }


def test_backfill_over_every_partition_through_graphql(dagster_dev):
    launched = dagster_dev.gql(
        """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
             __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
        {"p": {"assetSelection": [{"path": p} for p in ASSETS], "partitionNames": list(SOURCE_NAMES)}},
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched

    def finished():
        b = dagster_dev.gql(
            """query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill {
                 status runs(limit: 10) { runId status tags { key value } } } } }""",
            {"id": launched["backfillId"]},
        )["partitionBackfillOrError"]
        return b if b["status"] not in ("REQUESTED",) else None

    backfill = wait_for(finished, 240, "the backfill to finish", interval=2)
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    # single-run backfill policy: every partition in one run, so one DuckDB writer
    assert [r["status"] for r in backfill["runs"]] == ["SUCCESS"]
    truth = json.loads((dagster_dev.corpus / "ground_truth.json").read_text())["sessions"]
    assert dagster_dev.sessions() == Counter(sid.split(":", 1)[0] for sid in truth)
    assert set(dagster_dev.sessions()) == set(SOURCE_NAMES)


def test_run_for_an_unknown_source_is_refused(dagster_dev):
    before = dagster_dev.sessions() if dagster_dev.db.exists() else {}
    launched = dagster_dev.gql(
        """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
             ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
        {"p": {"selector": {"repositoryLocationName": "claude_view_pipeline", "repositoryName": "__repository__", "jobName": "index_sessions"},
               "runConfigData": {}, "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "nosuch"}]}}},
    )["launchRun"]
    if launched["__typename"] != "LaunchRunSuccess":  # refused at launch: equally fine
        assert "nosuch" in json.dumps(launched)
        return
    run_id = launched["run"]["runId"]
    run = wait_for(lambda: (r := dagster_dev.run(run_id))["status"] in ("FAILURE", "SUCCESS") and r, 120, "the run to end")
    assert run["status"] == "FAILURE"
    failures = [e for e in run["eventConnection"]["events"] if e["__typename"] == "ExecutionStepFailureEvent"]
    assert [f["stepKey"] for f in failures] == ["session_files"]
    assert "unknown source 'nosuch'; valid sources are: claude, codex, gemini, qwen, copilot, opencode" in failures[0]["error"]["message"]
    if before:
        assert dagster_dev.sessions() == before


def test_sensor_indexes_a_new_session_file(dagster_dev):
    day = dagster_dev.corpus / "codex/sessions/2026/11/26"
    day.mkdir(parents=True, exist_ok=True)
    thread = "0199a000-0000-7000-8000-0000000000e2"
    text = (FIXTURES / "codex" / "minimal.jsonl").read_text().replace("0199a000-0000-7000-8000-000000000001", thread)
    (day / f"rollout-2026-11-26T10-00-00-{thread}.jsonl").write_text(text)
    wait_for(lambda: dagster_dev.has_session(f"codex:{thread}"), 180, "the sensor's run to index the new file")
    runs = dagster_dev.gql("""{ runsOrError(filter: {tags: [{key: "dagster/sensor_name", value: "codex_session_files_sensor"}]}) {
                                ... on Runs { results { runId status startTime } } } }""")["runsOrError"]["results"]
    assert runs and all(r["status"] in ("SUCCESS", "STARTED", "STARTING", "QUEUED") for r in runs)
    sensor_run = runs[0]  # the newest

    # ... and automation, with no click, rolls the new file's usage into daily_usage
    def refreshed():
        mats = dagster_dev.gql("""{ assetOrError(assetKey: {path: ["daily_usage"]}) { ... on Asset {
                                     assetMaterializations(limit: 1) { runId timestamp } } } }""")["assetOrError"]["assetMaterializations"]
        return mats and float(mats[0]["timestamp"]) / 1000 > sensor_run["startTime"] and mats[0]
    mat = wait_for(refreshed, 180, "automation to refresh daily_usage after the sensor's run", interval=2)

    def finished():
        run = dagster_dev.gql("""query($id: ID!) { runOrError(runId: $id) { ... on Run { status tags { key value } } } }""",
                              {"id": mat["runId"]})["runOrError"]
        return run if run["status"] in ("SUCCESS", "FAILURE", "CANCELED") else None
    run = wait_for(finished, 120, "the automation run to end", interval=1)
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run["status"] == "SUCCESS" and tags.get("dagster/from_automation_condition") == "true", tags


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        missing("Debian's chromium", ".ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


@pytest.mark.parametrize("page_name,path,expected", [
    # the table assets show their column schema, with the descriptions from the DuckDB schema
    ("table-columns", "/assets/sessions", ["source_session_id", "<source>:<source_session_id>", "the primary key."]),
    ("asset-graph", "/locations/claude_view_pipeline/asset-groups/session_index", ["session_files", "parsed_sessions", "session_index", "verification_report"]),
    ("partitions", "/assets/session_index?view=partitions", list(SOURCE_NAMES)),
    ("checks", "/assets/session_index?view=checks", ["sessions_id_canonical", "messages_reference_sessions", "partition_writes_own_source"]),
])
def test_ui_pages_show_our_assets(dagster_dev, browser, page_name, path, expected):
    # wide enough that the graph of nine assets is drawn at a zoom that shows their names
    page = browser.new_page(viewport={"width": 2200, "height": 1300})
    try:
        page.goto(f"http://127.0.0.1:{dagster_dev.port}{path}", wait_until="domcontentloaded", timeout=60000)
        for text in expected:
            page.get_by_text(text, exact=False).first.wait_for(timeout=60000)
        skip = page.get_by_role("button", name="Skip")  # Dagster's first-visit community dialog
        if skip.count():
            skip.first.click()
        body = page.inner_text("body")
        assert all(t in body for t in expected), body[:2000]
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"ui-{page_name}.png"), full_page=True)
        page.close()


def test_daily_usage_page_shows_its_chart(dagster_dev, browser):
    """After the automation run: the chart is a picture in the materialization's metadata (a
    markdown value, which Dagster opens in place), not a path."""
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    try:
        page.goto(f"http://127.0.0.1:{dagster_dev.port}/assets/daily_usage?view=events", wait_until="domcontentloaded", timeout=60000)
        show = page.get_by_text("[Show Markdown]").first
        show.wait_for(timeout=60000)
        skip = page.get_by_role("button", name="Skip")  # Dagster's first-visit community dialog
        if skip.count():
            skip.first.click()
        show.click()
        chart = page.locator("img[src^='data:image/png;base64,']").first
        chart.wait_for(state="visible", timeout=60000)
        chart.scroll_into_view_if_needed()
        size = chart.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert size == [576, 259], size  # 8 x 3.6 inches at 72 dpi: the PNG decoded, not a broken link
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-daily-usage-chart.png"), full_page=True)
        page.close()
