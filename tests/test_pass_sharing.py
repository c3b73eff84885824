"""The passes share one value between nodes that repeat a layer on the same shapes
(``Pass.by_shapes``). The oracle is the same passes with sharing turned off, which compute every
node on its own: sharing may change nothing a user sees."""

from __future__ import annotations

import pytest

from archcalc import analyze, build_graph, load
from archcalc.passes import PIPELINE
from archcalc.zoo import zoo_entries
from conftest import from_text

SHARING = [cls for cls in PIPELINE if cls.by_shapes]


@pytest.fixture
def unshared(monkeypatch):
    """Run the passes with every node computed on its own."""
    def turn_off() -> None:
        for cls in SHARING:
            monkeypatch.setattr(cls, "by_shapes", False)
    return turn_off


def both(text: str, unshared) -> tuple:
    shared = from_text(text)
    unshared()
    return shared, from_text(text)


def test_the_shape_params_and_cost_passes_share():
    assert {cls.key for cls in SHARING} == {"shape", "params", "cost"}


@pytest.mark.parametrize("name", [entry.name for entry in zoo_entries()][::4])
def test_sharing_changes_no_row_of_a_built_in_spec(name, unshared):
    shared = analyze(build_graph(load(name)))
    unshared()
    alone = analyze(build_graph(load(name)))
    assert shared.rows == alone.rows and shared.totals == alone.totals and shared.warnings == alone.warnings


SAME_LAYER_TWICE = """
name: twice
input: [3, 33, 33]
layers:
  - conv2d: {name: a, out: 8, kernel: 3, stride: 2, inputs: input}
  - conv2d: {name: b, out: 8, kernel: 3, stride: 2, inputs: input}
  - relu: {name: r, inputs: a}
  - relu: {name: f, inputs: b, functional: true}
  - add: {inputs: [r, f]}
"""


def test_each_repeat_notes_its_own_inexact_window(unshared):
    """a and b are one layer on one shape whose window does not tile 34 pixels ((34 − 3)/2 + 1 = 16.5):
    each must warn and be marked, though only one computed it."""
    text = SAME_LAYER_TWICE.replace("[3, 33, 33]", "[3, 34, 34]")
    shared, alone = both(text, unshared)
    rows = {row.name: row for row in shared.rows}
    assert "16.5" in rows["a"].inexact and rows["a"].inexact == rows["b"].inexact
    assert sum("layer 'a'" in w for w in shared.warnings) == 1 and sum("layer 'b'" in w for w in shared.warnings) == 1
    assert shared.rows == alone.rows and shared.warnings == alone.warnings


def test_each_repeat_is_marked_inexact_even_without_a_warning(unshared):
    """A 1×1/2 window on 34 pixels: (34 − 1)/2 + 1 = 17.5, floored by design (the kernel is smaller than
    its stride), so no warning, but both layers are marked inexact for grading."""
    text = SAME_LAYER_TWICE.replace("[3, 33, 33]", "[3, 34, 34]").replace("kernel: 3", "kernel: 1")
    shared, alone = both(text, unshared)
    rows = {row.name: row for row in shared.rows}
    assert "17.5" in rows["a"].inexact and rows["a"].inexact == rows["b"].inexact
    assert not shared.warnings and shared.rows == alone.rows


def test_the_functional_flag_keeps_two_records_apart(unshared):
    """r and f are one relu on one shape; only f runs as a function, which the cost record keeps."""
    shared, alone = both(SAME_LAYER_TWICE, unshared)
    rows = {row.name: row for row in shared.rows}
    assert rows["a"].ops is rows["b"].ops  # shared: one record for both
    assert rows["r"].ops.functional is False and rows["f"].ops.functional is True
    assert shared.rows == alone.rows
