"""archcalc report in a real headless Chromium (Playwright driving Debian's `chromium`).

Skipped, with the reason, where Playwright or a Chromium is missing; with
ARCHCALC_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser fails instead, so CI cannot pass
without running these. ARCHCALC_CHROMIUM names the browser binary when it is not on PATH.
Expected values come from `summary --format json` and `summary --conventions --format json`.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcalc.cli import main

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium() -> str | None:
    named = os.environ.get("ARCHCALC_CHROMIUM")
    if named:
        return named
    return next((found for found in map(shutil.which, BROWSERS) if found), None)


def _unavailable(reason: str) -> None:
    if os.environ.get("ARCHCALC_REQUIRE_BROWSER"):
        pytest.fail(f"ARCHCALC_REQUIRE_BROWSER is set but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install playwright)")
    executable = _chromium()
    if executable is None:
        _unavailable("no Chromium found (apt-get install chromium, or set ARCHCALC_CHROMIUM)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


class Report:
    """A report page open in the browser, with every console error, page error and request noted."""

    def __init__(self, browser, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("request", lambda r: self.problems.append(f"request: {r.url}") if r.url != path.as_uri() else None)
        self.page.goto(path.as_uri())
        self.section = self.page.locator("section.network").first

    def visible_rows(self, section=None):
        return (section or self.section).locator("table.layers tbody tr:not([hidden])")

    def column(self, index: int, section=None) -> list[str]:
        return self.visible_rows(section).evaluate_all(
            f"rows => rows.map(r => r.cells[{index}].dataset.v)")

    def close(self) -> None:
        self.page.close()


def open_report(browser, tmp_path: Path, *specs: str) -> Report:
    out = tmp_path / f"{'-'.join(spec.replace('/', '_') for spec in specs)}.html"
    _cli("report", *specs, "-o", str(out))
    return Report(browser, out)


@pytest.mark.parametrize("spec", ["lenet5", "googlenet", "resnet50"])
def test_sort_filter_collapse_and_convention_switch(browser, tmp_path, spec):
    summary = json.loads(_cli("summary", spec, "--format", "json"))
    totals = {r["convention"]: r["total"] for r in json.loads(_cli("summary", spec, "--conventions", "--format", "json"))}
    layers = summary["layers"]
    report = open_report(browser, tmp_path, spec)
    try:
        assert report.visible_rows().count() == len(layers) + len(summary["modules"])  # everything, expanded

        report.section.locator("th[data-key=params]").click()  # largest first
        params = [int(v) for v in report.column(5)]
        assert params == sorted(params, reverse=True)
        assert params[0] == max(layer["params"] for layer in layers)
        report.section.locator("th[data-key=params]").click()  # then smallest first
        assert [int(v) for v in report.column(5)] == sorted(params)
        report.section.locator("th[data-key=params]").click()  # then the network's order
        assert report.section.locator("th[aria-sort]").count() == 0

        report.section.locator("[data-filter]").fill("conv")
        expected = [l["name"] for l in layers if "conv" in l["name"].lower() or "conv" in l["type"].lower()]
        assert report.column(1) == expected
        report.section.locator("[data-filter]").fill("")

        if summary["modules"]:
            report.section.locator("[data-depth]").select_option("0")
            top = [l["name"] for l in layers if not l["scope"]]
            roots = [path for path in summary["modules"] if "/" not in path]
            assert sorted(report.column(1)) == sorted(top + roots)
            report.section.locator("tr.module .toggle").first.click()  # open one module again
            assert report.visible_rows().count() > len(top) + len(roots)

        for convention in ("macs", "full", "fvcore", "torch"):
            report.page.select_option("#convention", convention)
            assert report.section.locator("[data-total=flops]").inner_text() == f"{totals[convention]:,}"
        assert report.problems == []
    finally:
        report.close()


@pytest.mark.parametrize("spec,node_kind", [("lenet5", "layer"), ("googlenet", "module"), ("resnet50", "module")])
def test_diagram_and_table_highlight_each_other(browser, tmp_path, spec, node_kind):
    report = open_report(browser, tmp_path, spec)
    try:
        row = report.section.locator(f"tbody tr[data-kind={node_kind}][data-node]").nth(2)
        node_id = row.get_attribute("data-node")
        name = row.locator("td").nth(1).get_attribute("data-v")
        report.section.locator("[data-depth]").select_option("0" if node_kind == "module" else "all")
        report.page.locator(f"svg g.node#{node_id}").click()
        selected = report.section.locator("tbody tr.sel")
        assert selected.count() >= 1
        assert selected.first.locator("td").nth(1).get_attribute("data-v") == name
        assert selected.first.is_visible()

        other = report.section.locator("tbody tr[data-kind=layer][data-node]").nth(1)  # and the other way round
        other.click()
        target = other.get_attribute("data-node")
        assert report.page.locator(f"svg g.node#{target}").get_attribute("class") == "node sel"
        assert report.problems == []
    finally:
        report.close()


def test_warning_links_reveal_their_layer(browser, tmp_path):
    """AlexNet's conv1 leaves the last input column unread at 224×224 (the paper's famous 224/227
    discrepancy): the warning names it, and its link selects the row."""
    report = open_report(browser, tmp_path, "alexnet", "--input", "3,224,224")
    try:
        link = report.section.locator(".warnings a[data-layer]").first
        name = link.inner_text()
        link.click()
        selected = report.section.locator("tbody tr.sel")
        assert selected.count() == 1 and selected.locator("td").nth(1).get_attribute("data-v") == name
        assert report.problems == []
    finally:
        report.close()


def test_charts_are_drawn(browser, tmp_path):
    report = open_report(browser, tmp_path, "resnet50")
    try:
        charts = report.section.locator(".chart")
        assert charts.count() == 4
        assert charts.nth(0).locator("rect.bar").count() >= 5  # shares of parameters
        assert charts.nth(2).locator("polyline").count() == 2  # receptive field and resolution
        charts.nth(0).locator("select").select_option("layer")
        # ResNet-50's largest layers: the three 3×3 convolutions of stage 5, 3·3·512·512 = 2,359,296 parameters
        # each (more than fc's 2048·1000 + 1000 = 2,049,000), 9.2% of 25,557,032
        assert charts.nth(0).locator("text.label").first.text_content() in {f"conv5_{i}/conv2" for i in (1, 2, 3)}
        assert charts.nth(0).locator("text:not(.label)").first.text_content() == "9.2%"
        assert report.problems == []
    finally:
        report.close()


def test_compare_page_switches_every_network(browser, tmp_path):
    report = open_report(browser, tmp_path, "googlenet", "resnet50")
    try:
        totals = {spec: {r["convention"]: r["total"] for r in json.loads(_cli("summary", spec, "--conventions", "--format", "json"))}
                  for spec in ("googlenet", "resnet50")}
        report.page.select_option("#convention", "macs")
        cells = report.page.locator("[data-flops-total]")
        assert cells.nth(0).inner_text() == f"{totals['googlenet']['macs']:,}"
        assert cells.nth(1).inner_text() == f"{totals['resnet50']['macs']:,}"
        sections = report.page.locator("section.network")
        assert sections.nth(1).locator("[data-total=flops]").inner_text() == f"{totals['resnet50']['macs']:,}"
        assert report.problems == []
    finally:
        report.close()


def test_a_hostile_spec_runs_no_script(browser, tmp_path):
    from test_report_html import HOSTILE

    spec = tmp_path / "hostile.yaml"
    spec.write_text(HOSTILE, encoding="utf-8")
    out = tmp_path / "hostile.html"
    _cli("report", str(spec), "-o", str(out))
    report = Report(browser, out)
    try:
        assert report.page.evaluate("typeof window.pwned") == "undefined"
        assert report.page.locator("img").count() == 0
        assert "<script>window.pwned = 1</script>" in report.page.title()  # shown as text
        names = report.column(1)
        assert "<img src=x onerror=alert(1)>" in names[3]
        assert report.problems == []
    finally:
        report.close()
