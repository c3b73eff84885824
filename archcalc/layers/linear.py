"""Fully connected layers."""

from collections.abc import Sequence
from typing import Any, Literal

from ..conventions import OpKind
from ..errors import LayerError
from ..receptive_field import RF
from .base import (Cost, Dim, Layer, numel, ParamCount, PointWise, register, RuleContext, Shape, torch_module,
                   TorchCall, TorchOp, Worked, worked)


@register("linear", "fc", "dense")
class Linear(PointWise, Layer):
    """Fully connected layer on a vector (PyTorch ``nn.Linear``; Keras ``Dense``).

    Its input is a vector, whose field (set by ``flatten``) is already the whole input map. With
    ``over: last`` it applies, as ``nn.Linear`` does, to the last axis of any tensor, at every
    position (ConvNeXt's pointwise layers after a ``permute`` to channels-last): MACs and bias
    additions are counted once per position, and each unit keeps its position's field.
    """

    op_kind = OpKind.LINEAR
    torch_imports = ("Linear",)

    out: Dim
    bias: bool = True
    over: Literal["last"] | None = None

    def _positions(self, inputs: Sequence[Shape]) -> int:
        """How many times the layer applies: 1 on a vector, every position with ``over: last``."""
        return numel(inputs[0][:-1]) if self.over == "last" else 1

    def _features(self, inputs: Sequence[Shape]) -> int:
        shape = inputs[0]
        if self.over == "last":
            return shape[-1]
        if len(shape) != 1:
            raise LayerError(
                f"expects a vector, got a {'×'.join(map(str, shape))} feature map",
                hint="insert '- flatten' before the first linear layer",
            )
        return shape[0]

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        self._features(inputs)
        return (*inputs[0][:-1], self.out) if self.over == "last" else (self.out,)

    def _weights(self, inputs: Sequence[Shape]) -> Worked:
        return worked(self._features(inputs)).times(worked(self.out))

    def _macs(self, inputs: Sequence[Shape]) -> Worked:
        positions = self._positions(inputs)
        weights = self._weights(inputs)
        return weights if positions == 1 else worked(positions, "positions").times(weights.paren())

    def _params(self, inputs: Sequence[Shape]) -> Worked:
        weights = self._weights(inputs)  # one weight per multiply-accumulate of one position
        return weights + worked(self.out, "biases") if self.bias else weights

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return ParamCount(self._params(inputs).value, bias=self.out if self.bias else 0)

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(macs=self._macs(inputs).value, bias=self._positions(inputs) * self.out if self.bias else 0)

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        where = ("unchanged: the layer mixes the last axis at each position" if self.over == "last"
                 else "unchanged: the vector's field (set by flatten) is already the whole input map")
        return {"output_shape": f"{self.out} features" + (f" at each position: {'×'.join(map(str, output))}"
                                                          if self.over == "last" else ""),
                "params": self._params(inputs).result(),
                "macs": self._macs(inputs).result(),
                "rf": where}

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("Linear", in_features=self._features(inputs), out_features=self.out, bias=self.bias)

    def short(self) -> str:
        return f"{self.out}" + ("" if self.bias else ", no bias") + (", over last" if self.over else "")

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return {"out": call.get("out_features"), "bias": call.get("bias") is not None,
                "over": "last" if len(call.inputs[0]) > 1 else None}
