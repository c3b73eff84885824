"""Convolution and pooling over one spatial axis (C×L: audio, sensor signals) or three (C×D×H×W:
video, volumes): PyTorch's ``Conv1d``/``Conv3d``, ``MaxPool``, ``AvgPool`` and the adaptive pools.

The output length per axis is the same formula as in 2-D (:func:`archcalc.conventions.window_output`,
with the rounding convention and the unread-pixel warning), applied to each axis. Padding is
symmetric per axis, as these PyTorch modules take it.

Receptive field: archcalc tracks fields on two image axes. A 3-D layer's field is its field over H
and W (the temporal or depth axis D is not tracked: its extent is the layer's own business, and the
report says so); a 1-D layer's field along L is reported on the W axis, H staying one pixel.
"""

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, ClassVar

from pydantic import model_validator

from ..conventions import OpKind, Rounding, effective_kernel, window_output
from ..errors import LayerError
from ..limits import MAX_DIM
from ..receptive_field import RF, AxisRF
from .base import (Cost, Dim, Layer, num, numel, ParamCount, ParameterFree, register, require, RuleContext,
                   Shape, torch_module, TorchCall, TorchOp, Worked, worked)
from .conv import check_groups, convolution_fields
from .pooling import adaptive_pool_fields, adaptive_window_max, adaptive_window_total, window_pool_fields
from .window import axis_formula

AXES = {1: ("L",), 3: ("D", "H", "W")}


def _sizes(value: Any, rank: int, low: int, field: str) -> tuple[int, ...]:
    """An int, or a list of ``rank`` ints, each in [low, MAX_DIM]."""
    values = [value] * rank if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(values, (list, tuple)) or len(values) != rank \
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f"'{field}': expected an integer or a list of {rank} integers "
                         f"({', '.join(AXES[rank])})")
    for v in values:
        if v < low or v > MAX_DIM:
            raise ValueError(f"'{field}': each value must be in [{low}, {MAX_DIM:,}]")
    return tuple(values)


