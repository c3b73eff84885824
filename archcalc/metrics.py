"""The per-layer quantities archcalc reports, named once.

Table columns, JSON keys, grading quantities, worked explanations, and the diagram's
``--show`` and ``--color-by`` all refer to a metric by its :class:`Metric` value, and take its
header, unit and labels from :data:`METRICS`, so "memory" is one word everywhere (and always
in the same unit).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import NamedTuple


class Metric(str, enum.Enum):
    OUTPUT_SHAPE = "output_shape"
    PARAMS = "params"
    MACS = "macs"
    FLOPS = "flops"
    MEMORY = "memory"
    RF = "rf"


def format_bytes(count: int) -> str:
    """Binary units, labelled as such (1 MiB = 2**20 bytes)."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def compact_count(value: float) -> str:
    """1.2K, 3.4M, 5.6G: counts where space is short (diagram labels)."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:.0f}"


def si_count(value: float) -> str:
    """3 significant digits and an SI prefix, as torchinfo prints totals: 1.81 G, 62.4 M, 448."""
    for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.3g}"


class MetricInfo(NamedTuple):
    header: str  # table header
    unit: str  # what the number counts: 'parameters', 'bytes', ...; '' for shapes and fields
    json_key: str  # the per-layer key of `summary --format json` (docs/json-schema.md)
    label: str  # on a diagram node
    compact: Callable[[float], str]  # the value where space is short
    quantity: str | None = None  # the answer-key quantity that asks for it (docs/grading.md)


METRICS: dict[Metric, MetricInfo] = {
    Metric.OUTPUT_SHAPE: MetricInfo("Output", "", "output_shape", "", str, "output_shape"),
    Metric.PARAMS: MetricInfo("Params", "parameters", "params", "params", compact_count, "params"),
    Metric.MACS: MetricInfo("MACs", "multiply-accumulates", "macs", "MACs", compact_count, "macs"),
    Metric.FLOPS: MetricInfo("FLOPs", "FLOPs", "flops", "FLOPs", compact_count, "flops"),
    Metric.MEMORY: MetricInfo("Memory", "bytes", "activation_bytes", "memory", format_bytes, "activation_memory"),
    Metric.RF: MetricInfo("RF", "input pixels", "rf", "RF", str, "rf"),
}

SHOWABLE = (Metric.PARAMS, Metric.MACS, Metric.RF, Metric.MEMORY)
"""The numbers a diagram node can show (``render --show``)."""

SCALAR = (Metric.PARAMS, Metric.MACS, Metric.MEMORY)
"""Metrics with one number per layer: what a colour scale can follow (``render --color-by``)."""

EXPLAINED = (Metric.OUTPUT_SHAPE, Metric.PARAMS, Metric.MACS, Metric.RF)
"""The metrics every layer's ``explain`` rule works out (its keys are these metrics' values)."""


def metric_of_quantity(quantity: str) -> Metric:
    """The metric an answer-key quantity asks for ('activation_memory' -> Metric.MEMORY)."""
    return next(metric for metric, info in METRICS.items() if info.quantity == quantity)
