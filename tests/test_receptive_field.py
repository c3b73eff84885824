"""Receptive fields, derived by hand (Araujo, Norris & Sim, Distill 2019)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from archcalc.receptive_field import IDENTITY, AxisRF, union
from conftest import from_text, row_map, zoo


def net(layers: str, input_shape: str = "[1, 64, 64]") -> dict:
    return row_map(from_text(f"name: t\ninput: {input_shape}\nlayers:\n{layers}"))


def size(row) -> tuple:
    return (row.rf.h.size, row.rf.w.size)


def test_stacked_3x3_seed_000():
    # "a stack of two 3x3 conv. layers has an effective receptive field of 5x5;
    #  three such layers have a 7x7 effective receptive field" (VGG, seed 000)
    rows = net("  - conv2d: {name: a, out: 1, kernel: 3}\n  - conv2d: {name: b, out: 1, kernel: 3}\n"
               "  - conv2d: {name: c, out: 1, kernel: 3}\n")
    assert size(rows["a"]) == (3, 3)
    assert size(rows["b"]) == (5, 5)  # 3 + (3 - 1) * 1
    assert size(rows["c"]) == (7, 7)


def test_dilated_stack():
    # k=3 d=1: r=3. k=3 d=2 (k_eff 5): r = 3 + 4 = 7. k=3 d=4 (k_eff 9): r = 7 + 8 = 15.
    rows = net("  - conv2d: {name: a, out: 1, kernel: 3}\n  - conv2d: {name: b, out: 1, kernel: 3, dilation: 2}\n"
               "  - conv2d: {name: c, out: 1, kernel: 3, dilation: 4}\n")
    assert [size(rows[n])[0] for n in "abc"] == [3, 7, 15]


def test_strided_then_dilated():
    # conv 3x3/2 pad 1: r=3, j=2, P=1. conv 3x3 d2 pad 2: k_eff=5, r = 3 + 4*2 = 11, j = 2, P = 1 + 2*2 = 5.
    rows = net("  - conv2d: {name: a, out: 1, kernel: 3, stride: 2, padding: 1}\n"
               "  - conv2d: {name: b, out: 1, kernel: 3, dilation: 2, padding: 2}\n")
    b = rows["b"].rf.h
    assert (b.size, b.jump, b.padding) == (11, 2, 5)
    assert b.center == (11 - 1) / 2 - 5 == 0  # the first unit is centred on pixel 0


def test_non_square_kernels():
    # Inception v3's 1x7 then 7x1: H sees 7 rows, W 7 columns; each alone is 1 x 7.
    rows = net("  - conv2d: {name: a, out: 1, kernel: [1, 7], padding: [0, 3]}\n"
               "  - conv2d: {name: b, out: 1, kernel: [7, 1], padding: [3, 0]}\n")
    assert size(rows["a"]) == (1, 7)
    assert size(rows["b"]) == (7, 7)


def test_transposed_conv_by_hand():
    # conv 3x3/2 (r=3, j=2, P=0), then transposed 4x4/2 pad 1: the input is upsampled by 2
    # (jump 2/2 = 1) and convolved with k=4, padding 4-1-1 = 2: r = 3 + 3*1 = 6, j = 1,
    # P = 0 + 2*1 = 2.
    rows = net("  - conv2d: {name: down, out: 1, kernel: 3, stride: 2}\n"
               "  - conv_transpose2d: {name: up, out: 1, kernel: 4, stride: 2, padding: 1}\n")
    up = rows["up"].rf.h
    assert (up.size, up.jump, up.padding) == (6, 1, 2)
    # a single transposed conv 3x3/2 on the input: jump 1/2, r = 1 + 2 * 1/2 = 2
    rows = net("  - conv_transpose2d: {name: up, out: 1, kernel: 3, stride: 2}\n")
    assert (rows["up"].rf.h.size, rows["up"].rf.h.jump) == (2, Fraction(1, 2))


def test_vgg16_pool5():
    # VGG-16 at pool5: size 212, effective stride 32, effective padding 90 (the values
    # google-research/receptive_field lists for vgg_16/pool5). By hand: 13 3x3 convs and 5 2x2/2
    # pools: r = 1 + 2*(2*1 + 2*2 + 3*4 + 3*8 + 3*16) + 1*(1 + 2 + 4 + 8 + 16) = 1 + 180 + 31 = 212.
    rf = row_map(zoo("vgg16"))["pool5"].rf
    assert (rf.h.size, rf.h.jump, rf.h.padding) == (212, 32, 90)
    assert rf.h == rf.w


def test_concat_of_different_fields():
    # 1x1 (r=1) and 5x5 pad 2 (r=5) branches, both centred: the union is 5.
    rows = net("  - conv2d: {name: a, out: 1, kernel: 1, inputs: input}\n"
               "  - conv2d: {name: b, out: 1, kernel: 5, padding: 2, inputs: input}\n"
               "  - concat: {name: cat, inputs: [a, b]}\n")
    cat = rows["cat"].rf.h
    assert (cat.size, cat.padding, cat.center) == (5, 2, 0)


def test_aligned_branches_merge_silently():
    # a: 3x3 valid conv, first unit sees [0, 2], centre 1.
    # c: 3x3/1 pool with padding 1 (r=3, P=1) then a 3x3 valid conv: r=5, P=1, sees [-1, 3], centre 1.
    analysis = from_text("name: t\ninput: [1, 8, 8]\nlayers:\n"
                         "  - conv2d: {name: a, out: 1, kernel: 3, inputs: input}\n"
                         "  - max_pool2d: {name: p, kernel: 3, stride: 1, padding: 1, inputs: input}\n"
                         "  - conv2d: {name: c, out: 1, kernel: 3}\n"
                         "  - concat: {name: cat, inputs: [a, c]}\n")
    cat = row_map(analysis)["cat"].rf.h
    assert (cat.size, cat.padding, cat.center) == (5, 1, 1)
    assert not any("receptive field" in w for w in analysis.warnings)


def test_misaligned_branches_are_reported():
    # a: 3x3 valid conv, sees [0, 2], centre 1. c: 2 pixels of padding on top/left, then a 5x5
    # valid conv: sees [-2, 2], centre 0. Both outputs are 6x6, so add accepts them; the union
    # is [-2, 2] (size 5, padding 2) and the warning names both centres instead of averaging.
    analysis = from_text("name: t\ninput: [1, 8, 8]\nlayers:\n"
                         "  - conv2d: {name: a, out: 1, kernel: 3, inputs: input}\n"
                         "  - zero_pad2d: {name: pad, padding: [[2, 0], [2, 0]], inputs: input}\n"
                         "  - conv2d: {name: c, out: 1, kernel: 5}\n"
                         "  - add: {name: sum, inputs: [a, c]}\n")
    rf = row_map(analysis)["sum"].rf.h
    assert (rf.size, rf.padding) == (5, 2)
    assert any("not centred on the same pixel (centres 0, 1)" in w for w in analysis.warnings)


def test_global_pool_and_linear_see_the_whole_input():
    # ResNet-18 torchvision: last stage r = 435, j = 32; global pooling over 7x7 positions:
    # 435 + 6*32 = 627 pixels, more than the 224 input: every output sees all of it.
    rows = row_map(zoo("torchvision/resnet18"))
    last = rows["layer4.1/add_relu"].rf.h
    gap = rows["avgpool"].rf.h
    assert gap.size == last.size + 6 * last.jump
    assert gap.padding <= 0 + last.padding and -gap.padding + gap.size - 1 >= 223
    assert rows["fc"].rf == rows["flatten"].rf == rows["avgpool"].rf


@given(st.lists(st.tuples(st.integers(1, 7), st.integers(1, 3), st.integers(0, 3), st.integers(1, 3)), min_size=1,
                max_size=6))
def test_window_recurrence_matches_closed_form(layers):
    # Closed form (Araujo et al., eq. 2-3): r = 1 + sum (k_eff_l - 1) * prod_{i<l} s_i;
    # P = sum p_l * prod_{i<l} s_i.
    rf, jump, r, pad = IDENTITY, 1, 1, 0
    for k, s, p, d in layers:
        rf = rf.window(k, s, p, d)
        r += (d * (k - 1)) * jump
        pad += p * jump
        jump *= s
    assert (rf.size, rf.jump, rf.padding) == (r, jump, pad)


def test_union_of_identical_fields_is_that_field():
    field = AxisRF(Fraction(7), Fraction(2), Fraction(3))
    from archcalc.receptive_field import RF

    merged, notes = union([RF(field, field), RF(field, field)])
    assert merged == RF(field, field) and notes == []
