"""Pooling layers: windowed max/average, adaptive and global average."""

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from pydantic import Field, model_validator

from ..conventions import OpKind
from ..errors import LayerError
from ..receptive_field import RF
from .base import (compact, Cost, feature_map, Layer, num, numel, PaddingSpec, Pair, pair_text, ParameterFree,
                   register, require, RuleContext, Shape, torch_module, TorchCall, TorchOp, Window)
from .conv import padding_text
from .window import explain_window, explain_window_rf, resolve_padding, slide, window_rf, windowed_torch_op


def window_pool_fields(call: TorchCall, ceil_position: int) -> dict[str, Any]:
    """A PyTorch pooling window's arguments, of any rank (module attributes, or the function's
    arguments, where ``ceil_mode`` comes at ``ceil_position``: 4 for F.max_pool*d, 3 for F.avg_pool*d)."""
    kernel = call.get("kernel_size", 0)
    return {"kernel": compact(kernel), "stride": compact(call.get("stride", 1) or kernel),
            "padding": compact(call.get("padding", 2, 0)), "ceil_mode": bool(call.get("ceil_mode", ceil_position, False))}


def adaptive_pool_fields(call: TorchCall) -> dict[str, Any]:
    """An adaptive pooling's output size, of any rank, read from the result (a None in PyTorch's
    ``output_size`` keeps the input's size)."""
    require(not call.get("return_indices", 1, False), "adaptive pooling with return_indices")
    return {"output": compact(call.output[1:])}


class _WindowPool(ParameterFree, Layer):
    """Shared schema of max and average pooling; ``stride`` defaults to the kernel."""

    kernel: Pair
    stride: Pair | None = Field(None, description="kernel")  # filled in from the kernel below
    padding: PaddingSpec = ((0, 0), (0, 0))
    ceil_mode: bool = False

    @model_validator(mode="before")
    @classmethod
    def _default_stride(cls, data: Any) -> Any:
        """The stride defaults to the kernel (PyTorch's and Keras's pooling default)."""
        if isinstance(data, dict) and data.get("stride") is None and "kernel" in data:
            data = {**data, "stride": data["kernel"]}
        return data

    def _dilation_pair(self) -> tuple[int, int]:
        return (1, 1)

    def _pad(self, inputs: Sequence[Shape]):
        _, h, w = feature_map(inputs[0])
        return resolve_padding(self.padding, (h, w), self.kernel, self.stride, self._dilation_pair())

    def window(self, inputs: Sequence[Shape]) -> Window:
        return Window(self.kernel, self.stride, self._pad(inputs), self._dilation_pair())

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        return window_rf(fields[0], self.kernel, self.stride, self._pad(inputs), self._dilation_pair())

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        _, h, w = feature_map(inputs[0])
        pad, dilation = self._pad(inputs), self._dilation_pair()
        return {
            "output_shape": f"{explain_window((h, w), output[1:], self.kernel, self.stride, pad, dilation)} "
                      f"→ {ctx.shape(output)} (channels unchanged)",
            "params": "no parameters",
            "macs": f"no multiply-accumulates (each output reduces {self.kernel[0]}·{self.kernel[1]} values)",
            "rf": explain_window_rf(fields[0].axes(), field.axes(), self.kernel, self.stride, pad, dilation),
        }

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        c, h, w = feature_map(inputs[0])
        dilation = self._dilation_pair()
        pad = self._pad(inputs)
        for axis in range(2):
            # PyTorch's rule uses the kernel, not the dilated kernel: pad <= kernel // 2.
            if max(pad[axis]) > self.kernel[axis] // 2:
                raise LayerError(
                    f"padding {max(pad[axis])} is more than half the kernel {self.kernel[axis]}",
                    hint="PyTorch rejects pooling padding above kernel/2: a window would see only padding",
                )
        oh, ow = slide((h, w), self.kernel, self.stride, pad, dilation, ctx, self.ceil_mode)
        return (c, oh, ow)

    def short(self) -> str:
        text = f"{self.kernel[0]}×{self.kernel[1]}/{pair_text(self.stride)}"
        if self.padding != ((0, 0), (0, 0)):
            text += f", pad {padding_text(self.padding)}"
        if self.ceil_mode:
            text += ", ceil"
        return text


