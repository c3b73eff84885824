"""Convolution layers."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import PositiveInt

from ..errors import LayerError
from .base import Layer, PaddingSpec, Pair, ParamCount, RuleContext, Shape, feature_map, pair_text, register
from .window import resolve_padding, slide


def padding_text(padding: object) -> str:
    """Short form of a padding value for tables: 'same', '2', '1×2', '(0,1)×(0,1)'."""
    if padding == "same":
        return "same"
    (top, bottom), (left, right) = padding  # type: ignore[misc]
    if top == bottom and left == right:
        return pair_text((top, left))
    return f"({top},{bottom})×({left},{right})"


@register("conv2d", "conv")
class Conv2d(Layer):
    """2-D convolution (PyTorch ``nn.Conv2d``; Keras ``Conv2D``).

    ``padding`` is per side. ``groups`` splits input and output channels into that many
    independent convolutions (AlexNet's two GPUs: groups=2; depthwise: groups = C_in).
    """

    out: PositiveInt
    kernel: Pair
    stride: Pair = (1, 1)
    padding: PaddingSpec = ((0, 0), (0, 0))
    dilation: Pair = (1, 1)
    groups: PositiveInt = 1
    bias: bool = True

    def _channels(self, inputs: Sequence[Shape]) -> int:
        channels = feature_map(inputs[0])[0]
        for what, count in (("input channels", channels), ("output channels", self.out)):
            if count % self.groups:
                raise LayerError(
                    f"groups={self.groups} does not divide the {count} {what}",
                    hint="groups must divide both the input and the output channel counts",
                )
        return channels

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        self._channels(inputs)
        _, h, w = feature_map(inputs[0])
        pad = resolve_padding(self.padding, (h, w), self.kernel, self.stride, self.dilation)
        oh, ow = slide((h, w), self.kernel, self.stride, pad, self.dilation, ctx)
        return (self.out, oh, ow)

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        per_filter = self._channels(inputs) // self.groups * self.kernel[0] * self.kernel[1]
        return ParamCount(self.out * per_filter + (self.out if self.bias else 0))

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
