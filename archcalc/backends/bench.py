"""Benchmark a lowered network: throughput, latency, achieved FLOP/s against the device's
measured peak, memory against archcalc's prediction, per-layer times and a roofline.

What is counted (docs/bench.md says it for users):
- **FLOPs per image** come from archcalc's own analysis under the chosen ``--convention``
  (default ``torch``: 2 × MACs of conv and linear layers). Inference counts the inference
  layers; ``train`` counts one forward and one backward pass as 3 × the forward FLOPs of every
  layer, training-only branches included (they run in training), the usual convention
  (the backward pass costs about twice the forward: gradients for inputs and for weights).
- **Precision**: ``fp32`` (TF32 off), ``tf32`` (fp32 tensors, TF32 matmuls and convolutions),
  ``bf16`` and ``fp16`` by casting the model and its input (the default), or, with
  ``autocast``, through ``torch.autocast`` with fp32 weights.
- **Timing**: model and input on the device; ``eval()`` and ``torch.inference_mode()`` for
  inference; one forward, backward and SGD step for ``train``; ``cudnn.benchmark`` on;
  ``warmup`` untimed steps, then ``repeat`` timings of ``iters`` steps each, by CUDA events
  with synchronisation on a GPU and ``perf_counter`` on the CPU; the median and the spread
  (min, max) over the repeats are reported.
- **Peak**: a dense square matmul in the same dtype, measured on the spot and cached per
  device, dtype and torch version; the memory bandwidth: a large device-to-device copy.
- **Memory**: the device's ``max_memory_allocated`` during the run (CUDA only), next to
  archcalc's prediction: parameters plus every layer's output for that batch and dtype
  (inference), plus gradients and the training-only layers' outputs (train).

An out-of-memory at one batch size is a row saying so, not a crash; so is a configuration
PyTorch cannot run (an operation without a bf16 kernel on the CPU, say).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..analysis import Analysis, analyze
from ..conventions import Conventions
from ..errors import ArchcalcError
from ..graph import Graph
from .torch import STEP_LABEL, BackendError, import_torch, to_module

PRECISIONS: dict[str, tuple[str, str]] = {
    "fp32": ("float32", "float32"),
    "tf32": ("float32", "float32"),
    "bf16": ("bfloat16", "bfloat16"),
    "fp16": ("float16", "float16"),
}
"""--dtype -> (torch dtype name, archcalc dtype name for memory predictions)."""

TRAIN_FLOPS_FACTOR = 3
"""A training step counts 3 × the forward FLOPs: forward, gradients of the inputs, of the weights."""


@dataclass(frozen=True)
class Settings:
    device: str = "auto"
    batches: tuple[int, ...] = (32,)
    dtype: str = "fp32"
    autocast: bool = False
    channels_last: bool = False
    compile: bool = False
    mode: str = "inference"
    warmup: int = 5
    iters: int = 20
    repeat: int = 5
    convention: str = "torch"
    against: str | None = None
    profile: bool = False
    remeasure: bool = False


@dataclass
class Run:
    """One timed configuration: a model at one batch size."""

    model: str  # 'archcalc', or the reference ('torchvision')
    batch: int
    status: str = "ok"  # 'ok', 'out of memory', or 'failed' (PyTorch refused: message says why)
    latency_ms: float | None = None  # median over the repeats, per batch
    latency_min_ms: float | None = None
    latency_max_ms: float | None = None
    images_per_s: float | None = None
    tflops: float | None = None  # achieved, from archcalc's FLOPs per image
    peak_share: float | None = None  # tflops / the measured peak
    peak_memory_bytes: int | None = None  # torch.cuda.max_memory_allocated; None on the CPU
    predicted_memory_bytes: int | None = None
    first_call_s: float | None = None  # the first step, which includes torch.compile's compilation
    vs_reference: float | None = None  # this model's images/s over the reference's (archcalc rows)
    message: str = ""


@dataclass
class LayerTime:
    """One layer's share of a profiled step (forward time inside its profiler range)."""

    name: str
    type: str
    time_ms: float
    share: float
    flops: int  # for the batch, under the convention
    tflops: float
    intensity: float  # FLOPs per byte moved (inputs, output and weights, read or written once)
    bound: str  # 'compute' or 'memory', against the measured peak and bandwidth


