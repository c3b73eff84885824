"""Segmentation networks: U-Net as the paper draws it (Ronneberger et al., MICCAI 2015, Figure 1),
worked out by hand."""

from __future__ import annotations

from conftest import row_map, zoo


def conv(cin: int, cout: int, k: int) -> int:
    return cin * cout * k * k + cout


def test_unet_paper_sizes_and_parameters():
    """572 -> two valid 3×3 -> 568; pool 284 -> 280; 140 -> 136; 68 -> 64; 32 -> 28 at the bottom.
    Up: 28·2 = 56, the 64×64 skip cropped to 56, two 3×3 -> 52; 104 (136 cropped) -> 100; 200 (280)
    -> 196; 392 (568) -> 388: the 388×388 map of 2 classes (Figure 1)."""
    analysis = zoo("segmentation/unet")
    rows = row_map(analysis)
    assert analysis.input_shape == (1, 572, 572) and analysis.rows[-1].output_shape == (2, 388, 388)
    assert rows["enc1/conv2"].output_shape == (64, 568, 568) and rows["bottom/conv/conv2"].output_shape == (1024, 28, 28)
    assert [rows[f"dec{i}/crop"].output_shape[1] for i in (4, 3, 2, 1)] == [56, 104, 200, 392]
    widths = [64, 128, 256, 512, 1024]
    contracting = conv(1, 64, 3) + conv(64, 64, 3) + sum(conv(a, b, 3) + conv(b, b, 3) for a, b in zip(widths, widths[1:]))
    # each up level: a 2×2 up-convolution halving the channels, then 3×3 from the concatenation (2c -> c) and c -> c
    expanding = sum(conv(2 * c, c, 2) + conv(2 * c, c, 3) + conv(c, c, 3) for c in widths[:-1])
    assert analysis.totals.params == contracting + expanding + conv(64, 2, 1) == 31_030_658  # "about 31 M"


def test_padded_unet_keeps_the_size():
    analysis = zoo("segmentation/unet_padded")
    assert analysis.rows[-1].output_shape == (2, 512, 512)
    rows = row_map(analysis)
    assert rows["dec1/crop"].output_shape == rows["enc1/conv2"].output_shape == (64, 512, 512)  # nothing cropped
    assert analysis.totals.params == 31_030_658 + 2 * 64 * 9  # the first convolution reads 3 channels, not 1
