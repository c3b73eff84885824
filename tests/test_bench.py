"""archcalc bench on the CPU: every option's plumbing, the JSON schema, FLOPs that are exactly the
summary's, out-of-memory as a row, --against with an interleaved reference, --profile, --plot.

GPU figures come from benchmarks/gpu_bench.sh on a GPU machine (docs/benchmarks.md); these tests
check what a CPU can: tiny batches, one or two steps.
"""

from __future__ import annotations

import json
import os

import pytest

if os.environ.get("ARCHCALC_REQUIRE_TORCH"):
    import torch
else:
    torch = pytest.importorskip("torch")

from archcalc import analyze, build_graph, load  # noqa: E402
from archcalc.backends import bench as bench_module  # noqa: E402
from archcalc.backends.bench import Settings, predicted_memory, run_benchmark  # noqa: E402
from archcalc.conventions import Conventions  # noqa: E402

FAST = ["--batch", "2", "--iters", "1", "--repeat", "2", "--warmup", "1", "--device", "cpu"]


@pytest.fixture(autouse=True)
def cached_peak(tmp_path, monkeypatch):
    """The peak is measured once per test session's cache folder, not for every test."""
    monkeypatch.setenv("ARCHCALC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(bench_module, "measure_peak", lambda torch_, device, dtype: (0.5, 20.0))


def run_json(cli, *args: str) -> dict:
    result = cli("bench", *args, *FAST, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_schema(cli):
    report = run_json(cli, "lenet5")
    assert report["schema"] == "archcalc.bench/1"
    assert set(report) == {"schema", "spec", "network", "settings", "environment", "flops_per_image", "flops_counted",
                           "peak_tflops", "bandwidth_gbs", "runs", "layers"}
    run = report["runs"][0]
    assert run["model"] == "archcalc" and run["batch"] == 2 and run["status"] == "ok"
    assert run["latency_min_ms"] <= run["latency_ms"] <= run["latency_max_ms"]
    assert run["images_per_s"] == pytest.approx(2 / (run["latency_ms"] / 1000))
    assert run["tflops"] == pytest.approx(report["flops_per_image"] * run["images_per_s"] / 1e12)
    assert run["peak_share"] == pytest.approx(run["tflops"] / 0.5)  # the (stubbed) measured peak
    assert run["peak_memory_bytes"] is None  # CUDA only
    assert report["environment"]["torch"] == torch.__version__ and report["settings"]["batches"] == [2]


@pytest.mark.parametrize("convention", ["torch", "fvcore", "full"])
def test_flops_are_the_summarys(cli, convention):
    report = run_json(cli, "alexnet", "--convention", convention)
    summary = json.loads(cli("summary", "alexnet", "--convention", convention, "--format", "json").stdout)
    assert report["flops_per_image"] == summary["totals"]["flops"]


def test_train_counts_three_forward_passes_with_training_branches(cli):
    """GoogLeNet's auxiliary classifiers run in training: 3 × the FLOPs with training-only layers."""
    analysis = analyze(build_graph(load("googlenet")))
    report = run_json(cli, "googlenet", "--mode", "train")
    assert report["flops_per_image"] == 3 * analysis.totals.flops_with_training_only
    assert analysis.totals.flops_with_training_only > analysis.totals.flops  # the aux branches are counted
    assert report["runs"][0]["status"] == "ok"


@pytest.mark.parametrize("options", [["--dtype", "bf16"], ["--dtype", "fp16"], ["--dtype", "tf32"],
                                     ["--dtype", "bf16", "--autocast"], ["--channels-last"], ["--mode", "train"],
                                     ["--mode", "train", "--dtype", "bf16", "--channels-last"]])
def test_precisions_layouts_and_modes_run(cli, options):
    report = run_json(cli, "torchvision/alexnet", "--input", "3,67,67", *options)
    assert report["runs"][0]["status"] == "ok" and report["runs"][0]["images_per_s"] > 0


def test_what_pytorch_cannot_run_is_a_row(cli):
    """PyTorch has no bf16 CPU kernel for LRN's avg_pool3d (the lecture's AlexNet has LRN)."""
    report = run_json(cli, "alexnet", "--input", "3,67,67", "--dtype", "bf16", "--device", "cpu")
    run = report["runs"][0]
    assert run["status"] == "failed" and "BFloat16" in run["message"] and run["images_per_s"] is None


def test_predicted_memory_is_archcalcs_own_count():
    """Inference: parameters + every inference layer's output, for the batch and dtype; train adds
    the gradients (one per parameter) and the training-only layers' outputs."""
    graph = build_graph(load("googlenet"))
    for dtype, name in (("fp32", "float32"), ("bf16", "bfloat16")):
        four = analyze(graph, Conventions(dtype=name, batch=4))
        assert predicted_memory(graph, Settings(dtype=dtype), 4) == four.totals.param_bytes + four.totals.activation_bytes
        train = predicted_memory(graph, Settings(dtype=dtype, mode="train"), 4)
        assert train == 2 * four.totals.param_bytes + sum(row.activation_bytes for row in four.rows)
    autocast = predicted_memory(graph, Settings(dtype="bf16", autocast=True), 4)
    assert autocast == analyze(graph).totals.param_bytes + analyze(graph, Conventions(
        dtype="bfloat16", batch=4)).totals.activation_bytes  # fp32 weights under autocast


def test_out_of_memory_is_a_row(monkeypatch):
    """A batch that does not fit is reported and the sweep goes on."""
    real = bench_module.time_steps

    def fake(torch_, device, step, iters):
        if bench_module_batch[0] == 8:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real(torch_, device, step, iters)

    bench_module_batch = [0]
    real_prepare = bench_module.prepare

    def prepare(torch_, module, settings, device, batch, shape):
        bench_module_batch[0] = batch
        return real_prepare(torch_, module, settings, device, batch, shape)

    monkeypatch.setattr(bench_module, "time_steps", fake)
    monkeypatch.setattr(bench_module, "prepare", prepare)
    graph = build_graph(load("lenet5"))
    report = run_benchmark("lenet5", graph, Settings(device="cpu", batches=(2, 8, 4), warmup=0, iters=1, repeat=1))
    statuses = [(run.batch, run.status) for run in report.runs]
    assert statuses == [(2, "ok"), (8, "out of memory"), (4, "ok")]
    assert "Tried to allocate 20.00 GiB" in report.runs[1].message and report.runs[1].images_per_s is None


def test_against_a_reference_is_interleaved_and_a_ratio(monkeypatch):
    """The reference (here the lowered model again, as torchvision's stand-in) is timed in
    alternation with archcalc's, and archcalc's row carries the ratio of throughputs."""
    order: list[str] = []
    real = bench_module.time_steps

    def timed(torch_, device, step, iters):
        order.append(getattr(step, "__qualname__", ""))
        return real(torch_, device, step, iters)

    from archcalc.backends.torch import to_module

    graph = build_graph(load("lenet5"))
    models = {}

    def reference():
        models["reference"] = to_module(graph)
        return models["reference"]

    report = run_benchmark("lenet5", graph, Settings(device="cpu", batches=(2,), warmup=0, iters=1, repeat=4,
                                                     against="torchvision"), reference=reference)
    ours, theirs = report.runs
    assert (ours.model, theirs.model) == ("archcalc", "torchvision")
    assert ours.vs_reference == pytest.approx(ours.images_per_s / theirs.images_per_s)
    assert theirs.vs_reference is None and "reference" in models


def test_against_needs_a_torchvision_spec(cli):
    result = cli("bench", "alexnet", "--against", "torchvision", *FAST)
    assert result.exit_code == 1 and "has no torchvision reference" in result.stderr


def test_against_torchvision(cli):
    """The real torchvision model, where torchvision is installed (a separate venv; see docs/bench.md)."""
    pytest.importorskip("torchvision")
    report = run_json(cli, "torchvision/resnet18", "--input", "3,64,64", "--against", "torchvision")
    ours, theirs = report["runs"]
    assert theirs["model"] == "torchvision" and ours["vs_reference"] > 0


def test_profile_names_archcalcs_layers(cli):
    report = run_json(cli, "alexnet", "--input", "3,67,67", "--profile")
    layers = {layer["name"]: layer for layer in report["layers"]}
    analysis = analyze(build_graph(load("alexnet", input_shape=(3, 67, 67))))
    assert set(layers) == {row.name for row in analysis.rows} - {"input"}
    conv1 = layers["conv1"]
    row = next(r for r in analysis.rows if r.name == "conv1")
    assert conv1["flops"] == 2 * row.macs * 2  # torch convention, batch 2
    # bytes moved: input and output values for the batch, and the weights, once each, as float32
    moved = (row.ops.in_elems + row.ops.out_elems) * 2 * 4 + row.params.trainable * 4
    assert conv1["intensity"] == pytest.approx(conv1["flops"] / moved)
    ridge = 0.5e12 / 20e9  # the stubbed peak over the stubbed bandwidth: 25 FLOP/byte
    assert conv1["bound"] == ("compute" if conv1["intensity"] >= ridge else "memory")
    assert sum(layer["share"] for layer in layers.values()) == pytest.approx(1.0)


def test_text_output_and_progress(cli):
    result = cli("bench", "lenet5", *FAST, "--profile")
    assert result.exit_code == 0
    assert result.stdout.startswith("LeNet-5 (lenet5): inference, fp32, on CPU")
    assert "FLOPs per image: 833,040" in result.stdout  # tests/test_lenet_zfnet.py: 2 × 416,520 MACs
    assert "Slowest layers" in result.stdout
    assert "bench: batch 2" in result.stderr and "bench:" not in result.stdout


def test_csv(cli):
    result = cli("bench", "lenet5", *FAST, "--batch", "1,2", "--format", "csv")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("spec,device,dtype,mode,compiled,channels_last,flops_per_image,peak_tflops,model,batch")
    assert len(lines) == 3 and lines[1].split(",")[9] == "1"


def test_compile_reports_its_first_call(cli):
    report = run_json(cli, "lenet5", "--compile")
    run = report["runs"][0]
    assert report["settings"]["compile"] and run["status"] == "ok"
    assert run["first_call_s"] > run["latency_ms"] / 1000  # compiling takes longer than a step


def test_plot(cli, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "roofline.svg"
    result = cli("bench", "lenet5", *FAST, "--profile", "--plot", str(out))
    assert result.exit_code == 0 and out.read_text().startswith("<?xml")


def test_plot_without_matplotlib(cli, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    result = cli("bench", "lenet5", *FAST, "--plot", str(tmp_path / "r.svg"))
    assert result.exit_code == 1 and "pip install 'archcalc[plot]'" in result.stderr


def test_peak_is_cached_per_device_and_dtype(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(bench_module, "measure_peak", lambda t, d, dtype: calls.append(dtype) or (1.0, 2.0))
    device = torch.device("cpu")
    assert bench_module.cached_peak(torch, device, "fp32", False) == (1.0, 2.0)
    assert bench_module.cached_peak(torch, device, "fp32", False) == (1.0, 2.0)
    bench_module.cached_peak(torch, device, "bf16", False)
    bench_module.cached_peak(torch, device, "fp32", True)
    assert calls == ["fp32", "bf16", "fp32"]
    assert len(json.loads(bench_module.cache_file().read_text())) == 2


def test_usage_errors(cli):
    assert cli("bench", "lenet5", "--batch", "0").exit_code == 2
    assert cli("bench", "lenet5", "--batch", "1,x").exit_code == 2
    result = cli("bench", "lenet5", "--device", "cuda", *FAST[:-2]) if not torch.cuda.is_available() else None
    if result is not None:
        assert result.exit_code == 1 and "sees no CUDA device" in result.stderr
