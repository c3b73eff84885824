"""Output shape of every layer."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import LayerError
from ..graph import Node
from ..layers import Shape
from ..layers.structure import check_tensor_size
from ..limits import MAX_DIM
from .base import Pass


class ShapePass(Pass[Shape]):
    """Propagates shapes from the input; each layer's ``output_shape`` rule does the math.

    Every output is held to the limits (docs/limits.md), so that no later pass meets an
    absurd number: a transposed convolution with a huge stride, a concat of huge tensors."""

    key = "shape"
    by_shapes = True

    def shape_table(self, env: dict[str, Shape]) -> dict[str, Shape]:
        return env

    def step(self, node: Node, inputs: Sequence[Shape]) -> Shape:
        shape = node.layer.output_shape(inputs, self.ctx)
        if max(shape) > MAX_DIM:
            raise LayerError(f"an output size of {max(shape):,} is over the limit of {MAX_DIM:,} (MAX_DIM)",
                             hint="see 'archcalc docs limits'")
        try:
            check_tensor_size(shape)
        except ValueError as err:
            raise LayerError(f"the output {err}", hint="see 'archcalc docs limits'") from None
        return shape
