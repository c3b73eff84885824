"""AlexNet: the lecture's structural table, the two-GPU paper network, torchvision's variant."""

from __future__ import annotations

import pytest

from archcalc import ArchcalcError, Conventions, Rounding, analyze, build_graph, load
from conftest import row_map, zoo

# "AlexNet Network - Structural Details", ../shared/seeds/000_307c770107e9fb0d.txt:
# layer: (output H, W, C) as printed (H×W×C), # of params as printed.
LECTURE_TABLE = {
    "conv1": ((55, 55, 96), 34_944),  # 11*11*3*96 + 96
    "maxpool1": ((27, 27, 96), 0),  # (55 - 3)/2 + 1 = 27
    "conv2": ((27, 27, 256), 614_656),  # 5*5*96*256 + 256
    "maxpool2": ((13, 13, 256), 0),  # (27 - 3)/2 + 1 = 13
    "conv3": ((13, 13, 384), 885_120),  # 3*3*256*384 + 384
    "conv4": ((13, 13, 384), 1_327_488),  # 3*3*384*384 + 384
    "conv5": ((13, 13, 256), 884_992),  # 3*3*384*256 + 256
    "maxpool5": ((6, 6, 256), 0),  # (13 - 3)/2 + 1 = 6
    "fc6": ((4096,), 37_752_832),  # 9216*4096 + 4096, 9216 = 6*6*256
    "fc7": ((4096,), 16_781_312),  # 4096*4096 + 4096
    "fc8": ((1000,), 4_097_000),  # 4096*1000 + 1000
}


def hwc(shape):
    return shape if len(shape) == 1 else (shape[1], shape[2], shape[0])


@pytest.mark.parametrize("layer", LECTURE_TABLE)
def test_lecture_table_row(layer):
    rows = row_map(zoo("alexnet"))
    expected_shape, expected_params = LECTURE_TABLE[layer]
    assert hwc(rows[layer].output_shape) == expected_shape
    assert rows[layer].params.total == expected_params


def test_lecture_table_total():
    analysis = zoo("alexnet")
    assert analysis.totals.params == 62_378_344  # "Total 62,378,344" in the seed 000 table
    assert analysis.totals.params == sum(params for _, params in LECTURE_TABLE.values())
    assert analysis.totals.non_trainable_params == 0
    assert analysis.warnings == ()  # 227 tiles every window exactly


def test_conv1_output_formula_seed_001():
    # seed 001: (W + 2P - F)/S + 1 = (227 + 0 - 11)/4 + 1 = 55; 96 filters -> 55x55x96
    assert row_map(zoo("alexnet"))["conv1"].output_shape == (96, 55, 55)


def test_paper_two_gpu_parameter_count():
    # Krizhevsky et al. 2012, Section 3.5: conv2, conv4, conv5 see only the maps on their GPU.
    #   conv1: 96 * (11*11*3)   + 96  =     34,944
    #   conv2: 256 * (5*5*48)   + 256 =    307,456   (groups 2: 96/2 = 48 input maps)
    #   conv3: 384 * (3*3*256)  + 384 =    885,120   (reads both GPUs)
    #   conv4: 384 * (3*3*192)  + 384 =    663,936   (384/2 = 192)
    #   conv5: 256 * (3*3*192)  + 256 =    442,624
    #   fc6:   4096 * 9216      + 4096 = 37,752,832
    #   fc7:   4096 * 4096      + 4096 = 16,781,312
    #   fc8:   1000 * 4096      + 1000 =  4,097,000
    #   total                          = 60,965,224  (the paper rounds to "60 million")
    rows = row_map(zoo("alexnet_paper"))
    expected = {
        "conv1": 34_944, "conv2": 307_456, "conv3": 885_120, "conv4": 663_936, "conv5": 442_624,
        "fc6": 37_752_832, "fc7": 16_781_312, "fc8": 4_097_000,
    }
    assert {name: rows[name].params.total for name in expected} == expected
    assert zoo("alexnet_paper").totals.params == 60_965_224 == sum(expected.values())


def test_paper_input_224_is_the_known_erratum():
    # At 224: (224 - 11 + 0)/4 + 1 = 54.25, so conv1 is 54x54 and the last pixel row/column is unread.
    analysis = zoo("alexnet_paper", input_shape=(3, 224, 224))
    assert row_map(analysis)["conv1"].output_shape == (96, 54, 54)
    assert any("54.25" in w and "conv1" in w and "last 1 input row and column" in w for w in analysis.warnings)


def test_strict_rounding_rejects_224():
    graph = build_graph(load("alexnet", input_shape=(3, 224, 224)))
    with pytest.raises(ArchcalcError, match=r"layer 'conv1'.*54\.25"):
        analyze(graph, Conventions(rounding=Rounding.ERROR))


def test_torchvision_alexnet_matches_torchvision_num_params():
    # torchvision.models.AlexNet_Weights.IMAGENET1K_V1.meta["num_params"] == 61,100,840.
    # By hand: convs 23,296 + 307,392 + 663,936 + 884,992 + 590,080 = 2,469,696;
    # linears 37,752,832 + 16,781,312 + 4,097,000 = 58,631,144; sum 61,100,840.
    analysis = zoo("torchvision/alexnet")
    assert analysis.totals.trainable_params == 61_100_840
    rows = row_map(analysis)
    assert rows["features.0"].params.total == 64 * 11 * 11 * 3 + 64 == 23_296
    assert rows["features.12"].output_shape == (256, 6, 6)  # 55 -> 27 -> 27 -> 13 -> 13 -> 6
    assert rows["avgpool"].output_shape == (256, 6, 6)


def test_alexnet_at_224_is_one_flag_away():
    # --input 3,224,224 on the lecture spec: conv1 floor(54.25) = 54, pool (54-3)//2+1 = 26,
    # conv2 26, pool (26-3)//2+1 = 12, conv3-5 12, pool (12-3)//2+1 = 5 -> fc6 sees 5*5*256 = 6400.
    rows = row_map(zoo("alexnet", input_shape=(3, 224, 224)))
    assert rows["maxpool5"].output_shape == (256, 5, 5)
    assert rows["fc6"].params.total == 6400 * 4096 + 4096
