"""Fully connected layers."""

from __future__ import annotations

from collections.abc import Sequence

from ..conventions import OpKind
from ..errors import LayerError
from ..receptive_field import RF
from .base import (Cost, Dim, Layer, ParamCount, PointWise, RuleContext, Shape, TorchOp, Worked, register,
                   torch_module, worked)


@register("linear", "fc", "dense")
class Linear(PointWise, Layer):
    """Fully connected layer on a vector (PyTorch ``nn.Linear``; Keras ``Dense``).

    Its input is a vector, whose field (set by ``flatten``) is already the whole input map.
    """

    op_kind = OpKind.LINEAR

    out: Dim
    bias: bool = True

    def _features(self, inputs: Sequence[Shape]) -> int:
        shape = inputs[0]
        if len(shape) != 1:
            raise LayerError(
                f"expects a vector, got a {'×'.join(map(str, shape))} feature map",
                hint="insert '- flatten' before the first linear layer",
            )
        return shape[0]

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        self._features(inputs)
        return (self.out,)

    def _macs(self, inputs: Sequence[Shape]) -> Worked:
        return worked(self._features(inputs)).times(worked(self.out))

    def _params(self, inputs: Sequence[Shape]) -> Worked:
        weights = self._macs(inputs)  # one weight per multiply-accumulate
        return weights + worked(self.out, "biases") if self.bias else weights

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return ParamCount(self._params(inputs).value, bias=self.out if self.bias else 0)

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(macs=self._macs(inputs).value, bias=self.out if self.bias else 0)

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        return {"output_shape": f"{self.out} features",
                "params": self._params(inputs).result(),
                "macs": self._macs(inputs).result(),
                "rf": "unchanged: the vector's field (set by flatten) is already the whole input map"}

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("Linear", in_features=self._features(inputs), out_features=self.out, bias=self.bias)

    def short(self) -> str:
        return f"{self.out}" + ("" if self.bias else ", no bias")
