"""Both UIs in a real browser (Debian's chromium driven by Playwright, no browser download): after one dataset
version's whole graph has run, `make ui`'s script serves the Dagster UI and the MLflow UI; the Dagster UI shows every
asset, launches one materialisation that succeeds; the MLflow UI shows the evaluation run and the registered model.
Screenshots of every step go to the test's tmp dir (`V2L_SCREENSHOTS=DIR` copies them there too)."""

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium")
ASSETS = [
    "raw_content",
    "curated_clips",
    "semantic_pairs",
    "pair_shards",
    "latent_cache",
    "hypernet_checkpoint",
    "hypernet_evaluation",
    "registered_hypernet",
    "lora_library",
    "library_index",
    "tiny_vae",
    "tiny_judge",
    "tiny_clip",
    "tiny_backbone",
    "tiny_base_world",
]


@pytest.fixture()
def served(tmp_path, monkeypatch):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (scripts/ensure_system_packages.sh installs it as root)")
    pytest.importorskip("playwright")
    from orchestration.run_graph import run_full

    root, home = tmp_path / "platform", tmp_path / "dagster"
    monkeypatch.setenv("V2L_MODEL_CACHE", str(tmp_path / "models"))
    graph = {**run_full(root, home, env="test"), "home": home}
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home.resolve()),
        "V2L_ENV": "test",
        "V2L_PLATFORM_ROOT": str(root),
        "V2L_MODEL_CACHE": str(tmp_path / "models"),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "ui.py"),
            "--mlflow-store",
            graph["mlflow"],
            "--mlflow-artifacts",
            str(tmp_path / "mlartifacts"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    urls = {}
    try:
        for line in proc.stdout:
            m = re.match(r"(Dagster UI|MLflow UI): (http://127\.0\.0\.1:\d+)", line)
            if m:
                urls[m[1]] = m[2]
            if len(urls) == 2 or line.startswith("error"):
                break
        assert len(urls) == 2, "the UIs did not start"
        yield urls, graph, tmp_path / "screens"
    finally:
        os.kill(proc.pid, signal.SIGINT)  # ui.py stops both servers and every process they started
        proc.wait(timeout=90)
        if os.environ.get("V2L_SCREENSHOTS") and (tmp_path / "screens").is_dir():
            shutil.copytree(tmp_path / "screens", os.environ["V2L_SCREENSHOTS"], dirs_exist_ok=True)


def test_both_uis_in_chromium(served):
    from playwright.sync_api import expect, sync_playwright

    urls, graph, screens = served
    screens.mkdir()
    dagster, mlflow = urls["Dagster UI"], urls["MLflow UI"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        step = [0]

        def shot(name):
            step[0] += 1
            page.screenshot(path=str(screens / f"{step[0]:02d}-{name}.png"), full_page=True)

        def skip_welcome():
            skip = page.get_by_role("button", name="Skip")
            if skip.count():
                skip.first.click()

        # Every asset of the graph in the catalog.
        page.goto(f"{dagster}/assets", wait_until="networkidle")
        skip_welcome()
        shot("catalog")
        for name in ASSETS:
            expect(page.get_by_text(name, exact=True).first).to_be_visible(timeout=30_000)
        page.goto(f"{dagster}/asset-groups", wait_until="networkidle")
        skip_welcome()
        shot("lineage")

        # Launch one materialisation (raw_content of the version the graph run made) and see it succeed.
        page.goto(f"{dagster}/assets/raw_content", wait_until="networkidle")
        skip_welcome()
        shot("raw_content")
        expect(page.get_by_text(graph["dataset_version"]).first).to_be_visible()  # the version it came from
        page.locator("button", has_text="Materialize").first.click()
        page.get_by_role("button", name="All", exact=True).click()  # the one version there is
        expect(page.get_by_text("1 partition", exact=True).first).to_be_visible(timeout=60_000)
        page.wait_for_load_state("networkidle")
        shot("materialize-dialog")
        page.locator("button", has_text=re.compile(r"Launch")).last.click(timeout=60_000)
        page.wait_for_load_state("networkidle")
        shot("launched")
        run_id = wait_for_new_run(graph, timeout_s=240)  # cross-check with the instance, then see it in the UI
        page.goto(f"{dagster}/runs/{run_id}", wait_until="load")
        expect(page.get_by_text("raw_content").first).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Success").first).to_be_visible(timeout=60_000)
        shot("runs")

        # The evaluation run and the registered model in the MLflow UI.
        eval_run = graph["assets"]["hypernet_evaluation"]["mlflow_run_id"]
        page.goto(f"{mlflow}/#/models", wait_until="load")
        expect(page.get_by_text("v2l-hypernet").first).to_be_visible(timeout=60_000)
        shot("mlflow-models")
        page.goto(f"{mlflow}/#/models/v2l-hypernet", wait_until="load")
        expect(page.get_by_text("champion").first).to_be_visible(timeout=60_000)
        shot("mlflow-model")
        page.goto(f"{mlflow}/#/experiments/{graph_experiment(graph)}/runs/{eval_run}", wait_until="load")
        expect(page.get_by_text(eval_run).first).to_be_visible(timeout=60_000)
        expect(page.get_by_text(re.compile(r"^eval-")).first).to_be_visible(timeout=60_000)
        shot("mlflow-eval-run")
        browser.close()


def wait_for_new_run(graph, timeout_s: float) -> str:
    """The id of the run launched from the UI once it has finished (read from the instance the UI uses)."""
    import time

    import dagster as dg

    from orchestration.run_graph import instance_at

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with instance_at(graph["home"]) as instance:
            runs = [r for r in instance.get_runs() if r.run_id != graph["run_id"]]
            if runs and runs[0].is_finished:
                assert runs[0].status == dg.DagsterRunStatus.SUCCESS, runs[0].status
                return runs[0].run_id
        time.sleep(3)
    raise AssertionError("the run launched from the UI did not finish in time")


def graph_experiment(graph) -> str:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=graph["mlflow"])
    return client.get_run(graph["assets"]["hypernet_evaluation"]["mlflow_run_id"]).info.experiment_id
