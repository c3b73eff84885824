"""Convolution layers."""

from collections.abc import Sequence
from typing import Any

from ..conventions import OpKind, effective_kernel
from ..errors import LayerError
from ..receptive_field import RF
from .base import (check_divides, compact, Cost, Dim, feature_map, Layer, NonNegativePair, num, numel, PaddingSpec,
                   Pair, pair_text, ParamCount, per_axis, register, require, RuleContext, Shape, torch_module,
                   TorchCall, TorchOp, Window, worked, Worked)
from .window import explain_window, explain_window_rf, resolve_padding, slide, window_rf, windowed_torch_op


def padding_text(padding: object) -> str:
    """Short form of a padding value for tables: 'same', '2', '1×2', '(0,1)×(0,1)'."""
    if padding == "same":
        return "same"
    (top, bottom), (left, right) = padding  # type: ignore[misc]
    if top == bottom and left == right:
        return pair_text((top, left))
    return f"({top},{bottom})×({left},{right})"


def convolution_fields(call: TorchCall) -> dict[str, Any]:
    """A PyTorch convolution's arguments as conv2d/conv1d/conv3d fields (padding per side)."""
    require(call.get("padding_mode", default="zeros") == "zeros",
            f"padding_mode '{call.get('padding_mode')}': archcalc pads with zeros only")
    padding = call.get("padding")
    return {"out": call.get("out_channels"), "kernel": compact(call.get("kernel_size")), "stride": compact(call.get("stride")),
            "padding": padding if isinstance(padding, str) else compact(padding),
            "dilation": compact(call.get("dilation")), "groups": call.get("groups"), "bias": call.get("bias") is not None}


def check_groups(channels_in: int, channels_out: int, groups: int) -> None:
    """Grouped convolutions split both channel counts evenly (PyTorch's rule)."""
    for what, count in (("input channels", channels_in), ("output channels", channels_out)):
        check_divides(groups, count, what, "groups must divide both the input and the output channel counts")