@register("max_pool2d", "max_pool", "maxpool")
class MaxPool2d(_WindowPool):
    """Max pooling (PyTorch ``nn.MaxPool2d``). Full count: kh·kw − 1 comparisons per output."""

    op_kind = OpKind.MAX_POOL
    torch_imports = ("MaxPool2d", "max_pool2d")

    dilation: Pair = (1, 1)

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=numel(output) * (self.kernel[0] * self.kernel[1] - 1))

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return windowed_torch_op("MaxPool2d", self._pad(inputs), float("-inf"), kernel_size=self.kernel,
                                 stride=self.stride, dilation=self.dilation, ceil_mode=self.ceil_mode)

    def _dilation_pair(self) -> tuple[int, int]:
        return self.dilation

    def short(self) -> str:
        text = super().short()
        return text + (f", dil {pair_text(self.dilation)}" if self.dilation != (1, 1) else "")

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        require(not call.get("return_indices", 5, False), "max_pool2d with return_indices")
        return {**window_pool_fields(call, 4), "dilation": compact(call.get("dilation", 3, 1))}


@register("avg_pool2d", "avg_pool", "avgpool")
class AvgPool2d(_WindowPool):
    """Average pooling (PyTorch ``nn.AvgPool2d``). ``count_include_pad`` changes values, not shapes.

    Full count: kh·kw − 1 additions and one division per output.
    """

    op_kind = OpKind.AVG_POOL
    torch_imports = ("AvgPool2d", "avg_pool2d")

    count_include_pad: bool = True

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=numel(output) * self.kernel[0] * self.kernel[1])

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return windowed_torch_op("AvgPool2d", self._pad(inputs), kernel_size=self.kernel, stride=self.stride,
                                 ceil_mode=self.ceil_mode, count_include_pad=self.count_include_pad)

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        require(call.get("divisor_override", 5) is None, "avg_pool2d with divisor_override")
        return {**window_pool_fields(call, 3), "count_include_pad": call.get("count_include_pad", 4, True)}


def adaptive_window_total(length: int, out: int) -> int:
    """Input positions summed over PyTorch's adaptive windows [floor(i·L/o), ceil((i+1)·L/o)),
    i = 0 … o − 1, in closed form (o can be in the millions).

    Window i has size ceil((r + L)/o) where r = i·L mod o: one more than the exact share
    wherever o does not divide i·L. Summed: L + o − gcd(L, o)."""
    return length + out - math.gcd(length, out)


