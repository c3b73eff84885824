"""Receptive field of every layer's units, per axis (archcalc.receptive_field)."""

from __future__ import annotations

from collections.abc import Sequence

from ..graph import Node
from ..receptive_field import RF
from .base import Pass


class ReceptiveFieldPass(Pass[RF]):
    """Each layer's ``receptive_field`` rule applied to its inputs' fields."""

    key = "rf"

    def step(self, node: Node, inputs: Sequence[RF]) -> RF:
        shapes = self.earlier["shape"]
        return node.layer.receptive_field(inputs, [shapes[name] for name in node.inputs], shapes[node.name], self.ctx)
