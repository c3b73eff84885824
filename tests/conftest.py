"""Shared helpers: analyze a built-in spec or YAML text, run the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from archcalc import analyze, build_graph, load, load_spec_text
from archcalc.analysis import Analysis
from archcalc.cli import main

SPECS = Path(__file__).parent / "specs"


def zoo(name: str, **overrides) -> Analysis:
    return analyze(build_graph(load(name, **overrides)))


def from_text(text: str) -> Analysis:
    return analyze(build_graph(load_spec_text(text, "test.yaml")))


def row_map(analysis: Analysis) -> dict:
    return {row.name: row for row in analysis.rows}


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/* from the current output")


@pytest.fixture
def golden(request):
    """Compare text with tests/golden/NAME, or rewrite it under --update-golden."""
    folder = Path(__file__).parent / "golden"

    def check(name: str, text: str) -> None:
        path = folder / name
        if request.config.getoption("--update-golden"):
            folder.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"missing golden file {path}; run pytest --update-golden"
        assert text == path.read_text(encoding="utf-8")

    return check
