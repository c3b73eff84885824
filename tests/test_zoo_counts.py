"""Parameter and cost counts of the rest of the zoo, each against a published number or a
hand derivation (the GoogLeNet, ResNet, AlexNet and VGG families have their own files)."""

from __future__ import annotations

import pytest

from archcalc import Conventions, analyze, build_graph, load
from conftest import row_map, zoo

# Published parameter counts. torchvision: *_Weights.IMAGENET1K_V1.meta["num_params"] (trainable
# parameters); Keras: the Applications table in seed 004 ("Parameters", which adds BatchNorm
# moving mean and variance). _ops: torchvision's GMACs ("GFLOPS" in its docs).
TORCHVISION = {
    "torchvision/densenet121": (7_978_856, 2.834),
    "torchvision/mobilenet_v2": (3_504_872, 0.301),
    "torchvision/squeezenet1_0": (1_248_424, 0.819),
    "torchvision/inception_v3": (27_161_264, 5.713),  # params include AuxLogits; _ops exclude it
}
KERAS_TOTAL = {  # seed 004 table
    "densenet121": 8_062_504,
    "torchvision/densenet121": 8_062_504,
    "mobilenet_v1": 4_253_864,
    "torchvision/mobilenet_v2": 3_538_984,
    "xception": 22_910_480,
}


@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_num_params_and_ops(name):
    analysis = zoo(name)
    params, gmacs = TORCHVISION[name]
    assert analysis.totals.trainable_params == params
    assert round(analysis.totals.macs / 1e9, 3) == gmacs


@pytest.mark.parametrize("name", KERAS_TOTAL)
def test_keras_applications_totals(name):
    """--params keras reproduces Keras's "Total params" (BatchNorm moving statistics included)."""
    keras = analyze(build_graph(load(name)), Conventions(params="keras")).totals
    assert keras.params == KERAS_TOTAL[name]
    assert keras.params == keras.trainable_params + keras.non_trainable_params == zoo(name).totals.params + keras.buffers


def test_densenet121_paper_equals_torchvision():
    paper, tv = zoo("densenet121"), zoo("torchvision/densenet121")
    assert (paper.totals.params, paper.totals.macs) == (tv.totals.params, tv.totals.macs)
    rows = row_map(paper)
    # channels: 64 + 6*32 = 256 -> 128; 128 + 12*32 = 512 -> 256; 256 + 24*32 = 1024 -> 512; 512 + 16*32 = 1024
    assert rows["denseblock1/6/cat"].output_shape == (256, 56, 56)
    assert rows["transition3/pool"].output_shape == (512, 7, 7)
    assert rows["denseblock4/16/cat"].output_shape == (1024, 7, 7)


def test_mobilenet_v1_paper():
    # Howard et al. Table 1 / text: 4.2 million parameters, 569 million mult-adds.
    analysis = zoo("mobilenet_v1")
    assert round(analysis.totals.trainable_params / 1e6, 1) == 4.2
    assert round(analysis.totals.macs / 1e6) == 569
    # a depthwise 3x3 on 112x112x32: 112*112*32*9 = 3,612,672 MACs, 32*9 = 288 weights
    rows = row_map(analysis)
    assert rows["block1/dw"].macs == 3_612_672 and rows["block1/dw"].params.total == 288


def test_mobilenet_v2_residuals():
    rows = row_map(zoo("torchvision/mobilenet_v2"))
    # features.2 (16 -> 24) has stride 2: no residual; features.3 (24 -> 24, stride 1) adds its input.
    assert "features.2/add" not in rows
    assert rows["features.3/add"].inputs == ("features.3/conv.3", "features.2/conv.3")
    # features.1 (t = 1) starts with the depthwise 3x3 on 32 channels
    assert rows["features.1/conv.0/0"].params.total == 32 * 9  # depthwise on 32 channels


