"""Counting conventions, defined once: output size, parameters, FLOPs, memory.

Every number archcalc prints depends on a choice somebody could make differently.
This module is the single place those choices are made and named, so that reports can
say which one they used (``Conventions.describe``).

Output size of a sliding window (conv, pooling), per axis, PyTorch's formula::

    out = floor((L + p_before + p_after - d*(k - 1) - 1) / s) + 1

``p_before``/``p_after`` are the padding on each side (``padding: 2`` means 2 per side,
4 in total). When the division is not exact the window does not tile the input: the
last ``remainder`` pixels are never read. PyTorch floors silently; archcalc floors and
warns (``rounding=floor``), or rejects the layer (``rounding=error``, the CS231n
convention that such a hyper-parameter choice is invalid). Pooling layers may ask for
``ceil_mode`` (PyTorch's rule, including its "the last window must start inside the
input or left padding" correction).

Parameters: trainable parameters are what ``torch.nn.Module.parameters()`` counts
(weights, biases, BatchNorm gamma/beta). BatchNorm running mean and variance are
non-trainable state, reported separately (Keras adds them to its "Total params");
PyTorch's ``num_batches_tracked`` counter is not a parameter and is not counted.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class Rounding(str, enum.Enum):
    """What to do when a window does not tile its input exactly."""

    FLOOR = "floor"  # PyTorch / Keras 'valid': drop the leftover pixels, warn
    CEIL = "ceil"  # round every inexact window up (PyTorch's ceil_mode everywhere; some answer keys)
    ERROR = "error"  # CS231n: "invalid hyper-parameters", reject the spec


@dataclass(frozen=True)
class OpRecord:
    """What a FLOP convention may look at for one layer (batch 1).

    ``macs``, ``bias`` and ``other`` come from the layer's cost rule (see
    ``archcalc.layers.base.Cost``); ``kind`` is the PyTorch operation family it lowers to.
    """

    kind: str
    macs: int
    bias: int
    other: int
    in_elems: int
    out_elems: int
    trainable_params: int


_POOLS = ("max_pool", "avg_pool", "adaptive_avg_pool", "adaptive_max_pool")


@dataclass(frozen=True)
class FlopPreset:
    """A named way of turning a layer's operations into one number."""

    name: str
    unit: str  # what the tool calls its number
    counts: str  # one line: what this preset adds up
    formula: Callable[[OpRecord], int]


def _if(condition: bool, value: int) -> int:
    return value if condition else 0


FLOP_PRESETS: dict[str, FlopPreset] = {
    preset.name: preset
    for preset in (
        FlopPreset("macs", "MACs", "multiply-accumulates of conv and linear (papers; torchvision's _ops)",
                   lambda op: op.macs),
        FlopPreset("torch", "FLOPs", "2 × MACs of conv and linear (PyTorch FlopCounterMode)",
                   lambda op: 2 * op.macs),
        FlopPreset("full", "FLOPs", "2 × MACs + bias adds + BatchNorm, activations, pooling, element-wise ops "
                   "(archcalc's count, per layer docstring)",
                   lambda op: 2 * op.macs + op.bias + op.other),
        FlopPreset("fvcore", "flops (MACs)", "MACs + 2 × BatchNorm elements + adaptive-avg-pool input elements "
                   "(fvcore FlopCountAnalysis)",
                   lambda op: op.macs + _if(op.kind == "bn", 2 * op.in_elems)
                   + _if(op.kind == "adaptive_avg_pool", op.in_elems)),
        FlopPreset("torchinfo", "Mult-Adds", "MACs + bias adds + BatchNorm γ/β count per BN layer (torchinfo summary)",
                   lambda op: op.macs + op.bias + _if(op.kind == "bn", op.trainable_params)),
        FlopPreset("thop", "MACs", "MACs + 4 × BatchNorm elements + avg-pool outputs + adaptive-avg-pool inputs "
                   "and outputs; ReLU, max-pool free (thop profile)",
                   lambda op: op.macs + _if(op.kind == "bn", 4 * op.in_elems) + _if(op.kind == "avg_pool", op.out_elems)
                   + _if(op.kind == "adaptive_avg_pool", op.in_elems + op.out_elems)),
        FlopPreset("ptflops", "MACs", "MACs + bias adds + 2 × BatchNorm elements + 2 × ReLU and pooling inputs "
                   "(ptflops, pytorch backend: module hook and functional patch both fire)",
                   lambda op: op.macs + op.bias + _if(op.kind == "bn", 2 * op.in_elems)
                   + _if(op.kind == "relu" or op.kind in _POOLS, 2 * op.in_elems)),
        FlopPreset("ptflops_aten", "MACs", "MACs + bias adds (ptflops, aten backend)",
                   lambda op: op.macs + op.bias),
        FlopPreset("calflops", "FLOPs", "2 × MACs + conv bias adds + 2 × BatchNorm elements + ReLU and pooling "
                   "inputs (calflops)",
                   lambda op: 2 * op.macs + _if(op.kind == "conv", op.bias) + _if(op.kind == "bn", 2 * op.in_elems)
                   + _if(op.kind == "relu" or op.kind in _POOLS, op.in_elems)),
    )
}
"""Every preset reproduces its tool on a network built from torch.nn modules; where a
model calls an activation or pooling functionally, hook-based tools (thop, ptflops,
torchinfo) see less than the architecture holds, and no spec can know that."""

