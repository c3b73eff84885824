"""archcalc import: PyTorch models traced with torch.fx, and ONNX files, as specs.

The oracles are independent of the importer: the hand-written torchvision specs (themselves checked
against torchvision's parameter counts, FlopCounterMode and output shapes in
test_torchvision_facts.py), PyTorch's own parameters(), FlopCounterMode and output shapes of the
modules written here, and the state_dict keys of the original model.
"""

from __future__ import annotations

import os

import pytest

torch = pytest.importorskip("torch", reason="archcalc import needs PyTorch")

from click.testing import CliRunner  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from archcalc import analyze, build_graph, load_spec_text  # noqa: E402
from archcalc.cli import main  # noqa: E402
from archcalc.conventions import FLOP_PRESETS  # noqa: E402
from archcalc.importers import to_spec  # noqa: E402
from archcalc.importers.check import torch_name  # noqa: E402
from archcalc.importers.pytorch import import_torch  # noqa: E402
from archcalc.zoo import zoo_entries  # noqa: E402
from conftest import zoo  # noqa: E402


def imported(model: nn.Module, input_shape: tuple[int, ...], **kwargs):
    network = import_torch(type(model).__name__, input_shape, {}, model=model.eval(), **kwargs)
    text = to_spec(network)
    return text, analyze(build_graph(load_spec_text(text, "imported.yaml")))


def pytorch_facts(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, int, tuple[int, ...]]:
    """PyTorch's own count: parameters(), FlopCounterMode's total and the output shape."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        out = model.eval()(torch.randn(1, *input_shape))
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops(), tuple(out.shape[1:])


# ---- user-style modules ----------------------------------------------------------------------------


class Block(nn.Module):
    """A residual block written with functional calls."""

    def __init__(self, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + x)


class TwoBranch(nn.Module):
    """Concatenation of two branches, a view to a vector, functional pooling."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.blocks = nn.Sequential(Block(16), Block(16), Block(16))
        self.left = nn.Conv2d(16, 8, 1)
        self.right = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(16 * 4 * 4, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.stem(x)), 2)
        x = self.blocks(x)
        x = torch.cat([self.left(x), self.right(x)], dim=1)
        x = F.adaptive_avg_pool2d(x, 4)
        return self.fc(x.view(x.size(0), -1))


def test_user_module_numbers_equal_pytorchs():
    model = TwoBranch()
    text, analysis = imported(model, (3, 32, 32))
    params, flops, out = pytorch_facts(model, (3, 32, 32))
    assert analysis.totals.trainable_params == params
    assert analysis.flops_under("torch") == flops
    assert analysis.rows[-1].output_shape == out


def test_user_module_keeps_state_dict_keys_and_folds_repeats():
    from archcalc.backends.torch import to_module

    model = TwoBranch()
    text, analysis = imported(model, (3, 32, 32))
    assert "repeat: 3, repeat_from: 0" in text  # blocks.0 .. blocks.2: one definition, repeated
    assert text.count("  block:") == 1
    lowered = to_module(build_graph(load_spec_text(text, "imported.yaml")))
    assert set(lowered.state_dict()) == set(model.state_dict())
    for key, value in model.state_dict().items():
        assert tuple(lowered.state_dict()[key].shape) == tuple(value.shape), key


def test_functional_calls_are_marked():
    """F.relu runs where module hooks do not see it: the spec says so, for the hook-based presets."""
    text, _ = imported(TwoBranch(), (3, 32, 32))
    assert "- relu: {name: relu, functional: true}" in text


class Rolled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return torch.roll(self.conv(x), 1, dims=2).flatten(1)


MODELS_FILE = '''
import torch
from torch import nn


class Rolled(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)

    def forward(self, x):
        return torch.roll(self.conv(x), 1, dims=2).flatten(1)


class Plain(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.conv(x))
'''


def test_unsupported_operation_is_a_located_error(tmp_path):
    source = tmp_path / "models.py"
    source.write_text(MODELS_FILE, encoding="utf-8")
    out = tmp_path / "spec.yaml"
    result = CliRunner().invoke(main, ["import", f"{source}:Rolled", "--input", "3,8,8", "-o", str(out)])
    assert result.exit_code == 1
    assert "node 'roll' (call_function roll)" in result.output and "'roll' has no archcalc layer type" in result.output
    assert "supported: " in result.output and "Conv2d" in result.output
    assert not out.exists()
    result = CliRunner().invoke(main, ["import", f"{source}:Rolled", "--input", "3,8,8", "-o", str(out),
                                       "--allow-unsupported"])
    assert result.exit_code == 0, result.output
    assert "placeholder: {name: roll, op: roll" in out.read_text(encoding="utf-8")
    summary = CliRunner().invoke(main, ["summary", str(out)])
    assert "a placeholder for 'roll'" in summary.output  # flagged in every report


def test_a_placeholder_counts_nothing_warns_and_refuses_to_run():
    from pathlib import Path

    from archcalc import load
    from archcalc.backends.torch import to_module
    from archcalc.errors import ArchcalcError

    spec = str(Path(__file__).parent / "specs" / "placeholder.yaml")
    analysis = zoo(spec)
    roll = analysis.row("roll")
    assert (roll.output_shape, roll.params.total, roll.macs, roll.flops) == ((4, 6, 6), 0, 0, 0)
    assert any("a placeholder for 'roll'" in warning for warning in analysis.warnings)
    with pytest.raises(ArchcalcError, match="cannot run in PyTorch"):
        to_module(build_graph(load(spec)))