def test_squeezenet_fire_module():
    rows = row_map(zoo("squeezenet1_0"))
    # Table 1: conv1 111x111x96 at 227; fire2: squeeze 96*16+16 = 1,552, expand 16*64+64 = 1,088
    # and 9*16*64+64 = 9,280: 11,920 parameters, output 55x55x128.
    assert rows["conv1"].output_shape == (96, 111, 111)
    fire2 = [r for r in zoo("squeezenet1_0").rows if r.scope[:1] == ("fire2",)]
    assert sum(r.params.total for r in fire2) == 11_920
    assert rows["fire2/cat"].output_shape == (128, 55, 55)
    assert zoo("squeezenet1_0").totals.params == 1_248_424  # Table 1 total


def test_se_resnet50():
    # ResNet-50's 25,557,032 plus, per block of width C = 4c: 2*C*C/16 + C/16 + C.
    #   C=256: 8,464 x 3; C=512: 33,312 x 4; C=1024: 132,160 x 6; C=2048: 526,464 x 3 -> 2,530,992
    analysis = zoo("se_resnet50")
    se = 3 * 8_464 + 4 * 33_312 + 6 * 132_160 + 3 * 526_464
    assert se == 2_530_992
    assert analysis.totals.trainable_params == 25_557_032 + se == 28_088_024
    rows = row_map(analysis)
    assert rows["conv5_3/se_reduce"].output_shape == (128, 1, 1)
    assert rows["conv5_3/scale"].output_shape == (2048, 7, 7)
    # after the SE scaling every unit sees the whole input
    assert rows["conv5_3/scale"].rf.h.whole


def test_xception_flows():
    rows = row_map(zoo("xception"))
    # 299 -> 149 (3x3/2 valid) -> 147 -> 74 -> 37 -> 19 (same pooling: ceil(L/2)) -> 10
    assert rows["block1_conv2"].output_shape == (64, 147, 147)
    assert rows["block2/add"].output_shape == (128, 74, 74)
    assert rows["block4/add"].output_shape == (728, 19, 19)
    assert rows["middle/8/add"].output_shape == (728, 19, 19)
    assert rows["block13/add"].output_shape == (1024, 10, 10)
    # a separable 728 -> 728: depthwise 9*728 = 6,552, pointwise 728*728 = 529,984, BN 4*728
    assert sum(rows[f"middle/1/sepconv1/{n}"].params.total for n in ("depthwise", "pointwise", "bn")) \
        == 6_552 + 529_984 + 4 * 728


def test_xception_reports_same_padding_misalignment():
    # TensorFlow 'same' pooling pads (0, 1) on 74 pixels while the strided 1x1 shortcut pads
    # nothing: the two branches of block3 are centred 4 pixels apart, and archcalc says so.
    assert any("block3/add" in w and "centres 3, 7" in w for w in zoo("xception").warnings)


def test_inception_v3_shapes():
    rows = row_map(zoo("torchvision/inception_v3"))
    expected = {"Conv2d_1a_3x3/conv": 149, "Conv2d_2a_3x3/conv": 147, "maxpool1": 73, "Conv2d_4a_3x3/conv": 71,
                "maxpool2": 35, "Mixed_5d/cat": 35, "Mixed_6a/cat": 17, "Mixed_6e/cat": 17, "Mixed_7a/cat": 8,
                "Mixed_7c/cat": 8}
    assert {name: rows[name].output_shape[1] for name in expected} == expected
    assert [rows[n].output_shape[0] for n in ("Mixed_5b/cat", "Mixed_6a/cat", "Mixed_7a/cat", "Mixed_7c/cat")] \
        == [256, 768, 1280, 2048]