class _Volume(Layer):
    """Shared by the layers over ``rank`` spatial axes: the input check and the field rule."""

    rank: ClassVar[int] = 3
    SIZE_FIELDS: ClassVar[dict[str, int]] = {}  # field -> lowest value; normalized to tuples of rank values

    @model_validator(mode="before")
    @classmethod
    def _normalize(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "stride" in cls.SIZE_FIELDS and data.get("stride") is None and "kernel" in data and cls._pools():
            data["stride"] = data["kernel"]
        for field, low in cls.SIZE_FIELDS.items():
            if field in data:
                data[field] = _sizes(data[field], cls.rank, low, field)
        return data

    @classmethod
    def _pools(cls) -> bool:
        return False

    def _spatial(self, inputs: Sequence[Shape]) -> tuple[int, ...]:
        shape = inputs[0]
        if len(shape) != self.rank + 1:
            axes = "×".join(("C", *AXES[self.rank]))
            raise LayerError(f"expects a {axes} input, got {'×'.join(map(str, shape))}",
                             hint=f"{self.type_name} works on {self.rank} spatial {'axes' if self.rank > 1 else 'axis'}; "
                                  "the input shape (or an earlier layer) has another number")
        return shape[1:]

    def _image_axes(self) -> tuple[int | None, int]:
        """Which spatial axes carry the H and W fields: (H, W) for 3-D, (none, L) for 1-D."""
        return (1, 2) if self.rank == 3 else (None, 0)

    def _window_field(self, field: RF, kernel, stride, padding, dilation) -> RF:
        h_axis, w_axis = self._image_axes()
        h = field.h if h_axis is None else field.h.window(kernel[h_axis], stride[h_axis], padding[h_axis], dilation[h_axis])
        return RF(h, field.w.window(kernel[w_axis], stride[w_axis], padding[w_axis], dilation[w_axis]))

    def _slide(self, sizes, kernel, stride, padding, dilation, ctx: RuleContext, ceil_mode: bool = False) -> tuple[int, ...]:
        ceil_mode = ceil_mode or ctx.conventions.rounding is Rounding.CEIL
        out, inexact = [], []
        for i, name in enumerate(AXES[self.rank]):
            try:
                axis = window_output(sizes[i], kernel[i], stride[i], padding[i], padding[i], dilation[i], ceil_mode)
            except ValueError as err:
                raise LayerError(f"{err} ({name} axis)", hint="reduce the kernel or add padding") from None
            out.append(axis.size)
            unread = axis.remainder - padding[i]
            if unread > 0 and effective_kernel(kernel[i], dilation[i]) >= stride[i]:
                inexact.append(f"{name}: {axis_formula(sizes[i], kernel[i], dilation[i], (padding[i],) * 2, stride[i])} "
                               f"is not an integer; floor gives {axis.size}, so the last {unread} input "
                               f"position{'s' if unread > 1 else ''} {'are' if unread > 1 else 'is'} never read")
        if inexact:
            ctx.note_inexact("; ".join(inexact))
            if ctx.conventions.rounding is Rounding.ERROR:
                raise LayerError(f"the window does not tile its input: {'; '.join(inexact)}",
                                 hint="change padding or stride, or use --rounding floor to floor as PyTorch does")
            ctx.warn("; ".join(inexact))
        return tuple(out)

    def _size_text(self, sizes, output: Shape, kernel, stride, padding, dilation) -> str:
        return "; ".join(f"{name}: {axis_formula(sizes[i], kernel[i], dilation[i], (padding[i],) * 2, stride[i])}"
                         for i, name in enumerate(AXES[self.rank]))

    def _rf_text(self, field: RF) -> str:
        tracked = "H and W (D is not tracked)" if self.rank == 3 else "L, reported on W"
        return f"size {num(field.h.size)}×{num(field.w.size)} over {tracked}"


class _ConvNd(_Volume):
    """Convolution over ``rank`` axes: out · (C_in/groups) · ∏k weights (+ out biases); each output
    element costs (C_in/groups)·∏k multiply-accumulates and one bias addition."""

    op_kind = OpKind.CONV
    SIZE_FIELDS = {"kernel": 1, "stride": 1, "padding": 0, "dilation": 1}

    out: Dim
    kernel: tuple[int, ...]
    stride: tuple[int, ...] | None = None
    padding: tuple[int, ...] | None = None
    dilation: tuple[int, ...] | None = None
    groups: Dim = 1
    bias: bool = True

    def _geometry(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        ones, zeros = (1,) * self.rank, (0,) * self.rank
        return self.stride or ones, self.padding or zeros, self.dilation or ones

    def _channels(self, inputs: Sequence[Shape]) -> int:
        self._spatial(inputs)
        check_groups(inputs[0][0], self.out, self.groups)
        return inputs[0][0]

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        self._channels(inputs)
        stride, padding, dilation = self._geometry()
        return (self.out, *self._slide(self._spatial(inputs), self.kernel, stride, padding, dilation, ctx))

    def _per_filter(self, inputs: Sequence[Shape]) -> Worked:
        result = worked(self._channels(inputs)).per(self.groups)
        for k in self.kernel:
            result = result * worked(k)
        return result

    def _params(self, inputs: Sequence[Shape]) -> Worked:
        per_filter = self._per_filter(inputs)
        return worked(self.out, "filters").times((per_filter + worked(1, "bias") if self.bias else per_filter).paren())

    def _macs(self, inputs: Sequence[Shape], output: Shape) -> Worked:
        return Worked(numel(output), "·".join(map(str, output)) + " outputs").times(self._per_filter(inputs))

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return ParamCount(self._params(inputs).value, bias=self.out if self.bias else 0)

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(macs=self._macs(inputs, output).value, bias=numel(output) if self.bias else 0)

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        return self._window_field(fields[0], self.kernel, *self._geometry())

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        stride, padding, dilation = self._geometry()
        return {"output_shape": f"{self._size_text(self._spatial(inputs), output, self.kernel, stride, padding, dilation)} "
                                f"→ {'×'.join(map(str, output))}",
                "params": self._params(inputs).result(), "macs": self._macs(inputs, output).result(),
                "rf": self._rf_text(field)}

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        stride, padding, dilation = self._geometry()
        return torch_module(f"Conv{self.rank}d", in_channels=self._channels(inputs), out_channels=self.out,
                            kernel_size=self.kernel, stride=stride, padding=padding, dilation=dilation,
                            groups=self.groups, bias=self.bias)

    def short(self) -> str:
        stride, padding, dilation = self._geometry()
        text = f"{'×'.join(map(str, self.kernel))}/{'×'.join(map(str, stride))}, {self.out}"
        extras = [f"pad {'×'.join(map(str, padding))}" if any(padding) else "",
                  f"dil {'×'.join(map(str, dilation))}" if any(d != 1 for d in dilation) else "",
                  f"groups {self.groups}" if self.groups != 1 else "", "" if self.bias else "no bias"]
        return ", ".join([text, *(e for e in extras if e)])

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        fields = convolution_fields(call)
        require(not isinstance(fields["padding"], str), f"padding '{fields['padding']}' on a {cls.rank}-D convolution")
        return fields


@register("conv1d")
class Conv1d(_ConvNd):
    """1-D convolution (PyTorch ``nn.Conv1d``) over a C×L input."""

    torch_imports = ("Conv1d",)

    rank = 1


@register("conv3d")
class Conv3d(_ConvNd):
    """3-D convolution (PyTorch ``nn.Conv3d``) over a C×D×H×W input (video: D frames)."""

    torch_imports = ("Conv3d",)

    rank = 3


class _PoolNd(ParameterFree, _Volume):
    """Max or average pooling over ``rank`` axes; ``stride`` defaults to the kernel."""

    SIZE_FIELDS = {"kernel": 1, "stride": 1, "padding": 0}
    ceil_position: ClassVar[int]  # where F.max_pool*d (4) or F.avg_pool*d (3) takes ceil_mode

    kernel: tuple[int, ...]
    stride: tuple[int, ...] | None = None
    padding: tuple[int, ...] | None = None
    ceil_mode: bool = False

    @classmethod
    def _pools(cls) -> bool:
        return True

    def _geometry(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        return self.stride or self.kernel, self.padding or (0,) * self.rank, (1,) * self.rank

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        stride, padding, dilation = self._geometry()
        return (inputs[0][0], *self._slide(self._spatial(inputs), self.kernel, stride, padding, dilation, ctx,
                                           self.ceil_mode))

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        return self._window_field(fields[0], self.kernel, *self._geometry())

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        stride, padding, dilation = self._geometry()
        return {"output_shape": f"{self._size_text(self._spatial(inputs), output, self.kernel, stride, padding, dilation)} "
                                f"→ {'×'.join(map(str, output))} (channels unchanged)",
                "params": "no parameters",
                "macs": f"no multiply-accumulates (each output reduces {'·'.join(map(str, self.kernel))} values)",
                "rf": self._rf_text(field)}

    def short(self) -> str:
        stride, padding, _ = self._geometry()
        return f"{'×'.join(map(str, self.kernel))}/{'×'.join(map(str, stride))}" + (
            f", pad {'×'.join(map(str, padding))}" if any(padding) else "") + (", ceil" if self.ceil_mode else "")

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return window_pool_fields(call, cls.ceil_position)


class _MaxPoolNd(_PoolNd):
    """Max pooling: ∏k − 1 comparisons per output (padding is −∞, never the maximum)."""

    op_kind = OpKind.MAX_POOL
    ceil_position = 4

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=numel(output) * (math.prod(self.kernel) - 1))

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        stride, padding, _ = self._geometry()
        return torch_module(f"MaxPool{self.rank}d", kernel_size=self.kernel, stride=stride, padding=padding,
                            ceil_mode=self.ceil_mode)


class _AvgPoolNd(_PoolNd):
    """Average pooling: ∏k additions and a division per output (padding counted, PyTorch's default)."""

    op_kind = OpKind.AVG_POOL
    ceil_position = 3

    count_include_pad: bool = True

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=numel(output) * math.prod(self.kernel))

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        stride, padding, _ = self._geometry()
        return torch_module(f"AvgPool{self.rank}d", kernel_size=self.kernel, stride=stride, padding=padding,
                            ceil_mode=self.ceil_mode, count_include_pad=self.count_include_pad)

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return {**super().from_torch(call), "count_include_pad": call.get("count_include_pad", default=True)}


@register("max_pool1d")
class MaxPool1d(_MaxPoolNd):
    """1-D max pooling (``nn.MaxPool1d``)."""

    torch_imports = ("MaxPool1d", "max_pool1d")

    rank = 1


@register("max_pool3d")
class MaxPool3d(_MaxPoolNd):
    """3-D max pooling (``nn.MaxPool3d``)."""

    torch_imports = ("MaxPool3d", "max_pool3d")

    rank = 3


@register("avg_pool1d")
class AvgPool1d(_AvgPoolNd):
    """1-D average pooling (``nn.AvgPool1d``)."""

    torch_imports = ("AvgPool1d", "avg_pool1d")

    rank = 1


@register("avg_pool3d")
class AvgPool3d(_AvgPoolNd):
    """3-D average pooling (``nn.AvgPool3d``)."""

    torch_imports = ("AvgPool3d", "avg_pool3d")

    rank = 3


class _AdaptivePoolNd(ParameterFree, _Volume):
    """A fixed output size whatever the input (PyTorch's adaptive windows, exact per axis)."""

    SIZE_FIELDS = {"output": 1}

    output: tuple[int, ...]

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        self._spatial(inputs)
        return (inputs[0][0], *self.output)

    def _window_elements(self, inputs: Sequence[Shape]) -> int:
        return inputs[0][0] * math.prod(adaptive_window_total(length, out)
                                         for length, out in zip(self._spatial(inputs), self.output))

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=self._window_elements(inputs))

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        sizes = self._spatial(inputs)
        h_axis, w_axis = self._image_axes()

        def axis(field: AxisRF, i: int) -> AxisRF:
            length, out = sizes[i], self.output[i]
            return field.span(length) if out == 1 else field.window(adaptive_window_max(length, out), Fraction(length, out), 0)

        return RF(fields[0].h if h_axis is None else axis(fields[0].h, h_axis), axis(fields[0].w, w_axis))

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        return {"output_shape": f"fixed output {'×'.join(map(str, self.output))} whatever the "
                                f"{'×'.join(map(str, self._spatial(inputs)))} input → {'×'.join(map(str, output))}",
                "params": "no parameters", "macs": "no multiply-accumulates", "rf": self._rf_text(field)}

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        kind = "Max" if self.op_kind is OpKind.ADAPTIVE_MAX_POOL else "Avg"
        return torch_module(f"Adaptive{kind}Pool{self.rank}d", output_size=self.output)

    def short(self) -> str:
        return "→ " + "×".join(map(str, self.output))

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return adaptive_pool_fields(call)


