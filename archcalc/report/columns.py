"""The columns a summary can show, defined once: header, JSON key, and how to read a row."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..analysis import LayerRow
from ..layers import Shape


class Layout(str, enum.Enum):
    """Order in which a shape is printed. Internally shapes are always C×H×W."""

    CHW = "chw"  # PyTorch
    HWC = "hwc"  # Keras, TensorFlow, the papers and CS231n

    @property
    def label(self) -> str:
        return "C×H×W" if self is Layout.CHW else "H×W×C"


def format_shape(shape: Shape, layout: Layout) -> str:
    """``96×55×55`` (chw) or ``55×55×96`` (hwc); vectors print as their length."""
    dims = shape if layout is Layout.CHW or len(shape) != 3 else (*shape[1:], shape[0])
    return "×".join(str(d) for d in dims)


@dataclass(frozen=True)
class Column:
    key: str  # JSON key and --columns name
    header: str
    value: Callable[[LayerRow, Layout], Any]
    numeric: bool = False


_ALL = (
    Column("name", "Layer", lambda r, _: r.name),
    Column("type", "Type", lambda r, _: r.type),
    Column("hparams", "Hyper-params", lambda r, _: r.hparams),
    Column("output_shape", "Output", lambda r, layout: format_shape(r.output_shape, layout)),
    Column("params", "Params", lambda r, _: r.params.total, numeric=True),
)

COLUMNS: dict[str, Column] = {column.key: column for column in _ALL}
DEFAULT_COLUMNS: tuple[str, ...] = ("name", "type", "hparams", "output_shape", "params")
