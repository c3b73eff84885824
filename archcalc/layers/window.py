"""Sliding-window geometry shared by convolution and pooling layers.

The arithmetic itself is :func:`archcalc.conventions.window_output`; this module adds
what a layer needs around it: resolving 'same' padding against the input, applying
the rounding convention (warn or reject an inexact window), and wording the warning
with the formula a student would write.
"""

from __future__ import annotations

from fractions import Fraction

from ..conventions import Rounding, WindowAxis, effective_kernel, same_padding, window_output
from ..receptive_field import AxisRF
from ..errors import LayerError
from ..receptive_field import RF
from .base import RuleContext, TorchModule, TorchOp, num, per_axis

Padding = tuple[tuple[int, int], tuple[int, int]]


def resolve_padding(
    padding: object,
    hw: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> Padding:
    """Per-side padding ((top, bottom), (left, right)); 'same' depends on the input size."""
    if padding == "same":
        return (
            same_padding(hw[0], kernel[0], stride[0], dilation[0]),
            same_padding(hw[1], kernel[1], stride[1], dilation[1]),
        )
    return padding  # type: ignore[return-value]


def window_rf(field: RF, kernel: tuple[int, int], stride: tuple[int, int], padding: Padding,
              dilation: tuple[int, int]) -> RF:
    """The field after a sliding window (conv, pooling, padding)."""
    return RF(
        field.h.window(kernel[0], stride[0], padding[0][0], dilation[0]),
        field.w.window(kernel[1], stride[1], padding[1][0], dilation[1]),
    )


def windowed_torch_op(cls: str, padding: Padding, pad_value: float = 0.0, **kwargs) -> TorchOp:
    """A window module with PyTorch's symmetric ``padding=(ph, pw)``, or, where the padding
    is asymmetric ('same' with an even window, explicit per-side padding), an explicit pad
    module (filled with ``pad_value``) before the window with ``padding=0``."""
    (top, bottom), (left, right) = padding
    if top == bottom and left == right:
        return TorchOp((TorchModule(cls, (*kwargs.items(), ("padding", (top, left)))),))
    pad = TorchModule("ConstantPad2d", (("padding", (left, right, top, bottom)), ("value", pad_value)))
    return TorchOp((pad, TorchModule(cls, (*kwargs.items(), ("padding", (0, 0))))))


def explain_window(hw: tuple[int, int], out_hw: tuple[int, int], kernel, stride, padding: Padding, dilation) -> str:
    """The output-size formula per axis, with the rounding the result shows."""
    parts = []
    for i in range(2):
        text = axis_formula(hw[i], kernel[i], dilation[i], padding[i], stride[i])
        k_eff = effective_kernel(kernel[i], dilation[i])
        exact = (hw[i] + sum(padding[i]) - k_eff) % stride[i] == 0
        if dilation[i] > 1:
            text = f"k' = {dilation[i]}·({kernel[i]} − 1) + 1 = {k_eff}; " + text
        if not exact:
            text += f" → {'ceil' if out_hw[i] > (hw[i] + sum(padding[i]) - k_eff) // stride[i] + 1 else 'floor'} {out_hw[i]}"
        parts.append(text)
    return per_axis(*parts)


def explain_window_rf(before: tuple[AxisRF, AxisRF], after: tuple[AxisRF, AxisRF], kernel, stride,
                      padding: Padding, dilation) -> str:
    """r' = r + (k' − 1)·j, j' = j·s, P' = P + p·j, numbers substituted, per axis."""
    parts = []
    for i in range(2):
        b, a = before[i], after[i]
        k_eff = effective_kernel(kernel[i], dilation[i])
        parts.append(
            f"size {num(b.size)} + ({k_eff} − 1)·{num(b.jump)} = {num(a.size)}, "
            f"stride {num(b.jump)}·{stride[i]} = {num(a.jump)}, padding {num(b.padding)} + {padding[i][0]}·{num(b.jump)} = {num(a.padding)}"
        )
    return per_axis(*parts)


def axis_formula(length: int, kernel: int, dilation: int, pads: tuple[int, int], stride: int) -> str:
    """The output-size formula with numbers substituted, CS231n style."""
    k_eff = effective_kernel(kernel, dilation)
    pad = f"2·{pads[0]}" if pads[0] == pads[1] else f"{pads[0]} + {pads[1]}"
    value = Fraction(length + pads[0] + pads[1] - k_eff, stride) + 1
    shown = f"{float(value):.4g}" if value.denominator != 1 else str(value)
    return f"({length} − {k_eff} + {pad})/{stride} + 1 = {shown}"


def slide(
    hw: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: Padding,
    dilation: tuple[int, int],
    ctx: RuleContext,
    ceil_mode: bool = False,
) -> tuple[int, int]:
    """Output (H, W) of a window; warns or raises per the rounding convention."""
    ceil_mode = ceil_mode or ctx.conventions.rounding is Rounding.CEIL
    axes: list[WindowAxis] = []
    for i in range(2):
        try:
            axes.append(window_output(hw[i], kernel[i], stride[i], *padding[i], dilation[i], ceil_mode))
        except ValueError as err:
            raise LayerError(
                f"{err} ({'height' if i == 0 else 'width'} axis)",
                hint="reduce the kernel or add padding; earlier layers may have shrunk the input too much",
            ) from None
    _check_tiling(hw, kernel, stride, padding, dilation, axes, ctx)
    return axes[0].size, axes[1].size


def _check_tiling(hw, kernel, stride, padding, dilation, axes, ctx: RuleContext) -> None:
    """Warn when a window leaves real input pixels unread at the end of an axis.

    Not warned: a tail of padding only (ResNet's 3×3/2, padding 1, on 56), and kernels
    smaller than their stride (a 1×1/2 projection skips every other pixel by design).
    Under ``--strict`` any inexact division is an error (CS231n calls such hyper-parameters
    invalid)."""
    inexact = [i for i in range(2) if axes[i].remainder]
    if not inexact:
        return
    strict = ctx.conventions.rounding is Rounding.ERROR
    same_axes = len(inexact) == 2 and hw[0] == hw[1] and kernel[0] == kernel[1] and stride[0] == stride[1] \
        and padding[0] == padding[1] and dilation[0] == dilation[1]
    parts, formulas = [], []
    for i in inexact[:1] if same_axes else inexact:
        axis = "H and W" if same_axes else ("H" if i == 0 else "W")
        lost = "row and column" if same_axes else ("row" if i == 0 else "column")
        unread = axes[i].remainder - padding[i][1]  # the unread tail is padding first, then input
        formulas.append(f"{axis}: {axis_formula(hw[i], kernel[i], dilation[i], padding[i], stride[i])}")
        formula = f"{formulas[-1]} is not an integer; floor gives {axes[i].size}"
        k_eff = effective_kernel(kernel[i], dilation[i])
        if unread > 0 and k_eff >= stride[i]:  # with k < s, gaps between windows are by design
            parts.append(f"{formula}, so the last {unread} input {lost}{'s' if unread > 1 else ''} "
                         f"{'are' if unread > 1 else 'is'} never read")
        elif strict:
            parts.append(f"{formula} (only padding is left unread)")
    ctx.note_inexact("; ".join(formulas))
    if not parts:
        return
    message = "; ".join(parts)
    if strict:
        raise LayerError(
            f"the window does not tile its input: {message}",
            hint="change padding or stride so the division is exact, or use --rounding floor to floor as PyTorch does",
        )
    ctx.warn(message)