@register("conv2d", "conv")
class Conv2d(Layer):
    """2-D convolution (PyTorch ``nn.Conv2d``; Keras ``Conv2D``).

    ``padding`` is per side. ``groups`` splits input and output channels into that many
    independent convolutions (AlexNet's two GPUs: groups=2; depthwise: groups = C_in).
    """

    op_kind = OpKind.CONV
    torch_imports = ("Conv2d",)

    out: Dim
    kernel: Pair
    stride: Pair = (1, 1)
    padding: PaddingSpec = ((0, 0), (0, 0))
    dilation: Pair = (1, 1)
    groups: Dim = 1
    bias: bool = True

    def _channels(self, inputs: Sequence[Shape]) -> int:
        channels = feature_map(inputs[0])[0]
        check_groups(channels, self.out, self.groups)
        return channels

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        self._channels(inputs)
        _, h, w = feature_map(inputs[0])
        oh, ow = slide((h, w), self.kernel, self.stride, self._pad(inputs), self.dilation, ctx)
        return (self.out, oh, ow)

    def _pad(self, inputs: Sequence[Shape]):
        _, h, w = feature_map(inputs[0])
        return resolve_padding(self.padding, (h, w), self.kernel, self.stride, self.dilation)

    def window(self, inputs: Sequence[Shape]) -> Window:
        return Window(self.kernel, self.stride, self._pad(inputs), self.dilation, self._channels(inputs) // self.groups)

    def _per_filter(self, inputs: Sequence[Shape]) -> Worked:
        """Weights of one filter, (C_in/groups)·kh·kw: also the MACs of one output element."""
        return worked(self._channels(inputs)).per(self.groups) * worked(self.kernel[0]) * worked(self.kernel[1])

    def _params(self, inputs: Sequence[Shape]) -> Worked:
        per_filter = self._per_filter(inputs)
        return worked(self.out, "filters").times((per_filter + worked(1, "bias") if self.bias else per_filter).paren())

    def _macs(self, inputs: Sequence[Shape], output: Shape) -> Worked:
        outputs = Worked(numel(output), "·".join(map(str, output)) + " outputs")
        return outputs.times(self._per_filter(inputs))

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return ParamCount(self._params(inputs).value, bias=self.out if self.bias else 0)

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        """Each output element: (C_in/groups)·kh·kw multiply-accumulates, plus one bias add."""
        return Cost(macs=self._macs(inputs, output).value, bias=numel(output) if self.bias else 0)

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        return window_rf(fields[0], self.kernel, self.stride, self._pad(inputs), self.dilation)

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        _, h, w = feature_map(inputs[0])
        pad = self._pad(inputs)
        return {
            "output_shape": f"{explain_window((h, w), output[1:], self.kernel, self.stride, pad, self.dilation)} "
                      f"→ {ctx.shape(output)}",
            "params": self._params(inputs).result(),
            "macs": self._macs(inputs, output).result(),
            "rf": explain_window_rf(fields[0].axes(), field.axes(), self.kernel, self.stride, pad, self.dilation),
        }

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return windowed_torch_op(
            "Conv2d", self._pad(inputs), in_channels=self._channels(inputs), out_channels=self.out,
            kernel_size=self.kernel, stride=self.stride, dilation=self.dilation, groups=self.groups, bias=self.bias,
        )

    def short(self) -> str:
        text = f"{self.kernel[0]}×{self.kernel[1]}/{pair_text(self.stride)}, {self.out}"
        extras = []
        if self.padding != ((0, 0), (0, 0)):
            extras.append(f"pad {padding_text(self.padding)}")
        if self.dilation != (1, 1):
            extras.append(f"dil {pair_text(self.dilation)}")
        if self.groups != 1:
            extras.append(f"groups {self.groups}")
        if not self.bias:
            extras.append("no bias")
        return ", ".join([text, *extras])

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return convolution_fields(call)


@register("conv_transpose2d", "deconv")
class ConvTranspose2d(Layer):
    """Transposed ("fractionally strided") convolution (PyTorch ``nn.ConvTranspose2d``).

    Output size per axis: (L − 1)·s − pad_before − pad_after + d·(k − 1) + output_padding + 1.
    Each *input* element is multiplied into a kh·kw·(C_out/groups) patch of the output, so
    MACs = H_in·W_in·C_in·(C_out/groups)·kh·kw (as PyTorch's FLOP counter counts them).
    """

    op_kind = OpKind.CONV_TRANSPOSE
    torch_imports = ("ConvTranspose2d",)

    out: Dim
    kernel: Pair
    stride: Pair = (1, 1)
    padding: PaddingSpec = ((0, 0), (0, 0))
    output_padding: NonNegativePair = (0, 0)
    dilation: Pair = (1, 1)
    groups: Dim = 1
    bias: bool = True

    def _check(self, inputs: Sequence[Shape]) -> tuple[int, int, int]:
        c, h, w = feature_map(inputs[0])
        if self.padding == "same":
            raise LayerError("'same' padding is not defined for a transposed convolution",
                             hint="give explicit padding (and output_padding)")
        check_groups(c, self.out, self.groups)
        for axis in range(2):
            if not 0 <= self.output_padding[axis] < max(self.stride[axis], self.dilation[axis]):
                raise LayerError("output_padding must be smaller than the stride or the dilation (PyTorch's rule)")
        return c, h, w

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        _, h, w = self._check(inputs)
        sizes = []
        for axis, length in enumerate((h, w)):
            before, after = self.padding[axis]
            size = (length - 1) * self.stride[axis] - before - after \
                + effective_kernel(self.kernel[axis], self.dilation[axis]) + self.output_padding[axis]
            if size < 1:
                raise LayerError(f"padding {before}+{after} removes the whole output ({size} pixels)")
            sizes.append(size)
        return (self.out, sizes[0], sizes[1])

    def window(self, inputs: Sequence[Shape]) -> Window:
        """The window in the upsampled input (stride 1 there); ``depth``: input channels per output."""
        c, _, _ = self._check(inputs)
        return Window(self.kernel, self.stride, self.padding, self.dilation, c // self.groups)

    def _per_input(self) -> Worked:
        """The output patch one input element is multiplied into, (C_out/groups)·kh·kw."""
        return worked(self.out).per(self.groups) * worked(self.kernel[0]) * worked(self.kernel[1])

    def _params(self, inputs: Sequence[Shape]) -> Worked:
        c, _, _ = self._check(inputs)
        weights = worked(c, "inputs").times(self._per_input())
        return weights + worked(self.out, "biases") if self.bias else weights

    def _macs(self, inputs: Sequence[Shape]) -> Worked:
        c, h, w = self._check(inputs)
        return Worked(c * h * w, f"{c}·{h}·{w} inputs").times(self._per_input())

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return ParamCount(self._params(inputs).value, bias=self.out if self.bias else 0)

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        """MACs per input element (what PyTorch, fvcore and ptflops count); ``output_macs`` the same
        weights seen from each output element, C_in/groups·kh·kw (how thop and torchinfo count)."""
        c, _, _ = self._check(inputs)
        per_output = (c // self.groups) * self.kernel[0] * self.kernel[1]
        return Cost(macs=self._macs(inputs).value, bias=numel(output) if self.bias else 0,
                    output_macs=numel(output) * per_output)

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        axes = [
            field.transposed(self.kernel[i], self.stride[i], self.padding[i][0], self.dilation[i])
            for i, field in enumerate(fields[0].axes())
        ]
        return RF(axes[0], axes[1])

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        c, h, w = self._check(inputs)
        axes = []
        for i, length in enumerate((h, w)):
            before, after = self.padding[i]
            axes.append(f"({length} − 1)·{self.stride[i]} − ({before} + {after}) + {self.dilation[i]}·({self.kernel[i]} − 1)"
                        f" + {self.output_padding[i]} + 1 = {output[1 + i]}")
        rf = [f"size {num(a.size)}, stride {num(b.jump)}/{self.stride[i]} = {num(a.jump)}"
              for i, (b, a) in enumerate(zip(fields[0].axes(), field.axes()))]
        return {
            "output_shape": f"{per_axis(*axes)} → {ctx.shape(output)}",
            "params": self._params(inputs).result(),
            "macs": self._macs(inputs).result(),
            "rf": f"a stride-1 convolution over the input upsampled ×s: {per_axis(*rf)}",
        }

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        c, _, _ = self._check(inputs)
        (top, bottom), (left, right) = self.padding
        if top != bottom or left != right:
            raise LayerError("PyTorch's ConvTranspose2d has no asymmetric padding",
                             hint="use symmetric padding and output_padding for the extra pixel")
        return torch_module(
            "ConvTranspose2d", in_channels=c, out_channels=self.out, kernel_size=self.kernel, stride=self.stride,
            padding=(top, left), output_padding=self.output_padding, groups=self.groups, bias=self.bias,
            dilation=self.dilation,
        )

    def short(self) -> str:
        text = f"{self.kernel[0]}×{self.kernel[1]}/{pair_text(self.stride)}↑, {self.out}"
        if self.padding != ((0, 0), (0, 0)):
            text += f", pad {padding_text(self.padding)}"
        if self.output_padding != (0, 0):
            text += f", out pad {pair_text(self.output_padding)}"
        if self.groups != 1:
            text += f", groups {self.groups}"
        return text + ("" if self.bias else ", no bias")

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return {**convolution_fields(call), "output_padding": compact(call.get("output_padding"))}


@register("zero_pad2d", "zero_pad", "pad")
class ZeroPad2d(Layer):
    """Zero padding (PyTorch ``nn.ZeroPad2d``; Keras ``ZeroPadding2D``); ``padding`` as for conv2d."""

    op_kind = OpKind.PAD
    torch_imports = ("ZeroPad2d",)

    padding: PaddingSpec

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        c, h, w = feature_map(inputs[0])
        if self.padding == "same":
            raise LayerError("zero_pad2d needs explicit padding")
        (top, bottom), (left, right) = self.padding
        return (c, h + top + bottom, w + left + right)

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return ParamCount(0)

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost()

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        return window_rf(fields[0], (1, 1), (1, 1), self.padding, (1, 1))

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        (top, bottom), (left, right) = self.padding
        return torch_module("ZeroPad2d", padding=(left, right, top, bottom))

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        c, h, w = feature_map(inputs[0])
        (top, bottom), (left, right) = self.padding
        return {"output_shape": f"{h} + {top} + {bottom} = {output[1]}, {w} + {left} + {right} = {output[2]} → "
                          f"{ctx.shape(output)}",
                "params": "no parameters", "macs": "no multiply-accumulates",
                "rf": f"size unchanged; effective padding grows by the top/left padding: {num(field.h.padding)}"}

    def short(self) -> str:
        return f"pad {padding_text(self.padding)}"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        left, right, top, bottom = call.get("padding")  # PyTorch's order: last axis first
        return {"padding": [[top, bottom], [left, right]]}
