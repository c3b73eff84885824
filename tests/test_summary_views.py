"""What `summary` shows: chosen columns, modules collapsed or expanded with totals, LaTeX,
and `compare`."""

from __future__ import annotations

import csv
import io
import json

import pytest

from archcalc.report import TableOptions, render
from archcalc.report.rows import display_rows
from conftest import zoo


def test_depth_0_collapses_each_module_into_one_row():
    analysis = zoo("googlenet")
    rows = {r.name: r for r in display_rows(analysis, depth=0, module_totals=False)}
    module = [r for r in analysis.rows if r.scope[:1] == ("inception_3a",)]
    assert rows["inception_3a"].kind == "module" and rows["inception_3a"].type == "inception"
    assert rows["inception_3a"].params == sum(r.params.total for r in module) == 163_696  # 163,328 weights + 368 biases
    assert rows["inception_3a"].macs == 128_049_152
    assert rows["inception_3a"].output_shape == (256, 28, 28)
    assert rows["aux1"].training_only
    assert not any(name.startswith("inception_3a/") for name in rows)


def test_expanded_modules_get_a_totals_row():
    analysis = zoo("torchvision/resnet18")
    rows = display_rows(analysis)
    names = [r.name for r in rows]
    i = names.index("layer1.0 (total)")
    assert names[i - 1] == "layer1.0/add_relu"  # right after the module's last layer
    total = rows[i]
    assert total.kind == "total" and total.params == 2 * 36_864 + 2 * 2 * 64  # two 3x3 convs, two BNs (γ, β)
    # layer rows sum to the network totals; module totals rows are extra
    assert sum(r.params for r in rows if r.kind == "layer") == analysis.totals.params


def test_nested_module_totals_innermost_first():
    analysis = zoo("torchvision/mobilenet_v2")
    names = [r.name for r in display_rows(analysis)]
    i = names.index("features.1/conv.0 (total)")
    assert names[i - 1] == "features.1/conv.0/2"
    j = names.index("features.1 (total)")
    assert j > i


def test_columns_option(cli):
    out = cli("summary", "alexnet", "--format", "csv", "--columns", "name,macs,rf,rf_stride,rf_padding").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["name", "macs", "rf_pixels", "rf_stride_pixels", "rf_padding_pixels"]  # units in headers
    conv2 = next(r for r in rows if r["name"] == "conv2")
    # conv1 r=11 j=4; pool 3/2: r = 11 + 2*4 = 19, j = 8, P = 0; conv2 5x5 pad 2: r = 19 + 4*8 = 51, P = 2*8 = 16
    assert (conv2["rf_pixels"], conv2["rf_stride_pixels"], conv2["rf_padding_pixels"]) == ("51", "8", "16")
    assert int(conv2["macs"]) == 27 * 27 * 256 * 5 * 5 * 96


def test_bad_column(cli):
    result = cli("summary", "alexnet", "--columns", "name,flopz")
    assert result.exit_code == 2 and "unknown column 'flopz'" in result.output


def test_latex_booktabs(cli):
    out = cli("summary", "lenet5", "--format", "latex").stdout
    assert "\\toprule" in out and "\\bottomrule" in out
    lines = out.splitlines()
    total_line = next(line for line in lines if line.strip().startswith("Total"))
    assert lines[lines.index(total_line) - 1] == "\\midrule"
    assert "61,706" in total_line
    assert "5\\ensuremath{\\times}5/1" in out  # '×' written for LaTeX
    assert "×" not in out


def test_training_only_rows_are_marked(cli):
    out = cli("summary", "googlenet", "--depth", "0").stdout
    assert "aux1 †" in out
    assert "With training-only † layers: MACs 1,591,044,096" in out


def test_memory_options(cli):
    data = json.loads(cli("summary", "lenet5", "--format", "json", "--dtype", "float16", "--batch", "4").stdout)
    c1 = next(layer for layer in data["layers"] if layer["name"] == "C1")
    assert c1["activation_elems"] == 6 * 28 * 28 and c1["activation_bytes"] == 6 * 28 * 28 * 4 * 2
    assert data["conventions"]["dtype"] == "float16" and data["conventions"]["batch"] == 4


def test_compare_ratios(cli):
    data = json.loads(cli("compare", "vgg_a", "vgg_e", "--format", "json").stdout)
    assert [d["spec"] for d in data] == ["vgg_a", "vgg_e"]
    assert data[0]["params_ratio"] == 1.0
    assert data[1]["params_ratio"] == round(143_667_240 / 132_863_336, 6)
    assert data[1]["macs_ratio"] == round(19_632_062_464 / 7_609_090_048, 6)  # torchvision _ops 19.632 / 7.609
    text = cli("compare", "inception_naive", "inception_bottleneck").stdout
    assert "854,196,224" in text and "271,351,808" in text and "0.318" in text  # 271.35 / 854.20


def test_render_is_a_pure_function_of_the_analysis():
    analysis = zoo("alexnet")
    assert render(analysis, "text", TableOptions()) == render(analysis, "text", TableOptions())


