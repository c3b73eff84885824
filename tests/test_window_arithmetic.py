"""The output-size convention, checked by hand and against brute-force window counting."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from archcalc.conventions import same_padding, window_output


def brute_force(length, kernel, stride, before, after, dilation, ceil_mode):
    """Count window start positions directly on the padded axis (no formula).

    A window starting at padded position x covers x .. x + d(k-1). Floor mode keeps windows
    that end inside the padded input. Ceil mode (PyTorch) lets a window overhang the end by
    up to stride - 1 pixels, provided it starts inside the input or its left padding.
    """
    padded = length + before + after
    span = dilation * (kernel - 1)
    overhang = stride - 1 if ceil_mode else 0
    return len([x for x in range(0, padded, stride)
                if x + span <= padded - 1 + overhang and (not ceil_mode or x < length + before)])


@pytest.mark.parametrize(
    "args, expected",
    [
        ((227, 11, 4, 0, 0), 55),  # AlexNet conv1: (227 - 11)/4 + 1
        ((224, 11, 4, 0, 0), 54),  # floor(54.25)
        ((55, 3, 2, 0, 0), 27),  # AlexNet pool1
        ((5, 3, 1, 1, 1), 5),  # seed 001: 3x3, pad 1, stride 1 keeps 5x5
        ((4, 3, 1, 0, 0), 2),  # seed 001: 4x4 input, 3x3 filter -> 2x2
    ],
)
def test_hand_examples(args, expected):
    assert window_output(*args).size == expected


def test_dilation_enlarges_the_kernel():
    # 3x3 dilation 2 covers 5 pixels: (7 - 5)/1 + 1 = 3
    assert window_output(7, 3, 1, 0, 0, dilation=2).size == 3


def test_ceil_mode_pytorch_rule():
    # (6 - 3)/2 + 1 = 2.5: floor 2, ceil 3. With pad 1 on 5: (5 + 2 - 2)/2 + 1 = 3.5 -> ceil 4,
    # but the 4th window would start at 6 >= 5 + 1 (inside the right padding only) -> 3.
    assert window_output(6, 3, 2, 0, 0, ceil_mode=False).size == 2
    assert window_output(6, 3, 2, 0, 0, ceil_mode=True).size == 3
    assert window_output(5, 2, 2, 1, 1, ceil_mode=True).size == 3


def test_remainder_names_the_dropped_pixels():
    assert window_output(224, 11, 4, 0, 0).remainder == 1  # 213 = 4*53 + 1
    assert window_output(227, 11, 4, 0, 0).remainder == 0


def test_kernel_larger_than_input():
    with pytest.raises(ValueError, match="does not fit"):
        window_output(3, 5, 1, 0, 0)


@given(
    length=st.integers(1, 64), kernel=st.integers(1, 9), stride=st.integers(1, 5),
    before=st.integers(0, 4), after=st.integers(0, 4), dilation=st.integers(1, 3), ceil_mode=st.booleans(),
)
def test_matches_brute_force(length, kernel, stride, before, after, dilation, ceil_mode):
    if ceil_mode:  # ceil mode is for pooling, whose padding PyTorch limits to kernel // 2
        assume(max(before, after) <= kernel // 2)
    expected = brute_force(length, kernel, stride, before, after, dilation, ceil_mode)
    if expected == 0:
        with pytest.raises(ValueError):
            window_output(length, kernel, stride, before, after, dilation, ceil_mode)
    else:
        assert window_output(length, kernel, stride, before, after, dilation, ceil_mode).size == expected


@given(length=st.integers(1, 300), kernel=st.integers(1, 11), stride=st.integers(1, 4), dilation=st.integers(1, 3))
def test_same_padding_gives_ceil_of_length_over_stride(length, kernel, stride, dilation):
    before, after = same_padding(length, kernel, stride, dilation)
    assert 0 <= after - before <= 1
    assert window_output(length, kernel, stride, before, after, dilation).size == math.ceil(length / stride)