@dataclass
class Report:
    spec: str
    network: str
    settings: Settings
    environment: dict[str, Any]
    flops_per_image: int
    flops_counted: str
    peak_tflops: float
    bandwidth_gbs: float
    runs: list[Run] = field(default_factory=list)
    layers: list[LayerTime] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["settings"]["batches"] = list(self.settings.batches)
        return data


# ---- the device ------------------------------------------------------------------------------

def resolve_device(torch: Any, name: str) -> Any:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise BackendError("--device cuda: PyTorch sees no CUDA device",
                           hint="use --device cpu (or auto), or install a CUDA build of PyTorch")
    return torch.device(name)


def configure(torch: Any, settings: Settings) -> None:
    """Backend switches: cuDNN picks the fastest algorithms; TF32 only for --dtype tf32."""
    torch.backends.cudnn.benchmark = True
    tf32 = settings.dtype == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.set_float32_matmul_precision("high" if tf32 else "highest")


def environment(torch: Any, device: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "device": device_name(torch, device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        env.update(cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version())
    return env


def device_name(torch: Any, device: Any) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = next((line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), "")
    return f"CPU {model or platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def synchronize(torch: Any, device: Any) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(torch: Any, device: Any, step: Callable[[], None], iters: int) -> float:
    """Milliseconds per step, averaged over ``iters`` steps (CUDA events on a GPU)."""
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize(device)
        start.record()
        for _ in range(iters):
            step()
        end.record()
        torch.cuda.synchronize(device)
        return start.elapsed_time(end) / iters
    begin = time.perf_counter()
    for _ in range(iters):
        step()
    return (time.perf_counter() - begin) * 1000 / iters


def _rate(torch: Any, device: Any, step: Callable[[], None], work: float, seconds: float) -> float:
    """``work`` per second of ``step``, timed for at least ``seconds`` after two warm-up calls."""
    step()
    step()
    iters, elapsed = 1, 0.0
    while True:
        elapsed = time_steps(torch, device, step, iters) * iters / 1000
        if elapsed >= seconds or iters >= 1 << 16:
            return work * iters / elapsed
        iters *= 2


def measure_peak(torch: Any, device: Any, dtype: str) -> tuple[float, float]:
    """(TFLOP/s of a dense n×n matmul in ``dtype``, GB/s of a device-to-device copy)."""
    n = 8192 if device.type == "cuda" else 1024
    torch_dtype = getattr(torch, PRECISIONS[dtype][0])
    a = torch.randn(n, n, device=device).to(torch_dtype)
    b = torch.randn(n, n, device=device).to(torch_dtype)
    tflops = _rate(torch, device, lambda: torch.mm(a, b), 2 * n**3, 0.3) / 1e12
    count = (2**30 if device.type == "cuda" else 2**27) // 4
    source = torch.empty(count, device=device)
    target = torch.empty_like(source)
    bandwidth = _rate(torch, device, lambda: target.copy_(source), 2 * 4 * count, 0.3) / 1e9
    return tflops, bandwidth


def cache_file() -> Path:
    root = os.environ.get("ARCHCALC_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "archcalc")
    return Path(root) / "peaks.json"


def cached_peak(torch: Any, device: Any, dtype: str, remeasure: bool) -> tuple[float, float]:
    """The device's peak for ``dtype``, measured once and kept in :func:`cache_file`."""
    key = f"{device_name(torch, device)} | {dtype} | torch {torch.__version__}"
    path = cache_file()
    try:
        known = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        known = {}
    if not remeasure and isinstance(known.get(key), list) and len(known[key]) == 2:
        return float(known[key][0]), float(known[key][1])
    peak = measure_peak(torch, device, dtype)
    known[key] = list(peak)
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs a measurement
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(known, indent=1, sort_keys=True))
        os.replace(temporary, path)
    return peak


# ---- models and steps ------------------------------------------------------------------------

def is_out_of_memory(torch: Any, err: BaseException) -> bool:
    if isinstance(err, getattr(torch.cuda, "OutOfMemoryError", ())):
        return True
    text = str(err).lower()
    return isinstance(err, (RuntimeError, MemoryError)) and ("out of memory" in text or "can't allocate memory" in text
                                                             or isinstance(err, MemoryError))


def _tensors(output: Any) -> list[Any]:
    """The tensors of a model's output: one, a tuple, or a namedtuple with None entries."""
    if isinstance(output, (tuple, list)):
        return [item for part in output for item in _tensors(part)]
    return [] if output is None else [output]


@dataclass
class Prepared:
    model: Any  # what is called: the compiled module, or the module itself
    module: Any  # the nn.Module (for profiling labels and parameters)
    step: Callable[[], None]


def prepare(torch: Any, module: Any, settings: Settings, device: Any, batch: int, input_shape: tuple[int, ...]) -> Prepared:
    """``module`` on the device in the benchmark's precision, layout and mode, with its step."""
    dtype = getattr(torch, PRECISIONS[settings.dtype][0])
    cast = settings.dtype in ("bf16", "fp16") and not settings.autocast
    memory_format = torch.channels_last if settings.channels_last and len(input_shape) == 3 else torch.contiguous_format
    module = module.to(device=device, dtype=dtype if cast else None, memory_format=memory_format)
    module.train(settings.mode == "train")
    x = torch.randn(batch, *input_shape, device=device, dtype=dtype if cast else torch.float32)
    if len(input_shape) == 3:
        x = x.contiguous(memory_format=memory_format)
    model = torch.compile(module) if settings.compile else module
    autocast = settings.autocast and settings.dtype in ("bf16", "fp16")

    def precision() -> Any:
        return torch.autocast(device.type, dtype=dtype) if autocast else contextlib.nullcontext()

    if settings.mode == "inference":
        def step() -> None:
            with torch.inference_mode(), precision():
                model(x)
    else:
        optimizer = torch.optim.SGD(module.parameters(), lr=1e-3)

        def step() -> None:
            with precision():
                loss = sum(t.float().mean() for t in _tensors(model(x)))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

    return Prepared(model, module, step)


# ---- the benchmark ---------------------------------------------------------------------------

ModelFactory = Callable[[], Any]
Progress = Callable[[str], None]


def counted_flops(analysis: Analysis, settings: Settings) -> tuple[int, str]:
    """FLOPs per image as archcalc counts them for this benchmark, and how."""
    preset = analysis.conventions.preset
    if settings.mode == "train":
        return (TRAIN_FLOPS_FACTOR * analysis.flops_under(settings.convention, include_training_only=True),
                f"{TRAIN_FLOPS_FACTOR} × the forward pass, training-only layers included; "
                f"{settings.convention}: {preset.counts}")
    return analysis.flops_under(settings.convention), f"the forward pass, inference layers; {settings.convention}: " \
                                                      f"{preset.counts}"


def predicted_memory(graph: Graph, settings: Settings, batch: int) -> int:
    """Parameters (+ gradients in training) and every layer's output, for the batch and dtype."""
    values_dtype = PRECISIONS[settings.dtype][1]
    weights_dtype = "float32" if settings.autocast else values_dtype
    values = analyze(graph, Conventions(dtype=values_dtype, batch=batch))
    weights = analyze(graph, Conventions(dtype=weights_dtype)).totals.param_bytes
    train = settings.mode == "train"
    activations = sum(row.activation_bytes for row in values.rows if train or not row.training_only)
    return weights * (2 if train else 1) + activations


def run_benchmark(spec: str, graph: Graph, settings: Settings, progress: Progress = lambda _: None,
                  reference: ModelFactory | None = None) -> Report:
    """Benchmark the lowered ``graph`` (and ``reference`` interleaved with it, when given)."""
    torch = import_torch()
    device = resolve_device(torch, settings.device)
    configure(torch, settings)
    analysis = analyze(graph, Conventions(flops=settings.convention))
    flops, counted = counted_flops(analysis, settings)
    progress(f"measuring the peak of {device_name(torch, device)} in {settings.dtype}")
    peak, bandwidth = cached_peak(torch, device, settings.dtype, settings.remeasure)
    report = Report(spec, graph.name, settings, environment(torch, device), flops, counted, peak, bandwidth)
    factories: list[tuple[str, ModelFactory]] = [("archcalc", lambda: to_module(graph))]
    if reference is not None:
        factories.append((settings.against or "reference", reference))
    for batch in settings.batches:
        rows = _bench_batch(torch, device, graph, analysis, settings, batch, factories, progress, peak)
        report.runs += rows
        ours, theirs = rows[0], rows[-1] if len(rows) > 1 else None
        if theirs is not None and ours.images_per_s and theirs.images_per_s:
            ours.vs_reference = ours.images_per_s / theirs.images_per_s
    if settings.profile:
        batch = next((run.batch for run in report.runs if run.status == "ok" and run.model == "archcalc"), None)
        if batch is not None:
            progress(f"profiling batch {batch}")
            report.layers = profile_layers(torch, device, graph, analysis, settings, batch, peak, bandwidth)
    return report


def _bench_batch(torch: Any, device: Any, graph: Graph, analysis: Analysis, settings: Settings, batch: int,
                 factories: list[tuple[str, ModelFactory]], progress: Progress, peak: float) -> list[Run]:
    """Time every model at one batch size, their repeats interleaved (ours, theirs, theirs, ours, ...)."""
    runs = [Run(name, batch, predicted_memory_bytes=predicted_memory(graph, settings, batch)) for name, _ in factories]
    prepared: list[Prepared | None] = []
    for (name, factory), run in zip(factories, runs):
        progress(f"batch {batch}, {settings.dtype}, {settings.mode}: preparing {name}")
        prepared.append(_guarded(torch, run, lambda: _warm(torch, device, factory, settings, batch,
                                                           analysis.input_shape, run)))
    samples: list[list[float]] = [[] for _ in factories]
    for r in range(settings.repeat):
        order = range(len(factories)) if r % 2 == 0 else reversed(range(len(factories)))
        for i in order:
            item = prepared[i]
            if item is None or runs[i].status != "ok":
                continue
            progress(f"batch {batch}: timing {factories[i][0]} ({r + 1}/{settings.repeat})")
            latency = _guarded(torch, runs[i], lambda: time_steps(torch, device, item.step, settings.iters))
            if latency is not None:
                samples[i].append(latency)
    for i, run in enumerate(runs):
        if run.status == "ok" and samples[i]:
            _fill(run, samples[i], analysis, settings, torch, device, peak)
    prepared.clear()
    _release(torch, device)
    return runs


def _warm(torch: Any, device: Any, factory: ModelFactory, settings: Settings, batch: int,
          input_shape: tuple[int, ...], run: Run) -> Prepared:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    item = prepare(torch, factory(), settings, device, batch, input_shape)
    for index in range(max(settings.warmup, 1)):  # the first call compiles, under --compile
        start = time.perf_counter()
        item.step()
        synchronize(torch, device)
        if index == 0:
            run.first_call_s = time.perf_counter() - start
    return item


def _guarded(torch: Any, run: Run, action: Callable[[], Any]) -> Any:
    """``action()``, or None with the run marked 'out of memory' when the device runs out, or
    'failed' when PyTorch cannot run the network so (bf16 LRN on a CPU): a row, not a crash."""
    try:
        return action()
    except (RuntimeError, MemoryError, NotImplementedError, TypeError, ValueError) as err:
        run.status = "out of memory" if is_out_of_memory(torch, err) else "failed"
        text = str(err).strip()
        run.message = f"{type(err).__name__}: {text.splitlines()[0][:200]}" if text else type(err).__name__
        return None


def _fill(run: Run, samples: list[float], analysis: Analysis, settings: Settings, torch: Any, device: Any,
          peak: float) -> None:
    run.latency_ms = statistics.median(samples)
    run.latency_min_ms, run.latency_max_ms = min(samples), max(samples)
    run.images_per_s = run.batch / (run.latency_ms / 1000)
    flops, _ = counted_flops(analysis, settings)
    run.tflops = flops * run.images_per_s / 1e12
    run.peak_share = run.tflops / peak if peak else None
    if device.type == "cuda":
        run.peak_memory_bytes = int(torch.cuda.max_memory_allocated(device))


def _release(torch: Any, device: Any) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


# ---- per-layer profile -----------------------------------------------------------------------

def layer_bytes(row: Any, batch: int, value_bytes: int, weight_bytes: int) -> int:
    """Bytes a layer moves at least once: its inputs and output for the batch, and its weights."""
    return (row.ops.in_elems + row.ops.out_elems) * batch * value_bytes + row.params.trainable * weight_bytes


def profile_layers(torch: Any, device: Any, graph: Graph, analysis: Analysis, settings: Settings, batch: int,
                   peak_tflops: float, bandwidth_gbs: float) -> list[LayerTime]:
    """Forward time per layer from torch.profiler, each layer in its 'archcalc::<name>' range
    (the eager model: compiled graphs do not keep the ranges)."""
    eager = replace(settings, compile=False)
    item = prepare(torch, to_module(graph), eager, device, batch, analysis.input_shape)
    item.step()
    item.module._label_steps = True
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    iters = max(1, min(settings.iters, 10))
    with torch.profiler.profile(activities=activities) as prof:
        for _ in range(iters):
            item.step()
        synchronize(torch, device)
    times = _range_times(prof, device, iters)
    rows = {row.name: row for row in analysis.rows}
    value_bytes = Conventions(dtype=PRECISIONS[settings.dtype][1]).bytes_per_value
    weight_bytes = 4 if settings.autocast else value_bytes
    ridge = peak_tflops * 1e12 / (bandwidth_gbs * 1e9) if bandwidth_gbs else float("inf")
    total = sum(times.values()) or 1.0
    layers = []
    for name, ms in times.items():
        row = rows.get(name)
        if row is None:
            continue
        flops = row.flops * batch
        moved = layer_bytes(row, batch, value_bytes, weight_bytes) or 1
        intensity = flops / moved
        layers.append(LayerTime(name, row.type, ms, ms / total, flops, flops / (ms / 1000) / 1e12 if ms else 0.0,
                                intensity, "compute" if intensity >= ridge else "memory"))
    return sorted(layers, key=lambda layer: -layer.time_ms)


def _range_times(prof: Any, device: Any, iters: int) -> dict[str, float]:
    """Milliseconds per step inside each layer's range (device time on a GPU)."""
    times: dict[str, float] = {}
    for event in prof.key_averages():
        if not event.key.startswith(STEP_LABEL):
            continue
        if device.type == "cuda":
            micros = getattr(event, "device_time_total", None) or getattr(event, "cuda_time_total", 0)
        else:
            micros = event.cpu_time_total
        name = event.key[len(STEP_LABEL):]
        times[name] = times.get(name, 0.0) + micros / 1000 / iters
    return times


# ---- roofline plot ---------------------------------------------------------------------------

def roofline_svg(report: Report, graph: Graph) -> bytes:
    """A roofline (log-log: FLOP/byte against TFLOP/s) with the measured peak and bandwidth, the
    profiled layers (when profiled) and each run of the network."""
    try:
        import matplotlib
    except ImportError:
        raise ArchcalcError("--plot needs matplotlib, which is not installed",
                            hint="pip install 'archcalc[plot]'") from None
    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt

    analysis = analyze(graph, Conventions(flops=report.settings.convention))
    value_bytes = Conventions(dtype=PRECISIONS[report.settings.dtype][1]).bytes_per_value
    figure, axes = plt.subplots(figsize=(7, 4.5))
    points = [(layer.intensity, layer.tflops) for layer in report.layers if layer.tflops > 0]
    for run in report.runs:
        if run.tflops:
            moved = sum(layer_bytes(row, run.batch, value_bytes, value_bytes) for row in analysis.rows) or 1
            intensity = report.flops_per_image * run.batch / moved
            axes.scatter([intensity], [run.tflops], marker="*", s=120, zorder=3,
                         label=f"{run.model}, batch {run.batch}")
            points.append((intensity, run.tflops))
    if report.layers:
        axes.scatter([p[0] for p in points[: len(report.layers)]], [p[1] for p in points[: len(report.layers)]],
                     s=12, alpha=0.6, label="layers (profiled)")
    low = min([p[0] for p in points] + [0.1]) / 2
    high = max([p[0] for p in points] + [10_000.0]) * 2
    xs = [low * (high / low) ** (i / 200) for i in range(201)]
    axes.plot(xs, [min(report.peak_tflops, report.bandwidth_gbs * x / 1000) for x in xs], color="black",
              label=f"roofline: {report.peak_tflops:,.3g} TFLOP/s, {report.bandwidth_gbs:,.3g} GB/s")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("arithmetic intensity (FLOP / byte)")
    axes.set_ylabel("TFLOP/s")
    axes.set_title(f"{report.network}: {report.settings.dtype}, {report.settings.mode} on {report.environment['device']}",
                   fontsize=9)
    axes.legend(fontsize=7)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    return buffer.getvalue()