def test_one_vocabulary_for_metrics():
    """Table columns, JSON, grading quantities, explanations and diagram options name each metric
    the same way (archcalc.metrics)."""
    from archcalc import build_graph, load
    from archcalc.explain import explain
    from archcalc.grading.key import Quantity
    from archcalc.metrics import EXPLAINED, METRICS, SCALAR, SHOWABLE, Metric, metric_of_quantity
    from archcalc.report import COLUMNS, to_json_dict

    assert {m.value for m in Metric} <= set(COLUMNS)
    layer = to_json_dict(zoo("lenet5"))["layers"][1]
    assert all(METRICS[m].json_key in layer for m in Metric)
    quantities = set(Quantity.__args__) - {"same_padding"}  # same_padding asks about a layer's input, no metric
    assert {metric_of_quantity(q) for q in quantities} == set(Metric)
    assert set(SHOWABLE) | set(SCALAR) <= set(Metric)
    steps = explain(build_graph(load("lenet5")), zoo("lenet5"), "C1")[0].steps
    assert set(steps) == {m.value for m in EXPLAINED}


# torchinfo 1.8.0, `summary(torchvision.models.resnet18(), input_size=(1, 3, 224, 224))` and the same
# for googlenet(aux_logits=False, init_weights=False), torch 2.14.1 + torchvision 0.29.1 (its last lines):
TORCHINFO = {
    "torchvision/resnet18": ["Total params:         11,689,512", "Trainable params:     11,689,512",
                             "Non-trainable params: 0", "Total mult-adds (G):             1.81",
                             "Input size (MB):                 0.60", "Forward/backward pass size (MB): 39.75",
                             "Params size (MB):                46.76", "Estimated Total Size (MB):       87.11"],
    "torchvision/googlenet": ["Total params:         6,624,904", "Total mult-adds (G):             1.50",
                              "Forward/backward pass size (MB): 51.63", "Params size (MB):                26.50",
                              "Estimated Total Size (MB):       78.73"],
}


@pytest.mark.parametrize("name", TORCHINFO)
def test_totals_read_as_torchinfo_prints_them(cli, name):
    text = cli("summary", name).stdout
    for line in TORCHINFO[name]:
        assert line in text, line


def test_keras_parameter_convention(cli):
    """Keras Applications' Xception: 22,910,480 params (seed 004 table), BatchNorm moving mean and
    variance included as non-trainable."""
    keras = json.loads(cli("summary", "xception", "--params", "keras", "--format", "json").stdout)["totals"]
    torch = json.loads(cli("summary", "xception", "--format", "json").stdout)["totals"]
    assert keras["params"] == 22_910_480
    # the same network; only where the statistics are counted differs
    assert keras["non_trainable_params"] == keras["buffers"] == torch["buffers"] > 0
    assert torch["params"] == torch["trainable_params"] == keras["params"] - keras["buffers"]
    assert torch["non_trainable_params"] == 0
    text = cli("summary", "xception", "--params", "keras").stdout
    assert "Total params:         22,910,480" in text and f"Non-trainable params: {keras['buffers']:,}" in text
    assert f"Buffers:              {torch['buffers']:,}" in cli("summary", "xception").stdout


def test_parameters_at_inference(cli):
    """GoogLeNet with its two auxiliary classifiers (training only). Each: a 1×1 conv to 128
    channels (from 512 at 4a, 528 at 4d), fc 4·4·128 → 1024, fc 1024 → 1000, with biases:
    aux1 = 512·128 + 128 + 2048·1024 + 1024 + 1024·1000 + 1000 = 3,188,840; aux2 = 3,190,888."""
    text = cli("summary", "googlenet").stdout
    total = 13_378_280  # tests/test_torch_backend.py: PyTorch's count of the lowered network
    aux = (512 * 128 + 128 + 2048 * 1024 + 1024 + 1024 * 1000 + 1000) + (528 * 128 + 128 + 2048 * 1024 + 1024
                                                                          + 1024 * 1000 + 1000)
    assert f"Total params:         {total:,}" in text and f"Params at inference:  {total - aux:,}" in text  # 6,998,552


def test_no_footer_and_the_connected_to_column(cli):
    text = cli("summary", "torchvision/resnet18", "--no-footer", "--columns", "+inputs").stdout
    assert "Total params" not in text and "Conventions" not in text and "Connected to" in text
    add = next(line for line in text.splitlines() if line.startswith("layer1.0/add "))
    assert add.rstrip().endswith("layer1.0/bn2, maxpool")  # the residual add reads the block and its shortcut


def test_tables_fit_a_terminal():
    """Text columns give way (hyper-parameters first) so that a table fits; numbers never do."""
    from archcalc.report import TableOptions, render

    analysis = zoo("googlenet")
    wide = render(analysis, "text", TableOptions(depth=0, footer=False))
    narrow = render(analysis, "text", TableOptions(depth=0, footer=False, width=120))
    assert max(map(len, wide.splitlines())) > 120 >= max(map(len, narrow.splitlines()))
    assert "163,696" in narrow and "…" in narrow  # inception_3a's parameters, whole; its arguments, shortened


def test_human_units(cli):
    """torchinfo users read 1.81 G: the footer gives both forms, --units human shortens the table."""
    text = cli("summary", "torchvision/resnet18").stdout
    assert "MACs:                 1,814,073,344  (1.81 G)" in text
    human = cli("summary", "torchvision/resnet18", "--units", "human", "--no-footer").stdout
    conv1 = next(line for line in human.splitlines() if line.startswith("conv1 "))
    assert "9.41 K" in conv1 and "118 M" in conv1  # 9,408 weights; 112·112·64 · 7·7·3 = 118,013,952 MACs
