"""The torch backend: PyTorch confirms every built-in spec, random conv/pool stacks agree with
PyTorch (including the specs PyTorch rejects), exported model files run with torch alone.

Without torch these tests skip, unless ARCHCALC_REQUIRE_TORCH=1 (CI sets it), where a missing
torch fails them: the backend must not go unchecked by accident.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archcalc import ArchcalcError, analyze, build_graph, load, load_spec_text
from archcalc.zoo import zoo_entries

if os.environ.get("ARCHCALC_REQUIRE_TORCH"):
    import torch
else:
    torch = pytest.importorskip("torch")

from archcalc.backends.custom import CLASSES as CUSTOM_CLASSES  # noqa: E402
from archcalc.backends.torch import BackendError, to_module  # noqa: E402
from archcalc.backends.verify import verify  # noqa: E402

ZOO = [entry.name for entry in zoo_entries()]
TEST_SPECS = sorted(str(p) for p in (Path(__file__).parent / "specs").glob("*.yaml")
                    if p.name != "placeholder.yaml")  # a placeholder cannot run (test_import.py checks it refuses)


@pytest.mark.parametrize("name", ZOO + TEST_SPECS)  # together they use every layer type (test_graph.py)
def test_pytorch_confirms_every_builtin_spec(name):
    report = verify(build_graph(load(name)))
    assert report.ok, report.mismatches[:5]


def test_verify_can_fail(monkeypatch):
    from archcalc.layers.conv import Conv2d

    original = Conv2d.params
    monkeypatch.setattr(Conv2d, "params", lambda self, i, o: original(self, i, o)._replace(trainable=1))
    report = verify(build_graph(load("lenet5")))
    assert not report.ok
    assert {(m.layer, m.quantity) for m in report.mismatches} >= {("C1", "trainable params"), ("(network)", "total trainable params")}


def test_state_dict_keys_follow_torchvision_names():
    keys = list(to_module("torchvision/resnet18", device="meta").state_dict())
    assert keys[:6] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                        "bn1.num_batches_tracked"]
    assert "layer2.0.downsample.0.weight" in keys and "layer4.1.bn2.running_var" in keys and keys[-2:] == ["fc.weight", "fc.bias"]
    keys = list(to_module("torchvision/googlenet", device="meta").state_dict())
    assert "inception4a.branch2.1.conv.weight" in keys


def test_training_only_branches_run_in_train_mode_only():
    model = to_module("googlenet", device="meta")
    x = torch.empty(2, 3, 224, 224, device="meta")
    assert model.eval()(x).shape == (2, 1000)
    outputs = model.train()(x)
    assert [tuple(o.shape) for o in outputs] == [(2, 1000)] * 3  # prob, aux1, aux2


def test_real_forward_pass_matches_archcalc_shapes():
    graph = build_graph(load("torchvision/resnet18"))
    model = to_module(graph).eval()
    with torch.no_grad():
        y = model(torch.randn(1, 3, 224, 224))
    assert tuple(y.shape) == (1, 1000)
    assert sum(p.numel() for p in model.parameters()) == analyze(graph).totals.trainable_params == 11_689_512


def test_reserved_module_name_is_a_clear_error():
    spec = load_spec_text("name: t\ninput: [1, 4, 4]\nlayers:\n  - relu: {name: train}\n")
    with pytest.raises(BackendError, match="cannot name a PyTorch module 'train'"):
        to_module(build_graph(spec), device="meta")


def test_missing_torch_says_what_to_install(monkeypatch, cli):
    monkeypatch.setitem(sys.modules, "torch", None)
    result = cli("verify", "alexnet")
    assert result.exit_code == 1
    assert "needs PyTorch" in result.stderr and "pip install 'archcalc[torch]'" in result.stderr


def test_verify_all_cli(cli):
    result = cli("verify", "--all")
    assert result.exit_code == 0, result.output
    assert f"{len(ZOO)} passed, 0 failed" in result.stdout


@pytest.mark.parametrize("name, expected_params", [
    ("alexnet", 62_378_344), ("googlenet", 13_378_280),
    ("torchvision/convnext_tiny", 28_589_128),  # LayerNorm2d, Permute, StochasticDepth and a layer_scale parameter
    ("torchvision/shufflenet_v2_x0_5", 1_366_792),  # Chunk and Mean
])
def test_exported_model_runs_with_torch_alone(name, expected_params, tmp_path, cli):
    path = tmp_path / "model.py"
    assert cli("export", name, "-o", str(path)).exit_code == 0
    source = path.read_text()
    assert "archcalc" not in source.split('"""', 2)[2]  # only the docstring mentions it
    script = textwrap.dedent(f"""
        import sys
        sys.modules["archcalc"] = None  # prove the file needs no archcalc
        sys.path.insert(0, {str(tmp_path)!r})
        import torch, model
        helpers = {{"Scope", {", ".join(repr(c) for c in CUSTOM_CLASSES)}}}
        cls = [v for k, v in vars(model).items() if isinstance(v, type) and k not in helpers and issubclass(v, torch.nn.Module)][0]
        net = cls().eval()
        with torch.no_grad():
            y = net(torch.randn(1, 3, 227 if {name!r} == "alexnet" else 224, 227 if {name!r} == "alexnet" else 224))
        print(tuple(y.shape), sum(p.numel() for p in net.parameters()))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["(1,", "1000)", str(expected_params)]


# ---- random conv/pool stacks against PyTorch ---------------------------------------------------

conv = st.fixed_dictionaries({
    "type": st.just("conv2d"), "out": st.integers(1, 6), "kernel": st.integers(1, 5), "stride": st.integers(1, 3),
    "padding": st.integers(0, 3), "dilation": st.integers(1, 3), "groups": st.sampled_from([1, 2, 3]),
    "bias": st.booleans(),
})
max_pool = st.fixed_dictionaries({
    "type": st.just("max_pool2d"), "kernel": st.integers(1, 5), "stride": st.integers(1, 3),
    "padding": st.integers(0, 3), "dilation": st.integers(1, 2), "ceil_mode": st.booleans(),
})
avg_pool = st.fixed_dictionaries({
    "type": st.just("avg_pool2d"), "kernel": st.integers(1, 5), "stride": st.integers(1, 3),
    "padding": st.integers(0, 3), "ceil_mode": st.booleans(),
})


def torch_layer(layer: dict, channels: int):
    """The same layer built directly with torch.nn (not through archcalc's lowering)."""
    nn = torch.nn
    kind = layer["type"]
    if kind == "conv2d":
        return nn.Conv2d(channels, layer["out"], layer["kernel"], layer["stride"], layer["padding"],
                         layer["dilation"], layer["groups"], layer["bias"])
    if kind == "max_pool2d":
        return nn.MaxPool2d(layer["kernel"], layer["stride"], layer["padding"], layer["dilation"],
                            ceil_mode=layer["ceil_mode"])
    return nn.AvgPool2d(layer["kernel"], layer["stride"], layer["padding"], ceil_mode=layer["ceil_mode"])


def run_torch(layers: list[dict], shape: tuple[int, int, int]):
    """(output shape, parameter count), or None when PyTorch refuses the stack."""
    try:
        with torch.device("meta"):
            x = torch.empty(1, *shape)
            params = 0
            for layer in layers:
                module = torch_layer(layer, x.shape[1])
                params += sum(p.numel() for p in module.parameters())
                x = module(x)
        return tuple(x.shape[1:]), params
    except (RuntimeError, ValueError):
        return None


def run_archcalc(layers: list[dict], shape: tuple[int, int, int]):
    body = "".join(
        f"  - {layer['type']}: {{{', '.join(f'{k}: {str(v).lower()}' for k, v in layer.items() if k != 'type')}}}\n"
        for layer in layers
    )
    try:
        analysis = analyze(build_graph(load_spec_text(f"name: r\ninput: [{', '.join(map(str, shape))}]\nlayers:\n{body}")))
    except ArchcalcError:
        return None
    return analysis.rows[-1].output_shape, analysis.totals.trainable_params


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers=st.lists(st.one_of(conv, max_pool, avg_pool), min_size=1, max_size=4),
       channels=st.sampled_from([1, 2, 3, 4, 6]), size=st.integers(1, 24))
def test_random_stacks_agree_with_pytorch(layers, channels, size):
    shape = (channels, size, size)
    assert run_archcalc(layers, shape) == run_torch(layers, shape)


def test_verify_refuses_more_layers_than_its_limit(tmp_path, cli):
    """Lowering and tracing costs about 1 ms a layer: verify stops at MAX_VERIFY_LAYERS (2,000)."""
    spec = tmp_path / "long.yaml"
    spec.write_text("name: long\ninput: [3, 8, 8]\nlayers:\n  - relu: {name: r, repeat: 2000}\n")
    result = cli("verify", str(spec))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {spec}: 2,001 layers are over the limit of 2,000")


ALIASING = """
name: aliasing
input: [3, 8, 8]
layers:
  - conv2d: {name: a, out: 4, kernel: 3, padding: 1}
  - dropout: {name: same_tensor, p: 0.5}      # eval: returns its input itself
  - relu: {name: r1}                          # a's tensor is still read below: must not be overwritten
  - add: {name: s, inputs: [r1, a]}
  - flatten: {name: view}                     # a view of s
  - relu: {name: r2}                          # s is read below: must not be overwritten through the view
  - sigmoid: {name: g, inputs: s}
  - global_avg_pool: {name: p, inputs: g}
  - mul: {name: scaled, inputs: [p, s]}       # C×1×1 first: cannot be done in place
  - add: {name: out, inputs: [scaled, s]}
outputs: [out, r2]
"""


@pytest.mark.parametrize("name", ["se_resnet50", "densenet121", "torchvision/mobilenet_v2", "googlenet", "ALIASING",
                                  *TEST_SPECS])
def test_in_place_steps_change_no_number(name):
    """Without autograd the lowered network overwrites dead inputs in place (as torchvision's
    ReLU(inplace=True) does); the outputs must be exactly those of the out-of-place run."""
    graph = build_graph(load_spec_text(ALIASING) if name == "ALIASING" else load(name))
    torch.manual_seed(0)
    model = to_module(graph).eval()
    x = torch.randn(2, *graph.node("input").layer.shape)
    with torch.inference_mode():
        fast = model(x)
    assert model._in_place[False], "the spec should offer in-place steps"
    slow = model(x)  # autograd on: every step out of place
    for a, b in zip(fast if isinstance(fast, tuple) else (fast,), slow if isinstance(slow, tuple) else (slow,)):
        assert torch.equal(a, b.detach())
