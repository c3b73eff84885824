"""Pooling layers: windowed max/average, adaptive and global average."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import model_validator

from ..errors import LayerError
from .base import Layer, PaddingSpec, Pair, ParameterFree, RuleContext, Shape, feature_map, pair_text, register
from .conv import padding_text
from .window import resolve_padding, slide


class _WindowPool(ParameterFree, Layer):
    """Shared schema of max and average pooling; ``stride`` defaults to the kernel."""

    kernel: Pair
    stride: Pair | None = None
    padding: PaddingSpec = ((0, 0), (0, 0))
    ceil_mode: bool = False

    @model_validator(mode="after")
    def _default_stride(self):  # type: ignore[no-untyped-def]
        if self.stride is None:
            object.__setattr__(self, "stride", self.kernel)
        return self

    def _dilation_pair(self) -> tuple[int, int]:
        return (1, 1)

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        c, h, w = feature_map(inputs[0])
        dilation = self._dilation_pair()
        pad = resolve_padding(self.padding, (h, w), self.kernel, self.stride, dilation)
        for axis in range(2):
            k_eff = dilation[axis] * (self.kernel[axis] - 1) + 1
            if max(pad[axis]) > k_eff // 2:
                raise LayerError(
                    f"padding {max(pad[axis])} is more than half the kernel {k_eff}",
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
    """Max pooling (PyTorch ``nn.MaxPool2d``)."""

    dilation: Pair = (1, 1)

    def _dilation_pair(self) -> tuple[int, int]:
        return self.dilation

    def short(self) -> str:
        text = super().short()
        return text + (f", dil {pair_text(self.dilation)}" if self.dilation != (1, 1) else "")


@register("avg_pool2d", "avg_pool", "avgpool")
class AvgPool2d(_WindowPool):
    """Average pooling (PyTorch ``nn.AvgPool2d``). ``count_include_pad`` changes values, not shapes."""

    count_include_pad: bool = True


class _AdaptivePool(ParameterFree, Layer):
    output: Pair

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        c, _, _ = feature_map(inputs[0])
        return (c, *self.output)

    def short(self) -> str:
        return f"→ {self.output[0]}×{self.output[1]}"


@register("adaptive_avg_pool2d", "adaptive_avg_pool")
class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling to a fixed output size (PyTorch ``nn.AdaptiveAvgPool2d``)."""


@register("adaptive_max_pool2d", "adaptive_max_pool")
class AdaptiveMaxPool2d(_AdaptivePool):
    """Max pooling to a fixed output size (PyTorch ``nn.AdaptiveMaxPool2d``)."""


@register("global_avg_pool", "gap")
class GlobalAvgPool(ParameterFree, Layer):
    """Average over all positions. Output is C×1×1, as PyTorch's AdaptiveAvgPool2d(1)
    (Keras's GlobalAveragePooling2D drops the 1×1; add ``flatten`` for a vector)."""

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        c, _, _ = feature_map(inputs[0])
        return (c, 1, 1)

    def short(self) -> str:
        return "global"
