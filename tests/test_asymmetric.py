"""Non-square windows, asymmetric padding, dilation, groups and transposed convolutions, each
worked out by hand: the cases a square-only suite cannot tell apart (mutation testing found
rules whose height and width could be swapped, or whose dilation, output padding or groups
could be dropped, without a test failing)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from archcalc import ArchcalcError, Conventions, analyze, build_graph, load_spec_text
from conftest import row_map


def rows(body: str, shape: str = "[1, 20, 30]", **conventions):
    spec = f"name: t\ninput: {shape}\nlayers:\n" + "".join(f"  - {line}\n" for line in body.strip().splitlines())
    analysis = analyze(build_graph(load_spec_text(spec)), Conventions(**conventions))
    return row_map(analysis), analysis


def rf(row):
    return ((row.rf.h.size, row.rf.h.jump, row.rf.h.padding), (row.rf.w.size, row.rf.w.jump, row.rf.w.padding))


def test_non_square_conv_with_dilation_and_asymmetric_padding():
    r, _ = rows("conv2d: {name: a, out: 2, kernel: [3, 5], stride: [2, 3], padding: [[1, 0], [2, 1]], dilation: [1, 2]}\n"
                "conv2d: {name: b, out: 2, kernel: [1, 3]}")
    # a, H: k' = 3; out = (20 + 1 + 0 − 3)//2 + 1 = 10; r = 1 + 2·1 = 3, j = 2, P = 1·1 = 1
    # a, W: k' = 2·(5 − 1) + 1 = 9; out = (30 + 2 + 1 − 9)//3 + 1 = 9; r = 1 + 8 = 9, j = 3, P = 2
    assert r["a"].output_shape == (2, 10, 9)
    assert rf(r["a"]) == ((3, 2, 1), (9, 3, 2))
    # b (1×3): H unchanged (r 3, j 2, P 1); W: r = 9 + 2·3 = 15, j 3, P 2; out 9 − 3 + 1 = 7
    assert r["b"].output_shape == (2, 10, 7)
    assert rf(r["b"]) == ((3, 2, 1), (15, 3, 2))
    # MACs: a: 2·10·9 outputs × 1·3·5 = 2,700; b: 2·10·7 × 2·1·3 = 840
    assert (r["a"].macs, r["b"].macs) == (2_700, 840)


def test_transposed_convolution_with_dilation_groups_and_output_padding():
    r, _ = rows("conv_transpose2d: {name: d, out: 6, kernel: 3, stride: 2, padding: 1, output_padding: 1, dilation: 2, "
                "groups: 2}", "[4, 5, 5]", flops="thop")
    d = r["d"]
    # size (5 − 1)·2 − (1 + 1) + 2·(3 − 1) + 1 + 1 = 12 on both axes
    assert d.output_shape == (6, 12, 12)
    # params: C_in · (out / groups) · k² + bias = 4 · 3 · 9 + 6 = 114
    assert (d.params.trainable, d.params.bias) == (114, 6)
    # MACs per input element: (out / groups) · k² = 27 → 4·5·5 · 27 = 2,700; per output element
    # (thop, torchinfo): (C_in / groups) · k² = 18 → 6·12·12 · 18 = 15,552
    assert (d.ops.macs, d.ops.output_macs, d.flops) == (2_700, 15_552, 15_552)
    # field: the input upsampled ×2 (jump 1/2), then a stride-1 window of k' = 2·(3 − 1) + 1 = 5
    # with padding d·(k − 1) − p = 4 − 1 = 3: size 1 + 4·½ = 3, jump ½, padding 3·½ = 3/2
    assert rf(d)[0] == (3, Fraction(1, 2), Fraction(3, 2))


def test_asymmetric_zero_padding():
    r, _ = rows("zero_pad2d: {name: z, padding: [[1, 2], [3, 0]]}", "[1, 5, 6]")
    assert r["z"].output_shape == (1, 8, 9)  # 5 + 1 + 2, 6 + 3 + 0
    assert rf(r["z"]) == ((1, 1, 1), (1, 1, 3))  # the field's first unit now starts 1 (3) pixels before the input


def test_union_of_fields_with_different_strides_and_sizes():
    """H: branch a, 5×1 stride 1 (size 5, jump 1); branch b, 2×1 stride 2 (size 2, jump 2): both
    4 rows high, concatenated. The union spans rows 0..4: size 5, the finer jump 1; the centres
    (2 and ½) and the jumps disagree, and both are reported. W: 1×1 everywhere: size 1."""
    r, analysis = rows("conv2d: {name: a, out: 1, kernel: [5, 1]}\n"
                       "conv2d: {name: b, out: 1, kernel: [2, 1], stride: [2, 1], inputs: input}\n"
                       "concat: {name: c, inputs: [a, b]}", "[1, 8, 4]")
    assert r["c"].output_shape == (2, 4, 4)
    assert rf(r["c"]) == ((5, 1, 0), (1, 1, 0))
    notes = [w for w in analysis.warnings if "layer 'c'" in w]
    assert any("H: inputs have different effective strides (1, 2)" in w for w in notes)
    assert any("H: input fields are not centred on the same pixel (centres 0.5, 2); the union spans 5 pixels" in w
               for w in notes)
    assert not any(" W: " in w for w in notes)


def test_non_square_adaptive_pooling():
    """H: 10 → 3 windows of sizes 4, 4, 4 (largest ⌈(3 − 1 + 10)/3⌉ = 4), mean stride 10/3;
    W: 8 → 4 windows of exactly 2, stride 2. Only H is warned about."""
    r, analysis = rows("adaptive_max_pool2d: {name: p, output: [3, 4]}", "[2, 10, 8]", flops="full")
    assert r["p"].output_shape == (2, 3, 4)
    assert rf(r["p"]) == ((4, Fraction(10, 3), 0), (2, 2, 0))
    # full count: window elements summed, per channel (10 + 3 − 1)·(8 + 4 − 4) = 12·8 = 96, less one
    # comparison per output: 2·96 − 2·3·4 = 168
    assert r["p"].flops == 168
    warnings = " ".join(analysis.warnings)
    assert "H: adaptive windows of 10 → 3 vary" in warnings and "W: adaptive" not in warnings


def test_inexact_window_names_the_axis():
    _, analysis = rows("max_pool2d: {name: p, kernel: [2, 3], stride: [2, 3]}", "[1, 9, 9]")
    # H: (9 − 2)/2 + 1 = 4.5 → 4, the last row unread; W: (9 − 3)/3 + 1 = 3, exact
    (warning,) = analysis.warnings
    assert "H: (9 − 2 + 2·0)/2 + 1 = 4.5 is not an integer; floor gives 4, so the last 1 input row is never read" \
        in warning and "W:" not in warning


@pytest.mark.parametrize("kernel, padding, ok", [(3, 1, True), (3, 2, False), (4, 2, True), (4, 3, False)])
def test_pool_padding_at_most_half_the_kernel(kernel, padding, ok):
    """PyTorch's rule: pooling padding ≤ kernel // 2."""
    body = f"max_pool2d: {{name: p, kernel: {kernel}, stride: 1, padding: {padding}}}"
    if ok:
        assert rows(body, "[1, 9, 9]")[0]["p"].output_shape == (1, 9 + 2 * padding - kernel + 1,
                                                                 9 + 2 * padding - kernel + 1)
    else:
        with pytest.raises(ArchcalcError, match=f"padding {padding} is more than half the kernel {kernel}"):
            rows(body, "[1, 9, 9]")


