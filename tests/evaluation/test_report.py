"""`agentgym report`: one self-contained HTML file, opened in the real Chromium."""

from __future__ import annotations

import json
import re

import pytest

from agentgym.evaluation.plots import k_curves
from agentgym.evaluation.rundir import load_run
from tests.environments.web.conftest import require_browser
from tests.evaluation.runs import invoke, make_run, mixed, solver

FIGURES = 7


def open_in_chromium(path):
    """Load the file in Chromium; return what each <img> shows, the page text and every request."""
    from playwright.sync_api import sync_playwright

    from agentgym.environments.web.browser import CHROMIUM_ARGS, chromium_path

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.as_uri(), wait_until="load")
            images = page.eval_on_selector_all(
                "img",
                "els => els.map(e => ({alt: e.alt, complete: e.complete, "
                "width: e.naturalWidth, height: e.naturalHeight}))",
            )
            text = page.inner_text("body")
        finally:
            browser.close()
    return images, text, requests


@pytest.mark.browser
def test_the_report_renders_every_plot_offline_in_chromium(openai_env, tmp_path):
    require_browser()
    run = make_run(openai_env, tmp_path / "run", mixed, "-n", 5, "-k", 2)
    out = tmp_path / "report.html"
    result = invoke("report", run, "--out", out)
    assert result.exit_code == 0, result.output
    page = out.read_text()
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert len(sources) == FIGURES and all(s.startswith("data:image/png;base64,") for s in sources)
    images, text, requests = open_in_chromium(out)
    assert [i["alt"] for i in images] == [
        "pass@k and coverage",
        "Success per task",
        "Episode rewards",
        "Step rewards",
        "Episode length",
        "Tokens",
        "Latency",
    ]
    for image in images:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    assert requests == [out.as_uri()]  # the page itself, and nothing from any network
    results = json.loads((run / "results.json").read_text())
    headline = text.split("Headline", 1)[1]
    assert f"{results['success_rate']:.3f}" in headline
    assert f"{results['pass_at_k']:.3f}" in headline
    assert "infra_error" in text.split("Errors")[-1]  # reach-5's refused request is listed


def test_plotted_curves_agree_with_results_json(openai_env, tmp_path):
    run = make_run(openai_env, tmp_path / "run", mixed, "-n", 4, "-k", 3)
    results = json.loads((run / "results.json").read_text())
    curves = k_curves([e for e in load_run(run).episodes if e.counted])
    assert curves["k"] == [1, 2, 3]
    assert curves["pass@k"][0] == pytest.approx(results["success_rate"])
    assert curves["pass@k"][-1] == pytest.approx(results["pass_at_k"])
    assert curves["coverage@k"][-1] == pytest.approx(results["pass_at_k"])  # all samples: the same
    assert curves["pass^k"][-1] <= curves["pass@k"][0] <= curves["pass@k"][-1]


def test_report_default_path_and_bad_input(openai_env, tmp_path):
    run = make_run(openai_env, tmp_path / "run", solver, "-n", 1)
    result = invoke("report", run)
    assert result.exit_code == 0 and (run / "report.html").is_file(), result.output
    (tmp_path / "empty").mkdir()
    cases = [
        ([tmp_path / "missing"], "no such run folder"),
        ([tmp_path / "empty"], "has no episodes.jsonl"),
        ([run, "--out", tmp_path / "nowhere" / "r.html"], "does not exist"),
        ([run, "--out", tmp_path], "is a folder"),
    ]
    for args, message in cases:
        result = invoke("report", *args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1
