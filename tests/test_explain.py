"""Worked formulas (archcalc explain), checked against hand arithmetic."""

from __future__ import annotations

import pytest

from archcalc import Conventions, Rounding, analyze, build_graph, load, load_spec_text
from archcalc.explain import explain
from archcalc.layers.base import num, shape_str
from archcalc.zoo import zoo_entries


def steps(layers: str, name: str, input_shape: str = "[3, 32, 32]", rounding: Rounding = Rounding.FLOOR) -> dict:
    graph = build_graph(load_spec_text(f"name: t\ninput: {input_shape}\nlayers:\n{layers}"))
    return explain(graph, analyze(graph, Conventions(rounding=rounding)), name)[0].steps


def test_conv_output_size_exact():
    # AlexNet conv1: (227 - 11 + 2*0)/4 + 1 = 55
    s = steps("  - conv2d: {name: c, out: 96, kernel: 11, stride: 4}\n", "c", "[3, 227, 227]")
    assert s["output_shape"] == "(227 − 11 + 2·0)/4 + 1 = 55 → 96×55×55"


def test_conv_output_size_stride_does_not_divide():
    # (224 - 11 + 0)/4 + 1 = 54.25: floor 54 (PyTorch), ceil 55
    layer = "  - conv2d: {name: c, out: 96, kernel: 11, stride: 4}\n"
    assert steps(layer, "c", "[3, 224, 224]")["output_shape"] == "(224 − 11 + 2·0)/4 + 1 = 54.25 → floor 54 → 96×54×54"
    assert steps(layer, "c", "[3, 224, 224]", Rounding.CEIL)["output_shape"] == \
        "(224 − 11 + 2·0)/4 + 1 = 54.25 → ceil 55 → 96×55×55"


def test_conv_output_size_with_dilation():
    # k' = 2*(3 - 1) + 1 = 5; (32 - 5 + 2*2)/1 + 1 = 32
    s = steps("  - conv2d: {name: c, out: 8, kernel: 3, dilation: 2, padding: 2}\n", "c")
    assert s["output_shape"] == "k' = 2·(3 − 1) + 1 = 5; (32 − 5 + 2·2)/1 + 1 = 32 → 8×32×32"


def test_pooling_floor_and_ceil():
    # (6 - 3)/2 + 1 = 2.5: floor 2; ceil_mode 3
    floor = steps("  - max_pool2d: {name: p, kernel: 3, stride: 2}\n", "p", "[4, 6, 6]")
    ceil = steps("  - max_pool2d: {name: p, kernel: 3, stride: 2, ceil_mode: true}\n", "p", "[4, 6, 6]")
    assert floor["output_shape"].startswith("(6 − 3 + 2·0)/2 + 1 = 2.5 → floor 2 → 4×2×2")
    assert ceil["output_shape"].startswith("(6 − 3 + 2·0)/2 + 1 = 2.5 → ceil 3 → 4×3×3")


def test_params_with_and_without_bias():
    with_bias = steps("  - conv2d: {name: c, out: 6, kernel: 5}\n", "c", "[1, 32, 32]")
    without = steps("  - conv2d: {name: c, out: 6, kernel: 5, bias: false}\n", "c", "[1, 32, 32]")
    assert with_bias["params"] == "6 filters × (1·5·5 + 1 bias) = 156"  # LeNet-5 C1: 6 x (25 + 1)
    assert without["params"] == "6 filters × (1·5·5) = 150"
    grouped = steps("  - conv2d: {name: c, out: 256, kernel: 5, padding: 2, groups: 2}\n", "c", "[96, 27, 27]")
    assert grouped["params"] == "256 filters × (96/2·5·5 + 1 bias) = 307,456"  # AlexNet's two-GPU conv2


def test_macs():
    s = steps("  - conv2d: {name: c, out: 96, kernel: 11, stride: 4}\n", "c", "[3, 227, 227]")
    assert s["macs"] == "96·55·55 outputs × 3·11·11 = 105,415,200"  # 290,400 x 363
    fc = steps("  - flatten\n  - linear: {name: fc, out: 4096}\n", "fc", "[256, 6, 6]")
    assert fc["params"] == "9216 × 4096 + 4096 biases = 37,752,832"
    assert fc["macs"] == "9216 × 4096 = 37,748,736"


def test_receptive_field_of_stacked_layers():
    # two 3x3: 1 + 2 = 3, then 3 + 2 = 5; a 2x2/2 pool: 5 + 1 = 6, jump 2; a 3x3 after it: 6 + 2*2 = 10
    layers = ("  - conv2d: {name: a, out: 1, kernel: 3}\n  - conv2d: {name: b, out: 1, kernel: 3}\n"
              "  - max_pool2d: {name: p, kernel: 2}\n  - conv2d: {name: c, out: 1, kernel: 3}\n")
    assert steps(layers, "b")["rf"] == "size 3 + (3 − 1)·1 = 5, stride 1·1 = 1, padding 0 + 0·1 = 0"
    assert steps(layers, "p")["rf"] == "size 5 + (2 − 1)·1 = 6, stride 1·2 = 2, padding 0 + 0·1 = 0"
    assert steps(layers, "c")["rf"] == "size 6 + (3 − 1)·2 = 10, stride 2·1 = 2, padding 0 + 0·2 = 0"


def test_cli_explain(cli):
    out = cli("explain", "alexnet", "conv1").stdout
    assert "conv1 — conv2d 11×11/4, 96" in out and "34,944" in out and "105,415,200" in out
    result = cli("explain", "alexnet", "conv9")
    assert result.exit_code == 1 and "no layer or module named 'conv9'" in result.stderr
    module = cli("explain", "googlenet", "inception_3a").stdout
    assert module.count("inception_3a/") >= 14 and "channels 64 + 128 + 32 + 32 = 256" in module


@pytest.mark.parametrize("name", [entry.name for entry in zoo_entries()])
def test_worked_formulas_reach_the_computed_numbers(name):
    """Each rule writes its number and its worked text separately; they may not drift apart: on
    every layer of every built-in spec the text shows the parameters, MACs, output shape and
    receptive-field size the passes computed."""
    graph = build_graph(load(name))
    analysis = analyze(graph)
    for item, row in zip(explain(graph, analysis), analysis.rows):
        steps = item.steps
        if row.params.trainable:
            assert f"{row.params.trainable:,}" in steps["params"], (row.name, steps["params"])
        if row.macs:
            assert f"{row.macs:,}" in steps["macs"], (row.name, steps["macs"])
        shape = shape_str(row.output_shape) if len(row.output_shape) == 3 else f"{row.output_shape[0]:,}"
        assert shape in steps["output_shape"] or str(row.output_shape[0]) in steps["output_shape"], row.name
        if not steps["rf"].startswith("unchanged"):
            assert num(row.rf.h.size) in steps["rf"], (row.name, steps["rf"])