@pytest.mark.parametrize("fields, trainable, non_trainable", [
    ("", 8, 8), ("affine: false", 0, 8), ("track_running_stats: false", 8, 0),
    ("affine: false, track_running_stats: false", 0, 0),
])
def test_batch_norm_parameters(fields, trainable, non_trainable):
    """4 channels: γ and β (2·4) when affine; running mean and variance (2·4) when tracked."""
    r, _ = rows(f"batch_norm: {{name: bn, {fields}}}" if fields else "batch_norm: {name: bn}", "[4, 3, 3]")
    assert (r["bn"].params.trainable, r["bn"].params.non_trainable) == (trainable, non_trainable)


def test_lrn_full_count():
    """(2·size + 3) ops per element: size squares, size − 1 adds, scale, offset, power, divide."""
    r, _ = rows("lrn: {name: n, size: 3}", "[4, 5, 5]", flops="full")
    assert r["n"].flops == (2 * 3 + 3) * 4 * 5 * 5


def test_batch_norm_explanation_without_affine():
    """It used to read 'γ and β: 2·4 = 0 trainable' when affine was off."""
    from archcalc.explain import explain

    graph = build_graph(load_spec_text("name: t\ninput: [4, 3, 3]\nlayers:\n  - batch_norm: {name: b, affine: false}\n"))
    steps = explain(graph, analyze(graph), "b")[0].steps
    assert steps["params"] == ("γ and β: none (affine: false) trainable; running mean and variance: 2·4 = 8 "
                               "non-trainable")


