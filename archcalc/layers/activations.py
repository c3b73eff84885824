"""Element-wise activations and dropout: shape-preserving, parameter-free."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from .base import Layer, ParameterFree, RuleContext, Shape, register


class _ElementWise(ParameterFree, Layer):
    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        return inputs[0]

    def short(self) -> str:
        return ""


@register("relu")
class ReLU(_ElementWise):
    """max(0, x)."""


@register("relu6")
class ReLU6(_ElementWise):
    """min(max(0, x), 6) (MobileNet)."""


@register("leaky_relu")
class LeakyReLU(_ElementWise):
    """x if x > 0 else slope·x."""

    negative_slope: float = 0.01

    def short(self) -> str:
        return f"slope {self.negative_slope:g}"


@register("elu")
class ELU(_ElementWise):
    """x if x > 0 else alpha·(exp(x) − 1)."""

    alpha: float = 1.0


@register("sigmoid")
class Sigmoid(_ElementWise):
    """1 / (1 + exp(−x))."""


@register("tanh")
class Tanh(_ElementWise):
    """Hyperbolic tangent."""


@register("gelu")
class GELU(_ElementWise):
    """x·Φ(x)."""


@register("silu", "swish")
class SiLU(_ElementWise):
    """x·sigmoid(x)."""


@register("hardswish")
class Hardswish(_ElementWise):
    """x·relu6(x + 3)/6 (MobileNet v3)."""


@register("hardsigmoid")
class Hardsigmoid(_ElementWise):
    """relu6(x + 3)/6."""


@register("softmax")
class Softmax(_ElementWise):
    """Softmax over the channel (or feature) axis."""


@register("dropout")
class Dropout(_ElementWise):
    """Zeroes elements with probability ``p`` in training; identity at inference."""

    p: float = Field(0.5, ge=0, lt=1)

    def short(self) -> str:
        return f"p {self.p:g}"
