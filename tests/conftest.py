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