class Layout(str, enum.Enum):
    """The order in which a shape is printed. Internally shapes are always C×H×W."""

    CHW = "chw"  # PyTorch
    HWC = "hwc"  # Keras, TensorFlow, the papers and CS231n

    @property
    def label(self) -> str:
        return "C×H×W" if self is Layout.CHW else "H×W×C"

    def format(self, shape: tuple[int, ...]) -> str:
        """``96×55×55`` (chw) or ``55×55×96`` (hwc); vectors print as their length."""
        dims = shape if self is Layout.CHW or len(shape) != 3 else (*shape[1:], shape[0])
        return "×".join(str(d) for d in dims)


DTYPE_BYTES: dict[str, int] = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


@dataclass(frozen=True)
class Conventions:
    """The conventions an analysis runs under."""

    rounding: Rounding = Rounding.FLOOR
    flops: str = "torch"
    dtype: str = "float32"
    batch: int = 1

    def __post_init__(self) -> None:
        if self.flops not in FLOP_PRESETS:
            raise ValueError(f"unknown FLOP convention {self.flops!r}")
        if self.dtype not in DTYPE_BYTES:
            raise ValueError(f"unknown dtype {self.dtype!r}")
        if self.batch < 1:
            raise ValueError("batch must be at least 1")

    @property
    def preset(self) -> FlopPreset:
        return FLOP_PRESETS[self.flops]

    @property
    def bytes_per_value(self) -> int:
        return DTYPE_BYTES[self.dtype]

    def describe(self) -> list[str]:
        """One line per convention, for report headers."""
        size = "floor((L + pad_before + pad_after - dilation*(k-1) - 1)/stride) + 1 (PyTorch); " + {
            Rounding.FLOOR: "inexact windows warn",
            Rounding.CEIL: "inexact windows round up (ceil)",
            Rounding.ERROR: "inexact windows are an error (CS231n)",
        }[self.rounding]
        return [
            f"output size: {size}",
            "params: trainable = weights + biases + BatchNorm gamma/beta (torch parameters()); "
            "non-trainable = BatchNorm running mean/var",
            "MACs: multiply-accumulates of conv and linear layers, bias excluded, batch 1",
            f"FLOPs ({self.flops}): {self.preset.counts}",
            f"memory: forward activations (every layer output except views such as flatten), "
            f"batch {self.batch}, {self.dtype} ({self.bytes_per_value} bytes per value); parameters in the same dtype",
            "receptive field: size, effective stride and effective padding per axis (Araujo et al., Distill 2019)",
        ]


@dataclass(frozen=True)
class WindowAxis:
    """The result of sliding a window along one axis."""

    size: int  # output length
    remainder: int  # input pixels past the last full window (0 when the window tiles exactly)
    numerator: int  # L + pads - d*(k-1) - 1, kept for worked explanations


def window_output(
    length: int,
    kernel: int,
    stride: int,
    pad_before: int,
    pad_after: int,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> WindowAxis:
    """Output length of a window sliding over one axis (see the module docstring).

    In ceil mode the last window may overhang the end of the padded input by up to
    stride − 1 pixels, as long as it starts inside the input or its left padding (PyTorch).
    Raises ValueError when no window fits; callers turn that into a located error.
    """
    span = length + pad_before + pad_after - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = (span + stride - 1) // stride + 1
        if (out - 1) * stride >= length + pad_before:
            out -= 1
        remainder = 0
    else:
        out = span // stride + 1
        remainder = span % stride
    if out < 1:
        raise ValueError(
            f"kernel {kernel}"
            + (f" (dilated to {dilation * (kernel - 1) + 1})" if dilation > 1 else "")
            + f" does not fit an input of {length} with padding {pad_before}+{pad_after}"
        )
    return WindowAxis(out, remainder, span)


def same_padding(length: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """Per-side padding for 'same' (TensorFlow's rule; PyTorch's for stride 1).

    Output is ceil(L / s); the total padding needed is split with the extra pixel
    after (bottom/right), as both TensorFlow and PyTorch do.
    """
    out = -(-length // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - length, 0)
    return total // 2, total - total // 2
