"""Counting conventions, defined once.

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
from dataclasses import dataclass


class Rounding(str, enum.Enum):
    """What to do when a window does not tile its input exactly."""

    FLOOR = "floor"  # PyTorch / Keras 'valid': drop the leftover pixels, warn
    ERROR = "error"  # CS231n: "invalid hyper-parameters", reject the spec


@dataclass(frozen=True)
class Conventions:
    """The conventions an analysis runs under."""

    rounding: Rounding = Rounding.FLOOR

    def describe(self) -> list[str]:
        """One line per convention, for report headers."""
        size = (
            "floor((L + pad_before + pad_after - dilation*(k-1) - 1)/stride) + 1 (PyTorch); "
            + ("inexact windows warn" if self.rounding is Rounding.FLOOR else "inexact windows are an error (CS231n)")
        )
        return [
            f"output size: {size}",
            "params: trainable = weights + biases + BatchNorm gamma/beta (torch parameters()); "
            "non-trainable = BatchNorm running mean/var",
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

    Raises ValueError when the (dilated) kernel is larger than the padded input;
    callers turn that into a located error.
    """
    span = length + pad_before + pad_after - dilation * (kernel - 1) - 1
    if span < 0:
        raise ValueError(
            f"kernel {kernel}"
            + (f" (dilated to {dilation * (kernel - 1) + 1})" if dilation > 1 else "")
            + f" does not fit an input of {length} with padding {pad_before}+{pad_after}"
        )
    out, remainder = divmod(span, stride)
    out += 1
    if ceil_mode and remainder:
        out += 1
        # PyTorch: the last window must start inside the input or the left padding.
        if (out - 1) * stride >= length + pad_before:
            out -= 1
        remainder = 0
    return WindowAxis(out, remainder, span)


def same_padding(length: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """Per-side padding for 'same' (TensorFlow's rule; PyTorch's for stride 1).

    Output is ceil(L / s); the total padding needed is split with the extra pixel
    after (bottom/right), as both TensorFlow and PyTorch do.
    """
    out = -(-length // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - length, 0)
    return total // 2, total - total // 2
