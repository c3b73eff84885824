"""The peer FLOP presets against the peers themselves: tests/fixtures/peer_counts.json holds what
fvcore, torchinfo, thop, ptflops (both backends), calflops and PyTorch's FlopCounterMode reported
(tools/peer_counts.py, versions recorded in the fixture) on every torchvision model that has a
built-in spec, and on archcalc's own lowered module of a single-layer probe of every layer type.
Every preset must give every tool's integer, exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archcalc import analyze, build_graph, load, load_spec_text
from archcalc.conventions import FLOP_PRESETS
from archcalc.layers import layer_types

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "peer_counts.json").read_text())

# The tools' own quirks, which the presets do not copy, each with the exact difference derived.
# Probe: conv 4 channels 3×3 on 3×8×8 (padding 1) -> 4×8×8 = 256 values, then the layer.
KNOWN = {
    # F.local_response_norm(size 3): x·x (256) + avg_pool3d over the channel-padded square
    # ((4 + 3 − 1)·8·8 = 384) + ·alpha (256) + +k (256): Tensor.mul/add and avg_pool3d are patched.
    ("lrn", "ptflops"): 256 + 384 + 256 + 256,
    ("lrn", "calflops"): 256 + 384 + 256 + 256,
    # calflops 0.3.2 computes a transposed convolution's bias from the *forward* convolution's
    # output size: (8 − 3)//2 + 1 = 3, so 4 channels · 3·3 = 36 instead of the 4·17·17 = 1,156
    # outputs; the preset, like its conv rule, counts no bias for transposed convolutions.
    ("conv_transpose2d", "calflops"): 36,
    # calflops 0.3.2 counts F.interpolate given a size as the product of the size alone, 5·7 = 35,
    # without batch or channels; given a scale it counts the input (4·8·8 = 256), as the preset does.
    ("upsample bilinear corners", "calflops"): 35 - 256,
    # F.interpolate(x, size=(8, 8)): 64, where the preset counts the inputs' 4·8·8 + 3·8·8 = 448 elements
    ("upsample bilinear like", "calflops"): 8 * 8 - 448,
}


def test_fixture_covers_every_preset_and_every_layer_type():
    tools = {tool for counts in FIXTURE["counts"].values() for tool in counts}
    assert tools == set(FLOP_PRESETS) - {"macs", "full"}  # archcalc's own two have no peer
    probed = {probe["spec"].splitlines()[-1].strip(" -").split(":")[0] for probe in FIXTURE["probes"].values()}
    every = set(layer_types()) - {"input", "flatten", "concat", "add", "mul", "linear",  # in the torchvision models
                                  "placeholder"}  # counts nothing, by definition; no peer model has one
    assert every <= probed | {"conv2d"}, every - probed


@pytest.mark.parametrize("spec", sorted(FIXTURE["counts"]))
def test_presets_reproduce_the_tools_on_torchvision_models(spec):
    analysis = analyze(build_graph(load(spec)))
    ours = {tool: analysis.flops_under(tool) for tool in FIXTURE["counts"][spec]}
    assert ours == FIXTURE["counts"][spec]


@pytest.mark.parametrize("probe", sorted(FIXTURE["probes"]))
def test_presets_reproduce_the_tools_on_every_layer_type(probe):
    entry = FIXTURE["probes"][probe]
    analysis = analyze(build_graph(load_spec_text(entry["spec"])))
    for tool, theirs in entry["counts"].items():
        if theirs is None:  # the tool gave up on this module
            continue
        assert theirs - analysis.flops_under(tool) == KNOWN.get((probe, tool), 0), (probe, tool)


def test_functional_calls_are_facts_of_the_specs():
    """Where torchvision calls an op as a function the hook-based tools miss it; the specs say so
    (functional: true), and only the hook-based presets change."""
    densenet = analyze(build_graph(load("torchvision/densenet121")))
    flagged = [row for row in densenet.rows if row.ops.functional]
    assert [row.type for row in flagged] == ["relu", "adaptive_avg_pool2d"]  # DenseNet.forward's F.relu, F.adaptive_avg_pool2d
    # thop hooks modules only: the functional adaptive pool's 1024·7·7 inputs and 1,024 outputs are not counted
    pool = flagged[1].ops
    assert (pool.in_elems, pool.out_elems) == (50_176, 1_024)