def test_file_class_with_args_and_check(tmp_path):
    source = tmp_path / "models.py"
    source.write_text(MODELS_FILE, encoding="utf-8")
    out = tmp_path / "plain.yaml"
    result = CliRunner().invoke(main, ["import", f"{source}:Plain", "--input", "3,8,8", "--args", "width=6",
                                       "-o", str(out), "--check"])
    assert result.exit_code == 0, result.output
    assert "check: the spec matches the model" in result.output
    assert "conv2d: {name: conv, out: 6, kernel: 3}" in out.read_text(encoding="utf-8")


def test_bad_sources_are_errors(tmp_path):
    for source, message in (("nothing", "expected torchvision:NAME"), (f"{tmp_path}/missing.py:Net", "no file"),
                            ("torchvision:not_a_model", "no model"), ("json:Nope", "has no 'Nope'")):
        result = CliRunner().invoke(main, ["import", source, "--input", "3,8,8"])
        assert result.exit_code == 1, (source, result.output)
        if "torchvision" in source and "not installed" in result.output:
            continue
        assert message in result.output, (source, result.output)


# ---- ONNX ------------------------------------------------------------------------------------------


def test_onnx_file_exported_from_pytorch(tmp_path):
    pytest.importorskip("onnx", reason="the ONNX importer needs the onnx package")
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU6(),
        nn.MaxPool2d(3, 2, ceil_mode=True), nn.Conv2d(16, 32, 3, padding=(1, 2), groups=4), nn.Hardswish(),
        nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(32, 7)).eval()
    path = tmp_path / "model.onnx"
    torch.onnx.export(model, (torch.randn(1, 3, 32, 32),), str(path), dynamo=False,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    out = tmp_path / "model.yaml"
    result = CliRunner().invoke(main, ["import", str(path), "-o", str(out), "--check"])
    assert result.exit_code == 0, result.output
    analysis = analyze(build_graph(load_spec_text(out.read_text(encoding="utf-8"), "model.yaml")))
    params, flops, shape = pytorch_facts(model, (3, 32, 32))
    assert analysis.totals.trainable_params == params
    assert analysis.flops_under("torch") == flops
    assert analysis.rows[-1].output_shape == shape
    names = {torch_name(row.name) for row in analysis.rows if row.params.total}
    assert names == {"0", "1", "4", "10"}  # the PyTorch module names, from the weights' names


# ---- torchvision -----------------------------------------------------------------------------------

TORCHVISION = sorted(entry.name.split("/", 1)[1] for entry in zoo_entries() if entry.name.startswith("torchvision/"))


@pytest.fixture(scope="module")
def torchvision_module():
    try:
        import torchvision  # noqa: F401
    except (ImportError, RuntimeError) as err:  # RuntimeError: a torchvision built for another torch
        if os.environ.get("ARCHCALC_REQUIRE_TORCHVISION"):
            pytest.fail(f"ARCHCALC_REQUIRE_TORCHVISION is set but torchvision does not import: {err}")
        pytest.skip(f"torchvision is not usable here: {err}")


@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_import_equals_the_handwritten_spec(torchvision_module, name):
    """The same numbers, layer by layer, under the same (PyTorch) names: every layer with parameters
    has the hand-written spec's output shape, parameters and MACs, and the totals agree under every
    FLOP convention. Training-only branches (GoogLeNet's and Inception v3's auxiliary classifiers,
    DeepLabv3's auxiliary head) are not in an eval-mode trace: they are compared at inference."""
    handwritten = zoo(f"torchvision/{name}")
    network = import_torch(f"torchvision:{name}", handwritten.input_shape, {})
    analysis = analyze(build_graph(load_spec_text(to_spec(network), f"{name}.yaml")))
    ours = {torch_name(row.name): row for row in analysis.rows if row.params.total}
    theirs = {torch_name(row.name): row for row in handwritten.rows if row.params.total and not row.training_only}
    assert set(ours) == set(theirs)
    for key, row in ours.items():
        other = theirs[key]
        assert (row.output_shape, row.params, row.macs) == (other.output_shape, other.params, other.macs), key
    assert analysis.totals.params == handwritten.totals.params_inference
    assert analysis.totals.macs == handwritten.totals.macs
    assert analysis.rows[-1].output_shape == handwritten.rows[-1].output_shape
    for preset in FLOP_PRESETS:
        assert analysis.flops_under(preset) == handwritten.flops_under(preset), preset


class Biased(nn.Module):
    """A parameter used directly as an operand: no layer type holds a free tensor."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.offset = nn.Parameter(torch.zeros(1, 4, 6, 6))

    def forward(self, x):
        return self.conv(x) + self.offset


def test_a_parameter_used_directly_is_a_located_error():
    from archcalc.importers.pytorch import ImportFailed

    with pytest.raises(ImportFailed, match=r"node 'add' \(call_function add\): add with a constant \(<tensor offset>\)"):
        imported(Biased(), (3, 8, 8))
