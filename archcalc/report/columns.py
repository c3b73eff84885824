"""The columns a summary can show, defined once: key (JSON and --columns), header, value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ..conventions import Conventions, Layout
from ..metrics import METRICS, Metric, format_bytes  # noqa: F401 - format_bytes: re-exported
from ..layers import Shape
from ..receptive_field import AxisRF, fmt
from .rows import DisplayRow


def format_shape(shape: Shape, layout: Layout) -> str:
    """``96×55×55`` (chw) or ``55×55×96`` (hwc); vectors print as their length."""
    return layout.format(shape)


def _pair(h: AxisRF, w: AxisRF, attr: str) -> str:
    a, b = fmt(getattr(h, attr)), fmt(getattr(w, attr))
    return a if a == b else f"{a}×{b}"


class Column(NamedTuple):
    key: str
    header: Callable[[Conventions], str]
    value: Callable[[DisplayRow, Layout], Any]
    numeric: bool = False
    human: Callable[[Any], str] | None = None  # text form when different from the raw value


def _const(text: str) -> Callable[[Conventions], str]:
    return lambda _: text


def _header(metric: Metric) -> Callable[[Conventions], str]:
    return _const(METRICS[metric].header)


_ALL = (
    Column("name", _const("Layer"), lambda r, _: r.name),
    Column("type", _const("Type"), lambda r, _: r.type),
    Column("hparams", _const("Hyper-params"), lambda r, _: r.hparams),
    Column(Metric.OUTPUT_SHAPE.value, _header(Metric.OUTPUT_SHAPE), lambda r, layout: format_shape(r.output_shape, layout)),
    Column(Metric.PARAMS.value, _header(Metric.PARAMS), lambda r, _: r.params, numeric=True),
    Column(Metric.MACS.value, _header(Metric.MACS), lambda r, _: r.macs, numeric=True),
    Column(Metric.FLOPS.value, lambda c: f"{METRICS[Metric.FLOPS].header} ({c.flops})", lambda r, _: r.flops,
           numeric=True),
    Column(Metric.MEMORY.value, _header(Metric.MEMORY), lambda r, _: r.activation_bytes, numeric=True,
           human=METRICS[Metric.MEMORY].compact),
    Column(Metric.RF.value, _header(Metric.RF), lambda r, _: _pair(r.rf.h, r.rf.w, "size")),
    Column("inputs", _const("Connected to"), lambda r, _: ", ".join(r.inputs)),
    Column("rf_stride", _const("RF stride"), lambda r, _: _pair(r.rf.h, r.rf.w, "jump")),
    Column("rf_padding", _const("RF padding"), lambda r, _: _pair(r.rf.h, r.rf.w, "padding")),
)

COLUMNS: dict[str, Column] = {column.key: column for column in _ALL}
DEFAULT_COLUMNS: tuple[str, ...] = ("name", "type", "hparams", "output_shape", "params", "macs", "flops", "memory", "rf")
