"""Parameters of every layer (see archcalc.conventions for what counts)."""

from __future__ import annotations

from collections.abc import Sequence

from ..graph import Node
from ..layers import ParamCount
from .base import Pass


class ParamPass(Pass[ParamCount]):
    """Counts each layer's own parameters from its input and output shapes."""

    key = "params"
    by_shapes = True

    def step(self, node: Node, inputs: Sequence[ParamCount]) -> ParamCount:
        shapes = self.earlier.shape
        return node.layer.params([shapes[name] for name in node.inputs], shapes[node.name])
