"""LeNet-5 and ZFNet, derived by hand."""

from __future__ import annotations

from conftest import row_map, zoo


def test_lenet5_first_conv_156_params():
    # seed 001: "Total of 156 free parameters (6 x 5 x 5 + 6)"
    assert row_map(zoo("lenet5"))["C1"].params.total == 6 * (5 * 5 + 1) == 156


def test_lenet5_shapes_and_total():
    rows = row_map(zoo("lenet5"))
    # 32 -5+1 = 28 -> /2 = 14 -> -5+1 = 10 -> /2 = 5 -> -5+1 = 1
    assert [rows[n].output_shape for n in ("C1", "S2", "C3", "S4", "C5")] == [
        (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120, 1, 1)]
    # C3 fully connected: 16*(6*25+1) = 2,416; C5 120*(16*25+1) = 48,120;
    # F6 84*(120+1) = 10,164; output 10*(84+1) = 850. Total 156+2,416+48,120+10,164+850 = 61,706.
    assert rows["C3"].params.total == 2_416
    assert rows["C5"].params.total == 48_120
    assert zoo("lenet5").totals.params == 61_706


def test_zfnet_figure_3_shapes():
    # Zeiler & Fergus Fig. 3: 224 -> conv1 7x7/2 -> 110 -> pool 3/2 -> 55 -> conv2 5x5/2 -> 26
    # -> pool -> 13 -> conv3..5 -> 13 -> pool -> 6.
    # conv1: floor((224 + 2 - 7)/2) + 1 = floor(109.5) + 1 = 110.
    # pool1 (ceil): ceil((110 - 3)/2) + 1 = 54 + 1 = 55; conv2: (55 - 5)/2 + 1 = 26.
    # pool2 (ceil): ceil((26 - 3)/2) + 1 = 13; pool5 (13 - 3)/2 + 1 = 6.
    rows = row_map(zoo("zfnet"))
    expected = {"conv1": 110, "pool1": 55, "conv2": 26, "pool2": 13, "conv5": 13, "pool5": 6}
    assert {name: rows[name].output_shape[1] for name in expected} == expected


def test_zfnet_variant_b_via_args():
    # Lecture: "CONV3,4,5: instead of 384, 384, 256 filters use 512, 1024, 512".
    rows = row_map(zoo("zfnet", args={"conv3": 512, "conv4": 1024, "conv5": 512}))
    assert rows["conv3"].params.total == 3 * 3 * 256 * 512 + 512
    assert rows["conv4"].params.total == 3 * 3 * 512 * 1024 + 1024
    assert rows["conv5"].params.total == 3 * 3 * 1024 * 512 + 512
    assert rows["fc6"].params.total == 6 * 6 * 512 * 4096 + 4096
