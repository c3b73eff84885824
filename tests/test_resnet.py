"""ResNet: Table 1 of He et al. (FLOPs at 224×224) and torchvision's documented counts."""

from __future__ import annotations

import pytest

from conftest import row_map, zoo

# Table 1, "FLOPs" row (multiply-adds of conv and fc, x10^9): 1.8, 3.6, 3.8, 7.6, 11.3.
PAPER_GMACS = {18: 1.8, 34: 3.6, 50: 3.8, 101: 7.6, 152: 11.3}

# torchvision ResNet*_Weights.IMAGENET1K_V1.meta: num_params and _ops (GMACs, "GFLOPS" in its docs).
TORCHVISION = {
    18: (11_689_512, 1.814), 34: (21_797_672, 3.664), 50: (25_557_032, 4.089),
    101: (44_549_160, 7.801), 152: (60_192_808, 11.514),
}


# Table 1's configurations: blocks per stage (conv2_x … conv5_x).
BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def table_1_macs(depth: int) -> int:
    """Multiply-adds of ResNet-{depth} at 224×224 worked out from Table 1 alone (option B:
    projection shortcuts where the shape changes; v1: the stride in the first 1×1 of a
    bottleneck). An independent derivation: no archcalc code."""
    macs = 112 * 112 * 64 * (7 * 7 * 3)  # conv1, 7×7/2, 64
    channels = 64  # after the 3×3/2 max pool, 56×56
    for stage, (side, width) in enumerate(zip((56, 28, 14, 7), (64, 128, 256, 512))):
        for block in range(BLOCKS[depth][stage]):
            area = side * side  # every conv of the stage outputs side×side (v1: strided first conv)
            if depth < 50:  # basic block: 3×3, 3×3
                macs += area * width * 9 * channels + area * width * 9 * width
                out = width
            else:  # bottleneck: 1×1 (the strided one in v1), 3×3, 1×1 to 4·width
                macs += area * width * channels + area * width * 9 * width + area * 4 * width * width
                out = 4 * width
            if block == 0 and channels != out:  # projection shortcut, 1×1 (strided where the size halves)
                macs += area * out * channels
            channels = out
    return macs + channels * 1000  # fc


@pytest.mark.parametrize("depth", PAPER_GMACS)
def test_paper_table_1_flops(depth):
    """archcalc's count is the derivation's, and Table 1 prints it to one decimal, truncating some
    (3.664 -> 3.6, 3.858 -> 3.8) and rounding others (7.570 -> 7.6, 11.282 -> 11.3): each printed
    value is within one unit of its last digit, not a rounding under a single rule. (With the
    parameter-free "option A" shortcuts the paper also uses for ResNet-34, 3.644 rounds to 3.6.)"""
    macs = zoo(f"resnet{depth}").totals.macs
    assert macs == table_1_macs(depth)
    assert abs(macs / 1e9 - PAPER_GMACS[depth]) < 0.1


def test_resnet18_macs_by_hand():
    # conv1: 112*112*64 * 7*7*3 = 118,013,952
    # stage 2 (56x56, 64 ch): 4 convs of 56*56*64*9*64 = 115,605,504 each -> 462,422,016
    # stage 3 (28x28, 128 ch): 28*28*128*9*64 + 3 * 28*28*128*9*128 + projection 28*28*128*64
    #   = 57,802,752 + 346,816,512 + 6,422,528 = 411,041,792
    # stage 4 (14x14, 256): 14*14*256*9*128 + 3*14*14*256*9*256 + 14*14*256*128
    #   = 57,802,752 + 346,816,512 + 6,422,528 = 411,041,792
    # stage 5 (7x7, 512): same pattern = 411,041,792; fc 512*1000 = 512,000
    expected = 118_013_952 + 462_422_016 + 3 * 411_041_792 + 512_000
    assert zoo("resnet18").totals.macs == expected == 1_814_073_344


@pytest.mark.parametrize("depth", TORCHVISION)
def test_torchvision_counts(depth):
    analysis = zoo(f"torchvision/resnet{depth}")
    params, gmacs = TORCHVISION[depth]
    assert analysis.totals.trainable_params == params
    assert round(analysis.totals.macs / 1e9, 3) == gmacs


@pytest.mark.parametrize("depth", TORCHVISION)
def test_v1_and_v1_5_differ_only_in_cost(depth):
    # Moving the stride from the 1x1 to the 3x3 convolution changes no parameter count.
    assert zoo(f"resnet{depth}").totals.params == zoo(f"torchvision/resnet{depth}").totals.params


def test_v1_5_moves_the_stride_into_the_3x3():
    v1 = row_map(zoo("resnet50"))
    v15 = row_map(zoo("torchvision/resnet50"))
    assert v1["conv3_1/conv1"].output_shape == (128, 28, 28)  # strided 1x1
    assert v15["layer2/0/conv1"].output_shape == (128, 56, 56)  # stride in conv2 instead
    assert v15["layer2/0/conv2"].output_shape == (128, 28, 28)


def test_module_scopes_of_a_stage():
    analysis = zoo("torchvision/resnet18")
    assert analysis.modules["layer1.0"] == "basic"
    assert analysis.modules["layer2.0"] == "basic_down"
    assert row_map(analysis)["layer2.0/add"].inputs == ("layer2.0/bn2", "layer2.0/downsample.1")


def test_resnext_and_wide_resnet_widths():
    """torchvision's bottleneck width is int(planes · width_per_group / 64) · groups: ResNeXt-50
    32x4d has 4·32 = 128 channels in layer1's 3×3 (32 groups of 4), Wide ResNet-50-2 has
    64·128/64 = 128 (one group); both expand to 4·64 = 256 as ResNet-50 does."""
    resnext = row_map(zoo("torchvision/resnext50_32x4d"))
    wide = row_map(zoo("torchvision/wide_resnet50_2"))
    assert resnext["layer1/0/conv2"].output_shape[0] == wide["layer1/0/conv2"].output_shape[0] == 128
    assert resnext["layer1/0/conv2"].params.total == 128 * (128 // 32) * 9  # grouped: 4 input channels per filter
    assert wide["layer1/0/conv2"].params.total == 128 * 128 * 9
    assert resnext["layer1/0/conv3"].output_shape[0] == wide["layer1/0/conv3"].output_shape[0] == 256
    assert "layer1/1/downsample.0" not in resnext and "layer1/0/downsample.0" in resnext  # the first block projects