def test_inception_v3_aux_logits_training_only():
    analysis = zoo("torchvision/inception_v3")
    aux = [r for r in analysis.rows if r.scope[:1] == ("AuxLogits",)]
    assert all(r.training_only for r in aux)
    # conv0 768*128 + BN 2*128; conv1 25*128*768 + BN 2*768; fc 768*1000 + 1000
    assert sum(r.params.trainable for r in aux) == 768 * 128 + 256 + 25 * 128 * 768 + 1536 + 768 * 1000 + 1000
    assert analysis.totals.macs_with_training_only - analysis.totals.macs == sum(r.macs for r in aux)
    assert analysis.outputs == ("fc", "AuxLogits/fc")


def test_keras_cifar_resnets_seed_004():
    # v1: conv 3*3*3*16+16 = 448; block1 2 x (3*3*16*16+16 = 2,320) + 2 BN (2*16 trainable);
    # block2 3*3*16*32+32 = 4,640, 3*3*32*32+32 = 9,248, projection 16*32+32 = 544, 2 BN (2*32);
    # Dense 32*32*32*10 + 10 = 327,690. Trainable 347,402; BN moving stats 2*16*2 + 2*32*2 = 192.
    v1 = analyze(build_graph(load("resnet_cifar_v1")), Conventions(params="keras")).totals
    assert (v1.trainable_params, v1.non_trainable_params, v1.params) == (347_402, 192, 347_594)
    assert zoo("resnet_cifar_v1").totals.params == 347_402  # torch's convention: parameters() only
    # v2 adds a BN before block 1's first conv and a final BN(32); its BNs sit on 16, 16, 16, 32, 32 channels:
    # trainable 448 + 2,320*2 + 4,640 + 9,248 + 544 + 327,690 + 2*(16+16+16+32+32) = 347,434.
    v2 = analyze(build_graph(load("resnet_cifar_v2")), Conventions(params="keras")).totals
    assert (v2.trainable_params, v2.non_trainable_params) == (347_434, 224)


def test_fcn8s_upsampling_by_hand():
    rows = row_map(zoo("fcn8s"))
    # seed 002: N = s(M - 1) + k - 2p. upscore2: 2*(7-1) + 4 - 2 = 14; upscore_pool4: 2*13 + 4 - 2 = 28;
    # upscore8: 8*(28-1) + 16 - 8 = 224.
    assert rows["upscore2"].output_shape == (21, 14, 14)
    assert rows["upscore_pool4"].output_shape == (21, 28, 28)
    assert rows["upscore8"].output_shape == (21, 224, 224)
    # transposed conv params: C_in * C_out * k * k (no bias): 21*21*16*16 = 112,896
    assert rows["upscore8"].params.total == 112_896
    # MACs of a transposed conv: every input pixel times C_in * C_out * k*k: 28*28*21*21*256
    assert rows["upscore8"].macs == 28 * 28 * 21 * 21 * 16 * 16
    # fc6 as a 7x7 convolution keeps VGG's fc6 weights: 7*7*512*4096 + 4096
    assert rows["fc6"].params.total == 102_764_544


def test_bn_inception_table_sizes():
    # The Inception v2 table of seed 002: output size per row; 3c and 4e print their input size
    # (28, 14) although their stride is 2, and 4c/4d's "avg + 128" would give 608 channels, not
    # the printed 576 (160+160+160+128); with 96 every printed channel count is reproduced.
    rows = row_map(zoo("bn_inception"))
    table = {"conv1": (64, 112), "pool1": (64, 56), "conv2/conv": (192, 56), "pool2": (192, 28),
             "inception_3a/output": (256, 28), "inception_3b/output": (320, 28), "inception_3c/output": (576, 14),
             "inception_4a/output": (576, 14), "inception_4b/output": (576, 14), "inception_4c/output": (576, 14),
             "inception_4d/output": (576, 14), "inception_4e/output": (1024, 7), "inception_5a/output": (1024, 7),
             "inception_5b/output": (1024, 7), "pool5": (1024, 1)}
    assert {name: rows[name].output_shape[:2] for name in table} == table
    assert 160 + 160 + 160 + 128 == 608 and 160 + 160 + 160 + 96 == 576
