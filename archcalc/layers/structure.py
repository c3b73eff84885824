"""Layers that route tensors: the network input, flatten, concat, add."""

from __future__ import annotations

from collections.abc import Sequence

from typing import Annotated

from pydantic import AfterValidator

from ..errors import LayerError
from .base import Layer, ParameterFree, RuleContext, Shape, register


def shape_text(shape: Shape) -> str:
    return "×".join(map(str, shape))


def check_input_shape(value: tuple[int, ...]) -> tuple[int, ...]:
    """A network input is (C, H, W) or (F,), all positive: the one place this is checked."""
    if len(value) not in (1, 3) or min(value) < 1:
        raise ValueError("expected [channels, height, width] (or [features]) of positive integers")
    return tuple(value)


InputShape = Annotated[tuple[int, ...], AfterValidator(check_input_shape)]


@register("input")
class Input(ParameterFree, Layer):
    """The network input: (C, H, W), or (F,) for a vector. Declared by the spec's ``input:``."""

    min_inputs = 0
    max_inputs = 0

    shape: InputShape

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        return self.shape

    def short(self) -> str:
        return ""


@register("flatten")
class Flatten(ParameterFree, Layer):
    """C×H×W → C·H·W, in PyTorch's (channel-major) order."""

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        size = 1
        for dim in inputs[0]:
            size *= dim
        return (size,)

    def short(self) -> str:
        return ""


@register("concat", "concatenate")
class Concat(ParameterFree, Layer):
    """Concatenation along channels (Inception, DenseNet); spatial sizes must agree."""

    min_inputs = 2
    max_inputs = None

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        first = inputs[0]
        for shape in inputs[1:]:
            if len(shape) != len(first) or shape[1:] != first[1:]:
                raise LayerError(
                    "cannot concatenate along channels: "
                    + ", ".join(shape_text(s) for s in inputs)
                    + " differ in more than the channel count",
                    hint="every input needs the same height and width; check strides and padding of the branches",
                )
        return (sum(shape[0] for shape in inputs), *first[1:])

    def short(self) -> str:
        return ""


@register("add")
class Add(ParameterFree, Layer):
    """Element-wise sum (residual connections); all shapes must be equal."""

    min_inputs = 2
    max_inputs = None

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        if any(shape != inputs[0] for shape in inputs[1:]):
            raise LayerError(
                "cannot add tensors of shapes " + ", ".join(shape_text(s) for s in inputs),
                hint="a residual add needs identical shapes; project the shortcut with a 1×1 conv of matching stride",
            )
        return inputs[0]

    def short(self) -> str:
        return ""
