"""The summary command: every zoo spec, every format, the JSON schema, overrides, files."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from archcalc.zoo import zoo_entries

ZOO = [entry.name for entry in zoo_entries()]


@pytest.mark.parametrize("name", ZOO)
def test_summary_of_every_builtin_spec(name, cli):
    result = cli("summary", name, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["totals"]["params"] == sum(layer["params"] for layer in data["layers"])
    assert data["totals"]["params"] == data["totals"]["trainable_params"] + data["totals"]["non_trainable_params"]


def test_zoo_lists_names_and_aliases(cli):
    out = cli("zoo").stdout
    for name in ("alexnet", "alexnet_paper", "lenet5", "zfnet", "vgg_a_lrn", "torchvision/vgg19_bn"):
        assert name in out
    assert "vgg16" in out and "vgg_d" in out


def test_expected_zoo_contents():
    names = set(ZOO)
    paper = {"lenet5", "alexnet", "alexnet_paper", "zfnet", "vgg_a", "vgg_a_lrn", "vgg_b", "vgg_c", "vgg_d", "vgg_e"}
    tv = {f"torchvision/{n}" for n in ("alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
                                       "vgg19", "vgg19_bn")}
    assert paper | tv <= names


def test_json_schema(cli):
    data = json.loads(cli("summary", "alexnet", "--format", "json").stdout)
    assert data["schema"] == "archcalc.summary/1"
    assert data["input_shape"] == [3, 227, 227]
    conv1 = next(layer for layer in data["layers"] if layer["name"] == "conv1")
    assert conv1 == {
        "name": "conv1", "type": "conv2d", "inputs": ["input"], "scope": [], "output_shape": [96, 55, 55],
        "params": 34_944, "trainable_params": 34_944, "non_trainable_params": 0, "buffers": 0,
        "macs": 105_415_200,  # 55*55*96 outputs * 11*11*3 multiply-accumulates each
        "flops": 210_830_400,  # default convention 'torch': 2 * MACs
        "bias_adds": 290_400,  # one per output: 55*55*96
        "other_ops": 0,
        "activation_elems": 290_400, "activation_bytes": 1_161_600,  # float32
        "rf": {"size": [11, 11], "stride": [4, 4], "padding": [0, 0]},
        "training_only": False,
        "hparams": "11×11/4, 96",
        "line": 11,  # specs/alexnet.yaml line of "- conv2d: {name: conv1, ...}"
    }
    totals = data["totals"]
    assert (totals["params"], totals["trainable_params"], totals["non_trainable_params"]) == (62_378_344, 62_378_344, 0)
    assert totals["macs"] == sum(layer["macs"] for layer in data["layers"])
    assert data["convention"] == "torch" and totals["flops"] == 2 * totals["macs"]
    assert data["conventions"]["output_size"] == "floor"
    assert data["warnings"] == []


def test_json_shapes_ignore_layout(cli):
    chw = json.loads(cli("summary", "alexnet", "--format", "json").stdout)
    hwc = json.loads(cli("summary", "alexnet", "--format", "json", "--layout", "hwc").stdout)
    assert chw == hwc


def test_layout_hwc_prints_papers_order(cli):
    text = cli("summary", "alexnet", "--layout", "hwc").stdout
    assert "55×55×96" in text and "Shapes are H×W×C" in text
    assert "96×55×55" in cli("summary", "alexnet").stdout


def test_csv_is_raw_integers(cli):
    out = cli("summary", "alexnet", "--format", "csv", "--columns", "name,type,hparams,output_shape,params").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[1] == {"name": "conv1", "type": "conv2d", "hparams": "11×11/4, 96", "output_shape": "96×55×55",
                       "params": "34944"}
    *layers, total = rows
    assert sum(int(r["params"]) for r in layers) == int(total["params"]) == 62_378_344
    assert total["name"] == "total" and total["type"] == ""


def test_markdown_table(cli):
    text = cli("summary", "alexnet", "--format", "markdown").stdout
    assert "| conv1 " in text and "34,944 |" in text
    assert "**Total params:         62,378,344  (62.4 M; 238.0 MiB as float32)**" in text  # 62,378,344 * 4 / 2**20


def test_set_classes_and_input(cli):
    data = json.loads(cli("summary", "vgg16", "--set", "classes=2", "--format", "json").stdout)
    assert data["totals"]["params"] == 134_268_738  # the Keras VGG16 2-class summary (seed 000)
    data = json.loads(cli("summary", "alexnet", "--input", "3,224,224", "--format", "json").stdout)
    assert data["input_shape"] == [3, 224, 224]
    assert any("54.25" in w for w in data["warnings"])


def test_warnings_go_to_stderr(cli):
    result = cli("summary", "alexnet", "--input", "3,224,224")
    assert result.exit_code == 0
    assert "warning:" in result.stderr and "warning:" not in result.stdout


def test_output_file(tmp_path, cli):
    out = tmp_path / "alexnet.json"
    result = cli("summary", "alexnet", "--format", "json", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())["totals"]["params"] == 62_378_344


def test_spec_file_path(tmp_path, cli):
    path = tmp_path / "tiny.yaml"
    path.write_text("name: tiny\ninput: [1, 4, 4]\nlayers:\n  - flatten\n  - linear: {out: 2}\n")
    assert "34" in cli("summary", str(path)).stdout  # 16*2 + 2 = 34


def test_types_lists_layer_fields(cli):
    out = cli("types").stdout
    assert "conv2d" in out and "out, kernel, stride=1, padding=0, dilation=1, groups=1, bias=True" in out


def test_python_dash_m(tmp_path):
    result = subprocess.run([sys.executable, "-m", "archcalc", "summary", "lenet5", "--format", "csv"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "C1,conv2d,5×5/1, 6" not in result.stdout  # CSV quotes fields with commas
    assert '"5×5/1, 6"' in result.stdout


@pytest.mark.parametrize("fmt, ext", [("text", "txt"), ("markdown", "md"), ("csv", "csv"), ("json", "json")])
def test_golden_lenet5(fmt, ext, cli, golden):
    result = cli("summary", "lenet5", "--format", fmt)
    text = result.stdout.replace(str(zoo_entries()[0].path.parent), "<zoo>")  # JSON keeps the real path
    golden(f"lenet5.{ext}", text)


def test_alias_index_agrees_with_parsed_aliases():
    from archcalc.zoo import alias_index

    parsed = {alias: entry.path for entry in zoo_entries() for alias in entry.aliases}
    assert alias_index() == parsed
    assert set(parsed) >= {"vgg11", "vgg13", "vgg16", "vgg19", "lenet"}


def test_variant_names_agree_with_parsed_variants():
    """Variants are found without parsing every spec (a regular expression over the file); the
    zoo lists each as folder/variant, and both that and the bare name load that member."""
    from archcalc.zoo import variant_index
    from conftest import zoo as analyse

    parsed = {entry.name: (entry.path, entry.variant) for entry in zoo_entries() if entry.variant}
    index = variant_index()
    assert {name: (r.path, r.variant) for name, r in index.items() if "/" in name} == parsed
    assert "torchvision/efficientnet_b3" in parsed and "torchvision/resnext50_32x4d" in parsed
    assert analyse("efficientnet_b3").input_shape == analyse("torchvision/efficientnet_b3").input_shape == (3, 300, 300)


def test_a_folder_member_is_found_in_its_folder_alone():
    """``torchvision/resnet152`` reads only that folder's specs, with the answer the full index gives;
    a name that leaves the zoo ('..', an absolute folder) is never looked for outside it."""
    from archcalc.zoo import _family_member, alias_index, variant_index

    index = {name: resolved for name, resolved in variant_index().items() if "/" in name}
    assert not any("/" in alias for alias in alias_index())  # no alias could take such a name first
    assert len(index) > 20 and all(_family_member(name) == resolved for name, resolved in index.items())
    assert _family_member("torchvision/no_such_net") is None
    for name in ("../specs/torchvision/resnet152", "/torchvision/resnet152", "./torchvision/resnet152", "resnet152"):
        assert _family_member(name) is None


def test_zoo_names_in_any_case(cli):
    assert cli("summary", "VGG16").stdout.startswith("VGG configuration D")
    result = cli("summary", "vgg166")
    assert result.exit_code == 1 and "did you mean 'vgg16', 'vgg19', 'vgg13'?" in result.stderr


@pytest.mark.parametrize("suffix, start", [(".json", "{"), (".csv", "name,type,"), (".md", "### LeNet-5"),
                                           (".tex", "% LeNet-5"), (".txt", "LeNet-5 — input")])
def test_output_extension_chooses_the_format(tmp_path, cli, suffix, start):
    out = tmp_path / f"lenet{suffix}"
    assert cli("summary", "lenet5", "-o", str(out)).exit_code == 0
    assert out.read_text().startswith(start)
    cli("summary", "lenet5", "-o", str(out), "--format", "text")  # --format, when given, wins
    assert out.read_text().startswith("LeNet-5 — input")


def test_channels_last_input_is_pointed_out(tmp_path, cli):
    spec = tmp_path / "hwc.yaml"
    spec.write_text("name: t\ninput: [32, 32, 3]\nlayers:\n  - relu\n")
    result = cli("summary", str(spec))
    assert result.exit_code == 0
    assert f"warning: {spec}:2: the input [32, 32, 3] reads as 32 channels of 32×3" in result.stderr
    assert "write [3, 32, 32]" in result.stderr
    result = cli("summary", "alexnet", "--input", "224,224,3")  # fails: conv1's 11×11 does not fit 224×3
    assert result.exit_code == 1 and "looks like height, width, channels" in result.stderr


@pytest.mark.parametrize("command", [["compare", "alexnet", "lenet5"], ["explain", "alexnet", "conv1"],
                                     ["render", "alexnet", "-o", "-", "--format", "dot"], ["export", "alexnet", "-o", "-"]])
def test_every_command_that_analyses_prints_its_warnings(cli, command):
    """AlexNet at 224: (224 − 11)/4 + 1 = 54.25, the warning summary prints."""
    result = cli(*command, "--input", "3,224,224")
    assert result.exit_code == 0 and "warning: " in result.stderr and "54.25 is not an integer" in result.stderr


def test_one_rounding_vocabulary(cli):
    """--rounding floor|ceil|error and --strict (= --rounding error) mean the same in every command."""
    for command in (["summary", "alexnet"], ["explain", "alexnet", "conv1"], ["compare", "alexnet"]):
        strict = cli(*command, "--input", "3,224,224", "--strict")
        assert strict.exit_code == 1 and "use --rounding floor" in strict.stderr
        assert cli(*command, "--input", "3,224,224", "--rounding", "error").stderr == strict.stderr
    # ceil: (224 − 11)/4 + 1 = 54.25 rounds up to 55
    data = json.loads(cli("summary", "alexnet", "--input", "3,224,224", "--rounding", "ceil", "--format", "json").stdout)
    assert data["conventions"]["output_size"] == "ceil" and data["layers"][1]["output_shape"] == [96, 55, 55]


def test_docs_are_shipped_and_printed(cli):
    listing = cli("docs").stdout
    assert "grading" in listing and "limits" in listing and "spec" in listing
    assert cli("docs", "limits").stdout.startswith("# Limits on input")
    result = cli("docs", "nope")
    assert result.exit_code == 1 and "pages: " in result.stderr
    assert "archcalc docs grading" in cli("check", "--help").stdout  # help points to what a wheel user has
