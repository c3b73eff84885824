"""The layer types added for modern CNNs, worked out by hand: shapes, parameters, the 'full'
count, receptive fields and errors. (PyTorch checks their lowering in test_torch_backend.py and
test_lowering_values.py; the peer presets are checked in test_peer_presets.py.)"""

from __future__ import annotations

from fractions import Fraction

import pytest

from archcalc import ArchcalcError
from conftest import from_text, row_map


def net(*layers: str, shape: str = "[8, 6, 10]") -> dict:
    body = "".join(f"  - {layer}\n" for layer in layers)
    return row_map(from_text(f"name: t\ninput: {shape}\nlayers:\n{body}"))


def test_norm_parameters():
    """8 channels of 6×10: γ and β per channel (16), per element for layer_norm over all
    (2·8·6·10 = 960); none without affine; InstanceNorm's running statistics are buffers (2·8)."""
    rows = net("group_norm: {name: gn, groups: 4}", "layer_norm: {name: lc, over: channels}",
               "layer_norm: {name: la, over: all}", "instance_norm: {name: i}",
               "instance_norm: {name: it, affine: true, track_running_stats: true}",
               "group_norm: {name: g0, groups: 8, affine: false}")
    assert [rows[n].params.trainable for n in ("gn", "lc", "la", "i", "it", "g0")] == [16, 16, 960, 0, 16, 0]
    assert rows["it"].params.non_trainable == 16


def test_full_count_of_norms_and_upsampling():
    """480 elements: 8 ops each with affine (3,840), 6 without (2,880); bilinear upsampling to
    8×12×20 = 1,920 outputs at 9 ops each (17,280); nearest copies (0)."""
    rows = net("group_norm: {name: gn, groups: 2}", "group_norm: {name: g0, groups: 2, affine: false}",
               "upsample: {name: bi, scale: 2, mode: bilinear}", "upsample: {name: ne, size: [24, 40]}")
    assert [rows[n].ops.other for n in ("gn", "g0", "bi", "ne")] == [3_840, 2_880, 17_280, 0]


def test_upsample_shapes_and_fields():
    """Input field r = 1, j = 1, P = 0 (centre 0). Nearest ×2: r 1, j ½, P 0 (the first unit copies
    pixel 0). Bilinear ×2 (corners not aligned): x(0) = ½·½ − ½ = −¼, so r = 1 + 1 = 2, j = ½, centre
    −¼ and P = (2 − 1)/2 + ¼ = ¾. Bilinear 6 -> 11 with aligned corners: x(0) = 0, j = 5/10 = ½,
    r = 2, P = ½."""
    rows = net("upsample: {name: ne, scale: 2, inputs: input}", "upsample: {name: bi, scale: 2, mode: bilinear, inputs: input}",
               "upsample: {name: co, size: [11, 19], mode: bilinear, align_corners: true, inputs: input}",
               "concat: {inputs: [ne, bi]}", shape="[1, 6, 10]")
    assert rows["ne"].output_shape == (1, 12, 20) and rows["co"].output_shape == (1, 11, 19)
    h = rows["ne"].rf.h
    assert (h.size, h.jump, h.padding) == (1, Fraction(1, 2), 0)
    h = rows["bi"].rf.h
    assert (h.size, h.jump, h.padding) == (2, Fraction(1, 2), Fraction(3, 4))
    h = rows["co"].rf.h
    assert (h.size, h.jump, h.padding) == (2, Fraction(1, 2), Fraction(1, 2))


def test_channel_shuffle_and_stochastic_depth_change_nothing_but_order():
    rows = net("conv2d: {name: c, out: 4, kernel: 3}", "channel_shuffle: {name: s, groups: 2}",
               "stochastic_depth: {name: d, p: 0.3}")
    assert rows["s"].output_shape == rows["d"].output_shape == (4, 4, 8)
    assert rows["s"].rf == rows["d"].rf == rows["c"].rf and rows["d"].ops.other == 0


@pytest.mark.parametrize("layer, fragment", [
    ("group_norm: {groups: 3}", "groups=3 does not divide the 8 channels"),
    ("channel_shuffle: {groups: 3}", "groups=3 does not divide the 8 channels"),
    ("upsample: {scale: 2, size: [4, 4]}", "either 'scale'"),
    ("upsample: {}", "upsample needs a target"),
    ("center_crop: {size: [7, 7]}", "cannot crop 6×10 to a larger 7×7"),
    ("center_crop: {}", "center_crop needs a target"),
    ("upsample: {scale: 2, align_corners: true}", "bilinear interpolation only"),
    ("layer_norm: {}", "missing required field 'over'"),
    ("upsample: {scale: 2000000000}", "exceeds MAX_DIM"),
])
def test_errors(layer, fragment):
    with pytest.raises(ArchcalcError, match=fragment):
        net(layer)


def test_stochastic_depth_drops_whole_samples_in_training():
    torch = pytest.importorskip("torch")
    from archcalc import build_graph, load_spec_text
    from archcalc.backends.torch import to_module

    model = to_module(build_graph(load_spec_text("name: t\ninput: [2, 3, 3]\nlayers:\n  - stochastic_depth: {p: 0.5}\n")))
    x = torch.ones(400, 2, 3, 3)
    torch.manual_seed(0)
    y = model.train()(x)
    kept = y.flatten(1).amax(1)
    assert set(kept.tolist()) == {0.0, 2.0}  # each sample whole: dropped, or kept and scaled by 1/(1 − ½)
    assert 150 < int((kept == 0).sum()) < 250
    assert torch.equal(model.eval()(x), x)


def test_reshape_keeps_or_spreads_the_field():
    """8×6×10: [2, 4, 6, 10] keeps the last two axes (the positions), so the field stays the
    convolution's 3; [48, 10] mixes rows, so every unit may see any row: the whole input, 3 + 5·1 = 8
    rows high (six rows, each a 3-pixel field one pixel apart)."""
    rows = net("conv2d: {name: c, out: 8, kernel: 3, padding: 1}", "reshape: {name: split, shape: [2, 4, 6, 10]}",
               "reshape: {name: rows, shape: [48, 10], inputs: c}")
    assert rows["split"].output_shape == (2, 4, 6, 10) and rows["split"].rf == rows["c"].rf
    assert rows["rows"].output_shape == (48, 10) and rows["rows"].rf.h.size == 3 + 5 * 1


@pytest.mark.parametrize("shape, fragment", [
    ("[-1, -1]", "at most one -1"), ("[7, -1]", "cannot reshape"), ("[5, 5]", "the number of values must stay"),
])
def test_reshape_errors(shape, fragment):
    with pytest.raises(ArchcalcError, match=fragment):
        net(f"reshape: {{shape: {shape}}}")
