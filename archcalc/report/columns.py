"""The columns a summary can show, defined once: key (JSON and --columns), header, value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..conventions import Conventions, Layout
from ..layers import Shape
from ..receptive_field import AxisRF, fmt
from .rows import DisplayRow


def format_shape(shape: Shape, layout: Layout) -> str:
    """``96×55×55`` (chw) or ``55×55×96`` (hwc); vectors print as their length."""
    return layout.format(shape)


def format_bytes(count: int) -> str:
    """Binary units, labelled as such (1 MiB = 2**20 bytes)."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _pair(h: AxisRF, w: AxisRF, attr: str) -> str:
    a, b = fmt(getattr(h, attr)), fmt(getattr(w, attr))
    return a if a == b else f"{a}×{b}"


@dataclass(frozen=True)
class Column:
    key: str
    header: Callable[[Conventions], str]
    value: Callable[[DisplayRow, Layout], Any]
    numeric: bool = False
    human: Callable[[Any], str] | None = None  # text form when different from the raw value


def _const(text: str) -> Callable[[Conventions], str]:
    return lambda _: text


_ALL = (
    Column("name", _const("Layer"), lambda r, _: r.name),
    Column("type", _const("Type"), lambda r, _: r.type),
    Column("hparams", _const("Hyper-params"), lambda r, _: r.hparams),
    Column("output_shape", _const("Output"), lambda r, layout: format_shape(r.output_shape, layout)),
    Column("params", _const("Params"), lambda r, _: r.params, numeric=True),
    Column("macs", _const("MACs"), lambda r, _: r.macs, numeric=True),
    Column("flops", lambda c: f"FLOPs ({c.flops})", lambda r, _: r.flops, numeric=True),
    Column("memory", _const("Memory"), lambda r, _: r.activation_bytes,
           numeric=True, human=format_bytes),
    Column("rf", _const("RF"), lambda r, _: _pair(r.rf.h, r.rf.w, "size")),
    Column("rf_stride", _const("RF stride"), lambda r, _: _pair(r.rf.h, r.rf.w, "jump")),
    Column("rf_padding", _const("RF padding"), lambda r, _: _pair(r.rf.h, r.rf.w, "padding")),
)

COLUMNS: dict[str, Column] = {column.key: column for column in _ALL}
DEFAULT_COLUMNS: tuple[str, ...] = ("name", "type", "hparams", "output_shape", "params", "macs", "flops", "memory", "rf")
