"""Output shape of every layer."""

from __future__ import annotations

from collections.abc import Sequence

from ..graph import Node
from ..layers import Shape
from .base import Pass


class ShapePass(Pass[Shape]):
    """Propagates shapes from the input; each layer's ``output_shape`` rule does the math."""

    key = "shape"

    def step(self, node: Node, inputs: Sequence[Shape]) -> Shape:
        return node.layer.output_shape(inputs, self.ctx)
