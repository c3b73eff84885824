"""FLOP conventions and memory, derived by hand on a small network; the CLI's comparison."""

from __future__ import annotations

import json

import pytest

from archcalc import Conventions, analyze, build_graph, load_spec_text
from archcalc.conventions import FLOP_PRESETS
from conftest import zoo

TINY = """
name: tiny
input: [3, 8, 8]
layers:
  - conv2d: {name: conv, out: 4, kernel: 3, padding: 1}
  - batch_norm: {name: bn}
  - relu: {name: relu}
  - max_pool2d: {name: max, kernel: 2}
  - avg_pool2d: {name: avg, kernel: 2}
  - global_avg_pool: {name: gap}
  - flatten
  - linear: {name: fc, out: 10}
"""
# By hand, batch 1:
#   conv: 8*8*4 outputs * 3*3*3 = 6,912 MACs; 256 bias adds; output 4x8x8 = 256 values
#   bn: 256 values, 8 parameters (gamma, beta); relu: 256 in; max 2x2/2: 256 in, 64 out;
#   avg 2x2/2: 64 in, 16 out; gap: 16 in, 4 out; fc: 4*10 = 40 MACs, 10 bias adds.
MACS = 6_912 + 40
EXPECTED = {
    "macs": MACS,  # 6,952
    "torch": 2 * MACS,  # 13,904
    "full": 2 * MACS + 266 + (2 * 256 + 256 + 64 * 3 + 16 * 4 + 16),  # bn, relu, max (k²-1), avg (k²), gap = 15,210
    "fvcore": MACS + 2 * 256 + 16,  # BN elements x2 + adaptive-avg-pool input = 7,480
    "torchinfo": MACS + 256 + 10 + 8,  # biases + BN gamma/beta = 7,226
    "thop": MACS + 4 * 256 + 16 + (16 + 4),  # 4 x BN + avg-pool out + adaptive (in + out) = 8,012
    "ptflops": MACS + 266 + 2 * 256 + 2 * (256 + 256 + 64 + 16),  # + 2 x (relu + pooling inputs) = 8,914
    "ptflops_aten": MACS + 266,  # 7,218
    "calflops": 2 * MACS + 256 + 2 * 256 + 256 + (256 + 64 + 16),  # conv bias, 2 x BN, relu, pool inputs = 15,264
}


def tiny(**conventions):
    return analyze(build_graph(load_spec_text(TINY)), Conventions(**conventions))


def test_every_preset_is_checked():
    assert set(EXPECTED) == set(FLOP_PRESETS)


@pytest.mark.parametrize("preset", EXPECTED)
def test_preset_by_hand(preset):
    analysis = tiny(flops=preset)
    assert analysis.totals.flops == EXPECTED[preset]
    assert analysis.flops_under(preset) == EXPECTED[preset]
    assert analysis.totals.macs == MACS  # MACs never depend on the convention


def test_torch_is_twice_macs_for_conv_linear_networks():
    # VGG-16 holds only conv, linear, relu, max-pool, dropout, flatten, softmax.
    analysis = zoo("vgg16")
    assert analysis.flops_under("torch") == 2 * analysis.flops_under("macs") == 2 * analysis.totals.macs
    assert analysis.totals.macs == 15_470_264_320  # torchvision VGG16 _ops 15.47 GFLOPS (MACs)


def test_alexnet_under_every_preset():
    # Lecture AlexNet: MACs 1,135,256,096. Biases: conv 290,400 + 186,624 + 64,896 + 64,896 + 43,264
    # = 650,080 and linear 4,096 + 4,096 + 1,000 = 9,192. ReLU inputs 650,080 - ... (each conv and
    # fc6/fc7 output): 290,400 + 186,624 + 64,896 + 64,896 + 43,264 + 4,096 + 4,096 = 658,272.
    # Max-pool inputs 290,400 + 186,624 + 43,264 = 520,288. No BN, no adaptive pooling. The final
    # softmax over 1,000 features: thop counts 1,000 exps + 999 adds + 1,000 divisions = 2,999;
    # ptflops and calflops see F.softmax and count its 1,000 inputs (tests/fixtures/peer_counts.json,
    # probe 'softmax', shows each tool doing so).
    a = zoo("alexnet")
    macs = 1_135_256_096
    assert a.flops_under("macs") == a.flops_under("fvcore") == macs
    assert a.flops_under("thop") == macs + 2_999
    assert a.flops_under("torchinfo") == a.flops_under("ptflops_aten") == macs + 650_080 + 9_192
    assert a.flops_under("ptflops") == macs + 659_272 + 2 * (658_272 + 520_288) + 1_000
    assert a.flops_under("calflops") == 2 * macs + 650_080 + 658_272 + 520_288 + 1_000


def test_memory_by_hand():
    # Activations (values, batch 1): input 192, conv 256, bn 256, relu 256, max 64, avg 16,
    # gap 4, flatten 0 (a view), fc 10: 1,054 values.
    analysis = tiny()
    assert analysis.totals.activation_elems == 1_054
    assert analysis.totals.activation_bytes == 1_054 * 4
    assert tiny(dtype="float16", batch=8).totals.activation_bytes == 1_054 * 8 * 2
    # parameters (torch's parameters()): conv 112, bn γ/β 8, fc 50 -> 170 values; the 8 running
    # statistics are buffers (Keras counts them: 178)
    assert analysis.totals.param_bytes == 170 * 4
    assert analysis.totals.buffers == 8


def test_unknown_convention_is_rejected():
    with pytest.raises(ValueError):
        Conventions(flops="gflops")


def test_cli_conventions_table(cli):
    result = cli("summary", "alexnet", "--conventions", "--format", "json")
    assert result.exit_code == 0
    rows = {r["convention"]: r for r in json.loads(result.stdout)}
    assert rows["torch"]["total"] == 2 * rows["macs"]["total"]
    assert rows["ptflops"]["counts"].startswith("MACs + bias adds")
    text = cli("summary", "alexnet", "--conventions").stdout
    assert "fvcore" in text and "what it counts" in text


def test_cli_convention_names_the_header(cli):
    text = cli("summary", "tests/specs/mini_inception_resnet.yaml", "--convention", "fvcore").stdout
    assert "FLOPs (fvcore)" in text
    assert "FLOPs (fvcore): MACs + 2 × BatchNorm elements" in text
    data = json.loads(cli("summary", "alexnet", "--convention", "macs", "--format", "json").stdout)
    assert data["convention"] == "macs" and data["totals"]["flops"] == data["totals"]["macs"]
