"""VGG: Table 2 of Simonyan & Zisserman, the Keras VGG16 summary, torchvision's counts."""

from __future__ import annotations

import pytest

from conftest import zoo


def conv(c_in: int, c_out: int, k: int = 3) -> int:
    return k * k * c_in * c_out + c_out


# Hand derivation per configuration (Table 1): convolution stacks, then
# fc6 = 7*7*512*4096 + 4096 = 102,764,544, fc7 = 4096*4096 + 4096 = 16,781,312, fc8 = 4,097,000.
FC = 102_764_544 + 16_781_312 + 4_097_000
STAGES = {
    "vgg_a": [(3, 64), (64, 128), (128, 256), (256, 256), (256, 512), (512, 512), (512, 512), (512, 512)],
    "vgg_b": [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256),
              (256, 512), (512, 512), (512, 512), (512, 512)],
}
STAGES["vgg_a_lrn"] = STAGES["vgg_a"]  # LRN has no parameters
STAGES["vgg_c"] = STAGES["vgg_b"][:6] + [(256, 256, 1)] + STAGES["vgg_b"][6:8] + [(512, 512, 1)] \
    + STAGES["vgg_b"][8:] + [(512, 512, 1)]
STAGES["vgg_d"] = STAGES["vgg_b"][:6] + [(256, 256)] + STAGES["vgg_b"][6:8] + [(512, 512)] \
    + STAGES["vgg_b"][8:] + [(512, 512)]
STAGES["vgg_e"] = STAGES["vgg_d"][:7] + [(256, 256)] + STAGES["vgg_d"][7:10] + [(512, 512)] \
    + STAGES["vgg_d"][10:] + [(512, 512)]

# Table 2 ("Number of parameters (in millions)"): A, A-LRN 133; B 133; C 134; D 138; E 144.
TABLE_2_MILLIONS = {"vgg_a": 133, "vgg_a_lrn": 133, "vgg_b": 133, "vgg_c": 134, "vgg_d": 138, "vgg_e": 144}


@pytest.mark.parametrize("name", TABLE_2_MILLIONS)
def test_table_2(name):
    total = zoo(name).totals.params
    assert total == sum(conv(*c) for c in STAGES[name]) + FC
    assert round(total / 1e6) == TABLE_2_MILLIONS[name]


def test_vgg16_and_vgg19_exact():
    # 138,357,544 and 143,667,240: the counts torchvision documents for vgg16 / vgg19.
    assert zoo("vgg16").totals.params == 138_357_544
    assert zoo("vgg19").totals.params == 143_667_240


def test_aliases_name_the_paper_configurations():
    assert zoo("vgg11").name == zoo("vgg_a").name
    assert zoo("vgg13").name == zoo("vgg_b").name


# The Keras VGG16 summary with a 2-class head in ../shared/seeds/000_307c770107e9fb0d.txt
# (OCR'd; the garbled "Θ" of the pooling rows reads 0). (H, W, C) and Param # per row.
KERAS_VGG16_2_CLASSES = [
    ("conv1_1", (224, 224, 64), 1_792),
    ("conv1_2", (224, 224, 64), 36_928),
    ("pool1", (112, 112, 64), 0),
    ("conv2_1", (112, 112, 128), 73_856),
    ("conv2_2", (112, 112, 128), 147_584),
    ("pool2", (56, 56, 128), 0),
    ("conv3_1", (56, 56, 256), 295_168),
    ("conv3_2", (56, 56, 256), 590_080),
    ("conv3_3", (56, 56, 256), 590_080),
    ("pool3", (28, 28, 256), 0),
    ("conv4_1", (28, 28, 512), 1_180_160),
    ("conv4_2", (28, 28, 512), 2_359_808),
    ("conv4_3", (28, 28, 512), 2_359_808),
    ("pool4", (14, 14, 512), 0),  # shape lost in the OCR; 28/2
    ("conv5_1", (14, 14, 512), 2_359_808),
    ("conv5_2", (14, 14, 512), 2_359_808),
    ("conv5_3", (14, 14, 512), 2_359_808),
    ("pool5", (7, 7, 512), 0),
    ("flatten", (25088,), 0),
    ("fc6", (4096,), 102_764_544),
    ("fc7", (4096,), 16_781_312),
    ("fc8", (2,), 8_194),  # 4096*2 + 2
]


def test_keras_vgg16_two_class_summary_layer_by_layer():
    analysis = zoo("vgg16", args={"classes": 2})
    kept = [row for row in analysis.rows if row.type in ("conv2d", "max_pool2d", "flatten", "linear")]
    got = []
    for row in kept:
        shape = row.output_shape if len(row.output_shape) == 1 else (*row.output_shape[1:], row.output_shape[0])
        got.append((row.name if row.type != "flatten" else "flatten", shape, row.params.total))
    assert got == KERAS_VGG16_2_CLASSES
    assert analysis.totals.params == 134_268_738  # "Total params: 134,268,738"
    assert analysis.totals.non_trainable_params == 0  # "Non-trainable params: 0"


# torchvision.models.VGG*_Weights.IMAGENET1K_V1.meta["num_params"] (torchvision/models/vgg.py).
# The _bn variants add BatchNorm gamma and beta: 2 * (sum of conv output channels).
TORCHVISION_NUM_PARAMS = {
    "vgg11": 132_863_336, "vgg11_bn": 132_868_840,
    "vgg13": 133_047_848, "vgg13_bn": 133_053_736,
    "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240, "vgg19_bn": 143_678_248,
}
CONV_CHANNELS = {"vgg11": 2752, "vgg13": 2944, "vgg16": 4224, "vgg19": 5504}  # sum of conv widths


@pytest.mark.parametrize("name", TORCHVISION_NUM_PARAMS)
def test_torchvision_vgg_num_params(name):
    analysis = zoo(f"torchvision/{name}")
    assert analysis.totals.trainable_params == TORCHVISION_NUM_PARAMS[name]
    base = name.removesuffix("_bn")
    if name.endswith("_bn"):
        # gamma/beta trainable; running mean/var non-trainable, 2 per channel each.
        assert TORCHVISION_NUM_PARAMS[name] - TORCHVISION_NUM_PARAMS[base] == 2 * CONV_CHANNELS[base]
        assert analysis.totals.buffers == 2 * CONV_CHANNELS[base]
    else:
        assert analysis.totals.non_trainable_params == 0


def test_torchvision_vgg_matches_paper_configuration():
    for tv, paper in (("vgg11", "vgg_a"), ("vgg13", "vgg_b"), ("vgg16", "vgg_d"), ("vgg19", "vgg_e")):
        assert zoo(f"torchvision/{tv}").totals.params == zoo(paper).totals.params
