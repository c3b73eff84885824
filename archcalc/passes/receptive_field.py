"""Receptive field of every layer's units, per axis (archcalc.receptive_field)."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import LayerError
from ..graph import Node
from ..limits import MAX_RF
from ..receptive_field import RF
from .base import Pass


class ReceptiveFieldPass(Pass[RF]):
    """Each layer's ``receptive_field`` rule applied to its inputs' fields."""

    key = "rf"

    def step(self, node: Node, inputs: Sequence[RF]) -> RF:
        shapes = self.earlier.shape
        field = node.layer.receptive_field(inputs, [shapes[name] for name in node.inputs], shapes[node.name], self.ctx)
        if field in inputs:  # passed through (point-wise layers): checked where it was made
            return field
        for axis in field.axes():
            for value in (axis.size, axis.jump, axis.padding):
                if type(value) is int and -MAX_RF <= value <= MAX_RF:  # the common case, without Fraction attributes
                    continue
                if abs(value.numerator) > MAX_RF * value.denominator or value.denominator > MAX_RF:
                    raise LayerError(f"the receptive field reaches {value} pixels, over the limit of {MAX_RF:,} (MAX_RF)",
                                     hint="strides multiply along the network; see 'archcalc docs limits'")
        return field