def adaptive_window_max(length: int, out: int) -> int:
    """The largest adaptive window: r = i·L mod o runs over the multiples of g = gcd(L, o),
    so the largest is ceil((o − g + L)/o)."""
    return -(-(out - math.gcd(length, out) + length) // out)


class _AdaptivePool(ParameterFree, Layer):
    output: Pair

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        c, _, _ = feature_map(inputs[0])
        return (c, *self.output)

    def _window_elements(self, inputs: Sequence[Shape]) -> int:
        """Input elements summed over all windows (windows overlap when L % o != 0)."""
        c, h, w = feature_map(inputs[0])
        return c * adaptive_window_total(h, self.output[0]) * adaptive_window_total(w, self.output[1])

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        _, h, w = feature_map(inputs[0])
        return {"output_shape": f"fixed output {self.output[0]}×{self.output[1]} whatever the {h}×{w} input → "
                          f"{ctx.shape(output)}",
                "params": "no parameters", "macs": "no multiply-accumulates",
                "rf": f"windows of about {h}/{self.output[0]} × {w}/{self.output[1]} positions: size "
                      f"{num(field.h.size)}×{num(field.w.size)}"}

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        _, h, w = feature_map(inputs[0])
        axes = []
        for axis, (length, out) in enumerate(((h, self.output[0]), (w, self.output[1]))):
            kernel = adaptive_window_max(length, out)
            if length % out:
                ctx.warn(
                    f"{'HW'[axis]}: adaptive windows of {length} → {out} vary in size and spacing; the field "
                    f"uses the largest window ({kernel}) and the mean stride {length}/{out}"
                )
            stride = Fraction(length, out)
            field = fields[0].axes()[axis]
            # one output position sees the whole axis, as global pooling does (squeeze-and-excitation)
            axes.append(field.span(length) if out == 1 else field.window(kernel, stride, 0))
        return RF(axes[0], axes[1])

    def short(self) -> str:
        return f"→ {self.output[0]}×{self.output[1]}"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return adaptive_pool_fields(call)


@register("adaptive_avg_pool2d", "adaptive_avg_pool")
class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling to a fixed output size (PyTorch ``nn.AdaptiveAvgPool2d``).

    Full count: per output, its window's additions and one division (window size in all).
    """

    op_kind = OpKind.ADAPTIVE_AVG_POOL
    torch_imports = ("AdaptiveAvgPool2d", "adaptive_avg_pool2d")

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=self._window_elements(inputs))

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("AdaptiveAvgPool2d", output_size=self.output)


@register("adaptive_max_pool2d", "adaptive_max_pool")
class AdaptiveMaxPool2d(_AdaptivePool):
    """Max pooling to a fixed output size (PyTorch ``nn.AdaptiveMaxPool2d``); window − 1 comparisons."""

    op_kind = OpKind.ADAPTIVE_MAX_POOL
    torch_imports = ("AdaptiveMaxPool2d", "adaptive_max_pool2d")

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=self._window_elements(inputs) - numel(output))

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("AdaptiveMaxPool2d", output_size=self.output)


@register("global_avg_pool", "gap")
class GlobalAvgPool(ParameterFree, Layer):
    """Average over all positions. Output is C×1×1, as PyTorch's AdaptiveAvgPool2d(1)
    (Keras's GlobalAveragePooling2D drops the 1×1; add ``flatten`` for a vector).
    Full count: H·W − 1 additions and one division per channel. Its field is the union of
    all positions' fields."""

    op_kind = OpKind.ADAPTIVE_AVG_POOL  # what PyTorch runs: AdaptiveAvgPool2d(1)

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        c, _, _ = feature_map(inputs[0])
        return (c, 1, 1)

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=numel(inputs[0]))

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("AdaptiveAvgPool2d", output_size=1)

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        _, h, w = feature_map(inputs[0])
        return RF(fields[0].h.span(h), fields[0].w.span(w))

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        c, h, w = feature_map(inputs[0])
        before = fields[0]
        return {"output_shape": f"one value per channel: {c}×1×1", "params": "no parameters",
                "macs": f"no multiply-accumulates (each output averages {h}·{w} values)",
                "rf": f"every position: size {num(before.h.size)} + ({h} − 1)·{num(before.h.jump)} = {num(field.h.size)}"
                      + ("" if h == w else f" (H), {num(field.w.size)} (W)")}

    def short(self) -> str:
        return "global"


@register("mean")
class Mean(GlobalAvgPool):
    """The mean over all positions as a vector: ``x.mean([2, 3])`` (MNASNet, ShuffleNet v2), which
    gives C values where global_avg_pool gives C×1×1; its count and field are global pooling's."""

    op_kind = OpKind.MEAN
    torch_imports = ("mean",)

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        c, _, _ = feature_map(inputs[0])
        return (c,)

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("Mean", dims=[2, 3])

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        return {**super().explain(inputs, output, fields, field, ctx), "output_shape": f"one value per channel: {output[0]}"}

    def short(self) -> str:
        return "over H, W"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        dims = call.get("dim", 0)
        rank = len(call.inputs[0]) + 1
        dims = sorted(d % rank for d in (dims if isinstance(dims, (list, tuple)) else [dims]))
        require(rank == 4 and dims == [2, 3] and not call.get("keepdim", 1, False),
                f"mean over dims {dims} of a rank-{rank} tensor: archcalc's mean is over the positions (dims 2 and 3)")
        return {}
