"""Layers over one spatial axis (C×L) and three (C×D×H×W), worked out by hand; r3d_18's published
numbers are in test_torchvision_facts.py, and PyTorch checks the lowering in test_torch_backend.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from archcalc import ArchcalcError
from conftest import from_text, row_map

SPECS = Path(__file__).parent / "specs"


def test_three_axes_by_hand():
    """3×8×16×16 clip. conv3d 3×5×5/1×2×2, padding 1×2×2: D (8 − 3 + 2)/1 + 1 = 8, H and W
    (16 − 5 + 4)/2 + 1 = 8 (7.5 floored); 8 filters of 3·3·5·5 = 225 weights (1,800, no bias) and
    8·8·8·8 = 4,096 outputs of 225 MACs (921,600). max_pool3d 2: 4×4×4. avg_pool3d 1×3×3/1, pad
    0×1×1 keeps it. The field (H and W only): 5, then 5 + (2 − 1)·2 = 7, then 7 + 2·4 = 15."""
    rows = row_map(from_text((SPECS / "volumes.yaml").read_text()))
    assert rows["c3"].output_shape == (8, 8, 8, 8)
    assert rows["c3"].params.total == 8 * 3 * 3 * 5 * 5 == 1_800 and rows["c3"].macs == 4_096 * 225
    assert rows["mp3"].output_shape == rows["ap3"].output_shape == (8, 4, 4, 4)
    assert [rows[n].rf.h.size for n in ("c3", "mp3", "ap3")] == [5, 7, 15]
    assert rows["gap3"].output_shape == (8, 2, 1, 1) and rows["amp3"].output_shape == (8, 1, 1, 1)
    assert rows["fc"].params.total == 8 * 6 + 6
    assert rows["ap3"].ops.other == 8 * 4 * 4 * 4 * 9  # 9 values summed per output


def test_one_axis_by_hand():
    """2×50 signal. conv1d 5/2 pad 2: (50 − 5 + 4)/2 + 1 = 25 (24.5 floored; only padding is left);
    4·2·5 + 4 = 44 parameters; 4·25 outputs of 10 MACs. max_pool1d 3/2 ceil: ceil(22/2) + 1 = 12.
    avg_pool1d 2: 6. adaptive 6 -> 3 and 6 -> 2. The field along L is on W: 5, 5 + 2·2 = 9."""
    rows = row_map(from_text((SPECS / "volumes_1d.yaml").read_text()))
    assert [rows[n].output_shape for n in ("c1", "mp1", "ap1", "gap1", "amp1")] == [
        (4, 25), (4, 12), (4, 6), (4, 3), (4, 2)]
    assert rows["c1"].params.total == 44 and rows["c1"].macs == 100 * 10
    assert (rows["c1"].rf.h.size, rows["c1"].rf.w.size, rows["mp1"].rf.w.size) == (1, 5, 9)


@pytest.mark.parametrize("layers, shape, fragment", [
    ("conv3d: {out: 4, kernel: 3}", "[3, 16, 16]", "expects a C×D×H×W input, got 3×16×16"),
    ("conv1d: {out: 4, kernel: [3, 3]}", "[3, 16]", "expected an integer or a list of 1 integers (L)"),
    ("max_pool3d: {kernel: 2, padding: -1}", "[3, 4, 8, 8]", "each value must be in [0,"),
    ("conv3d: {out: 4, kernel: 9}", "[3, 4, 8, 8]", "(D axis)"),
    ("conv2d: {out: 4, kernel: 3}", "[3, 4, 8, 8]", "expects a C×H×W feature map"),
])
def test_errors(layers, shape, fragment):
    with pytest.raises(ArchcalcError, match=fragment.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        from_text(f"name: t\ninput: {shape}\nlayers:\n  - {layers}\n")
