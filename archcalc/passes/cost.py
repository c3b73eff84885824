"""Operations of every layer, as a convention-neutral record (see archcalc.conventions)."""

from __future__ import annotations

from collections.abc import Sequence

from ..conventions import OpRecord
from ..graph import Node
from ..layers.base import numel
from .base import Pass


class CostPass(Pass[OpRecord]):
    """Each layer's ``cost`` rule, with the element counts conventions need."""

    key = "cost"
    by_shapes = True

    def step(self, node: Node, inputs: Sequence[OpRecord]) -> OpRecord:
        shapes = self.earlier.shape
        in_shapes = [shapes[name] for name in node.inputs]
        out = shapes[node.name]
        cost = node.layer.cost(in_shapes, out)
        return OpRecord(
            kind=node.layer.operation(in_shapes),
            macs=cost.macs,
            bias=cost.bias,
            other=cost.other,
            in_elems=sum(numel(shape) for shape in in_shapes),
            out_elems=numel(out),
            trainable_params=self.earlier.params[node.name].trainable,
            output_macs=cost.macs if cost.output_macs is None else cost.output_macs,
            out_channels=out[0],
            functional=node.functional or node.layer.called_as_function(in_shapes),
        )