def test_transposed_convolution_non_square_without_bias():
    r, _ = rows("conv_transpose2d: {name: d, out: 2, kernel: [3, 2], stride: [2, 1], bias: false}", "[3, 4, 5]",
                flops="torchinfo")
    d = r["d"]
    # H: (4 − 1)·2 + 2·1 + 1 = 9 (k' = 3); W: (5 − 1)·1 + 1·1 + 1 = 6 (k' = 2)
    assert d.output_shape == (2, 9, 6)
    # params 3 · 2 · 3·2 = 36, no bias; MACs 3·4·5 inputs × 2·3·2 = 720; per output 2·9·6 × 3·3·2 = 1,944
    assert (d.params.trainable, d.ops.bias, d.ops.macs, d.ops.output_macs) == (36, 0, 720, 1_944)
    assert d.flops == 1_944  # torchinfo: per output element, and no bias adds


@pytest.mark.parametrize("fields, message", [
    ("kernel: 3, stride: 2, output_padding: 2", "output_padding must be smaller than the stride or the dilation"),
    ("kernel: 3, padding: same", "'same' padding is not defined for a transposed convolution"),
    ("kernel: 1, padding: 1", "removes the whole output (0 pixels)"),  # (2 − 1)·1 − 2 + 0 + 1 = 0
])
def test_transposed_convolution_refusals(fields, message):
    with pytest.raises(ArchcalcError, match=message.replace("(", r"\(").replace(")", r"\)")):
        rows(f"conv_transpose2d: {{name: d, out: 2, {fields}}}", "[1, 2, 2]")


def test_transposed_convolution_of_one_pixel():
    r, _ = rows("conv_transpose2d: {name: d, out: 2, kernel: 1, padding: 0}", "[1, 1, 1]")
    assert r["d"].output_shape == (2, 1, 1)  # (1 − 1)·1 − 0 + 0 + 1 = 1: the smallest allowed


def test_same_padding_with_stride_and_dilation_per_axis():
    """H: ⌈9/2⌉ = 5 outputs, total padding (5 − 1)·2 + 3 − 9 = 2 → 1 and 1; W: k' = 2·(4 − 1) + 1
    = 7, 10 outputs, total (10 − 1)·1 + 7 − 10 = 6 → 3 and 3."""
    r, _ = rows("conv2d: {name: c, out: 1, kernel: [3, 4], stride: [2, 1], dilation: [1, 2], padding: same}",
                "[1, 9, 10]")
    assert r["c"].output_shape == (1, 5, 10)
    assert rf(r["c"]) == ((3, 2, 1), (7, 1, 3))


def test_union_span_with_padding():
    """a: 3×1 with padding 1 sees rows −1..1 (centre 0); b: 2×1 padded after sees rows 0..1
    (centre ½): the union spans −1..1, 3 pixels."""
    r, analysis = rows("conv2d: {name: a, out: 1, kernel: [3, 1], padding: [[1, 1], [0, 0]]}\n"
                       "conv2d: {name: b, out: 1, kernel: [2, 1], padding: [[0, 1], [0, 0]], inputs: input}\n"
                       "add: {name: s, inputs: [a, b]}", "[1, 8, 4]")
    assert rf(r["s"])[0] == (3, 1, 1)
    assert any("centres 0, 0.5); the union spans 3 pixels" in w for w in analysis.warnings)


@pytest.mark.parametrize("value, text", [(Fraction(5, 2), "2.5"), (Fraction(7, 8), "0.875"), (Fraction(1, 3), "1/3"),
                                         (Fraction(1, 5), "1/5"), (Fraction(-3, 4), "-0.75"), (Fraction(6), "6")])
def test_exact_numbers_for_people(value, text):
    """Halves, quarters and eighths print as decimals; other fractions stay exact."""
    from archcalc.receptive_field import fmt

    assert fmt(value) == text


def test_unread_pixels_count_padding_first():
    """H: 10 rows, 3×3/3 with one row of padding after: (10 − 3 + 0 + 1)/3 + 1 = 3.67, floor 3;
    the windows end 2 pixels short, the padding row first, so 1 input row is never read.
    W: (10 − 3 + 0 + 0)/3 + 1 = 3.33, floor 3: 1 column unread (no padding). The axes differ in
    padding, so each is named on its own."""
    _, analysis = rows("max_pool2d: {name: p, kernel: 3, stride: 3, padding: [[0, 1], [0, 0]]}", "[1, 10, 10]")
    (warning,) = analysis.warnings
    assert "H: (10 − 3 + 0 + 1)/3 + 1 = 3.667 is not an integer; floor gives 3, so the last 1 input row is never read" \
        in warning
    assert "W: (10 − 3 + 2·0)/3 + 1 = 3.333 is not an integer; floor gives 3, so the last 1 input column is never read" \
        in warning


def test_square_windows_are_warned_once_for_both_axes():
    _, analysis = rows("max_pool2d: {name: p, kernel: 3, stride: 3}", "[1, 10, 10]")
    (warning,) = analysis.warnings
    assert "H and W: (10 − 3 + 2·0)/3 + 1 = 3.333 is not an integer; floor gives 3, so the last 1 input row and " \
           "column is never read" in warning
