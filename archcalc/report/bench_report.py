"""``archcalc bench`` results as text, CSV or JSON (the schema is docs/bench.md)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tabulate import tabulate

from ..backends.bench import Report, Run
from .columns import format_bytes

SCHEMA = "archcalc.bench/1"
TOP_LAYERS = 10


def _number(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.{digits}g}"


def _latency(run: Run) -> str:
    if run.latency_ms is None:
        return "—"
    return f"{run.latency_ms:.3g} ({run.latency_min_ms:.3g}–{run.latency_max_ms:.3g})"


def _bytes(value: int | None) -> str:
    return "—" if value is None else format_bytes(value)


def _run_row(run: Run, reference: str | None) -> list[str]:
    row = [run.model, str(run.batch), run.status if not run.message else f"{run.status}: {run.message[:40]}",
           _number(run.images_per_s), _latency(run), _number(run.tflops),
           "—" if run.peak_share is None else f"{run.peak_share:.1%}", _bytes(run.peak_memory_bytes),
           _bytes(run.predicted_memory_bytes), _number(run.first_call_s)]
    if reference:
        row.append("—" if run.vs_reference is None else f"{run.vs_reference:.3f}×")
    return row


def render_text(report: Report) -> str:
    s, env = report.settings, report.environment
    precision = s.dtype + (" (autocast)" if s.autocast else "") + (", channels-last" if s.channels_last else "")
    lines = [
        f"{report.network} ({report.spec}): {s.mode}, {precision}{', compiled' if s.compile else ''}, "
        f"on {env['device']}",
        f"torch {env['torch']}" + (f", CUDA {env['cuda']}, cuDNN {env['cudnn']}" if "cuda" in env else "")
        + f"; {s.warmup} warm-up, median of {s.repeat} × {s.iters} steps",
        f"FLOPs per image: {report.flops_per_image:,}, counting {report.flops_counted}",
        f"Peak: {report.peak_tflops:,.2f} TFLOP/s ({s.dtype} matmul), memory bandwidth {report.bandwidth_gbs:,.1f} GB/s "
        "(measured on this device)",
        "",
    ]
    headers = ["model", "batch", "status", "img/s", "ms/batch (min–max)", "TFLOP/s", "of peak", "peak mem",
               "predicted mem", "first call s"]
    if s.against:
        headers.append(f"vs {s.against}")
    lines.append(tabulate([_run_row(run, s.against) for run in report.runs], headers, tablefmt="simple",
                          disable_numparse=True))
    if report.layers:
        lines += ["", f"Slowest layers (forward, batch {_profiled_batch(report)}; all {len(report.layers)} in --format json):", ""]
        rows = [[layer.name, layer.type, f"{layer.time_ms:.3g}", f"{layer.share:.1%}", _number(layer.tflops),
                 _number(layer.intensity), layer.bound] for layer in report.layers[:TOP_LAYERS]]
        lines.append(tabulate(rows, ["layer", "type", "ms", "share", "TFLOP/s", "FLOP/byte", "bound"],
                              tablefmt="simple", disable_numparse=True))
    return "\n".join(lines) + "\n"


def _profiled_batch(report: Report) -> int:
    return next((run.batch for run in report.runs if run.status == "ok"), 0)


def render_json(report: Report) -> str:
    return json.dumps({"schema": SCHEMA, **report.to_dict()}, indent=2, ensure_ascii=False) + "\n"


CSV_FIELDS = ("model", "batch", "status", "images_per_s", "latency_ms", "latency_min_ms", "latency_max_ms", "tflops",
              "peak_share", "peak_memory_bytes", "predicted_memory_bytes", "first_call_s", "vs_reference", "message")


def render_csv(report: Report) -> str:
    """One row per run, raw numbers, with the settings and environment repeated on each row."""
    s = report.settings
    context: dict[str, Any] = {"spec": report.spec, "device": report.environment["device"], "dtype": s.dtype,
                               "mode": s.mode, "compiled": s.compile, "channels_last": s.channels_last,
                               "flops_per_image": report.flops_per_image, "peak_tflops": report.peak_tflops}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*context, *CSV_FIELDS])
    for run in report.runs:
        writer.writerow([*context.values(), *(getattr(run, name) for name in CSV_FIELDS)])
    return buffer.getvalue()


FORMATS = {"text": render_text, "json": render_json, "csv": render_csv}


def render_bench(report: Report, fmt: str = "text") -> str:
    return FORMATS[fmt](report)