@register("adaptive_avg_pool1d")
class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """1-D adaptive average pooling: the elements of every window added, one division per output."""

    op_kind = OpKind.ADAPTIVE_AVG_POOL_ND
    torch_imports = ("AdaptiveAvgPool1d", "adaptive_avg_pool1d")
    rank = 1


@register("adaptive_avg_pool3d")
class AdaptiveAvgPool3d(_AdaptivePoolNd):
    """3-D adaptive average pooling (r3d_18's AdaptiveAvgPool3d((1, 1, 1)))."""

    op_kind = OpKind.ADAPTIVE_AVG_POOL_ND
    torch_imports = ("AdaptiveAvgPool3d", "adaptive_avg_pool3d")
    rank = 3


@register("adaptive_max_pool1d")
class AdaptiveMaxPool1d(_AdaptivePoolNd):
    """1-D adaptive max pooling."""

    op_kind = OpKind.ADAPTIVE_MAX_POOL
    torch_imports = ("AdaptiveMaxPool1d",)
    rank = 1


@register("adaptive_max_pool3d")
class AdaptiveMaxPool3d(_AdaptivePoolNd):
    """3-D adaptive max pooling."""

    op_kind = OpKind.ADAPTIVE_MAX_POOL
    torch_imports = ("AdaptiveMaxPool3d",)
    rank = 3
