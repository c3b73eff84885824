"""Element-wise activations and dropout: shape-preserving, parameter-free.

The 'full' convention counts ``flops_per_element`` ops per element, taking each elementary
function (max, exp, tanh, erf) as one op: relu max(0, x) = 1; sigmoid 1/(1 + exp(−x)) = 3;
silu x·sigmoid(x) = 4; and so on, as each class says. Dropout is the identity at inference.
``op_kind`` names the PyTorch operation, which the FLOP presets of peer tools tell apart.
Each class lowers to the ``torch.nn`` module named by ``torch_class``, its fields being
that module's arguments.
"""

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from ..conventions import OpKind
from .base import (Cost, Layer, ParameterFree, PointWise, RuleContext, Shape, TorchCall, TorchOp, numel, register,
                   require, torch_module)


class _ElementWise(PointWise, ParameterFree, Layer):
    flops_per_element: ClassVar[int] = 1
    torch_class: ClassVar[str] = ""

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        return inputs[0]

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=self.flops_per_element * numel(output))

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module(self.torch_class, **self.model_dump())

    def short(self) -> str:
        return ""

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """The fields are the module's arguments (and the function's, in the same order)."""
        return {name: call.get(name, position, info.default) for position, (name, info) in enumerate(cls.model_fields.items())}


@register("relu")
class ReLU(_ElementWise):
    """max(0, x)."""

    op_kind = OpKind.RELU
    torch_imports = ("ReLU", "relu", "relu_")
    torch_class = "ReLU"


@register("relu6")
class ReLU6(_ElementWise):
    """min(max(0, x), 6) (MobileNet)."""

    op_kind = OpKind.RELU6
    torch_imports = ("ReLU6", "relu6")
    flops_per_element = 2
    torch_class = "ReLU6"


@register("leaky_relu")
class LeakyReLU(_ElementWise):
    """x if x > 0 else slope·x: a multiplication and a select."""

    op_kind = OpKind.LEAKY_RELU
    torch_imports = ("LeakyReLU", "leaky_relu")
    flops_per_element = 2
    torch_class = "LeakyReLU"

    negative_slope: float = 0.01

    def short(self) -> str:
        return f"slope {self.negative_slope:g}"


@register("elu")
class ELU(_ElementWise):
    """x if x > 0 else alpha·(exp(x) − 1): exp, subtraction, multiplication, select."""

    op_kind = OpKind.ELU
    torch_imports = ("ELU", "elu")
    flops_per_element = 4
    torch_class = "ELU"

    alpha: float = 1.0


@register("sigmoid")
class Sigmoid(_ElementWise):
    """1 / (1 + exp(−x)): exp, addition, division."""

    op_kind = OpKind.SIGMOID
    torch_imports = ("Sigmoid", "sigmoid")

    flops_per_element = 3
    torch_class = "Sigmoid"


@register("tanh")
class Tanh(_ElementWise):
    """Hyperbolic tangent (one elementary function)."""

    op_kind = OpKind.TANH
    torch_imports = ("Tanh", "tanh")

    torch_class = "Tanh"


@register("gelu")
class GELU(_ElementWise):
    """x·Φ(x) = x·(1 + erf(x/√2))/2: division, erf, addition, two multiplications."""

    op_kind = OpKind.GELU
    torch_imports = ("GELU", "gelu")

    flops_per_element = 5
    torch_class = "GELU"


@register("silu", "swish")
class SiLU(_ElementWise):
    """x·sigmoid(x): a sigmoid and a multiplication."""

    op_kind = OpKind.SILU
    torch_imports = ("SiLU", "silu")

    flops_per_element = 4
    torch_class = "SiLU"


@register("hardswish")
class Hardswish(_ElementWise):
    """x·relu6(x + 3)/6 (MobileNet v3): addition, max, min, multiplication, division."""

    op_kind = OpKind.HARDSWISH
    torch_imports = ("Hardswish", "hardswish")

    flops_per_element = 5
    torch_class = "Hardswish"


@register("hardsigmoid")
class Hardsigmoid(_ElementWise):
    """relu6(x + 3)/6: addition, max, min, division."""

    op_kind = OpKind.HARDSIGMOID
    torch_imports = ("Hardsigmoid", "hardsigmoid")

    flops_per_element = 4
    torch_class = "Hardsigmoid"


@register("softmax")
class Softmax(_ElementWise):
    """Softmax over the channel (or feature) axis: exp, a running sum, a division."""

    op_kind = OpKind.SOFTMAX
    torch_imports = ("Softmax", "softmax")

    flops_per_element = 3

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("Softmax", dim=1)

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        dim = call.get("dim", 0)
        require(dim in (1, 1 - len(call.inputs[0]) - 1) if call.inputs else dim == 1,
                f"softmax over dim {dim}: archcalc's softmax is over the channels (dim 1)")
        return {}


@register("dropout")
class Dropout(_ElementWise):
    """Zeroes elements with probability ``p`` in training; identity at inference."""

    op_kind = OpKind.DROPOUT
    torch_imports = ("Dropout", "Dropout2d", "dropout", "AlphaDropout")
    flops_per_element = 0
    torch_class = "Dropout"

    p: float = Field(0.5, ge=0, lt=1)

    def short(self) -> str:
        return f"p {self.p:g}"


@register("stochastic_depth", "drop_path")
class StochasticDepth(_ElementWise):
    """Drops a whole residual branch with probability ``p`` in training, per sample (``mode:
    row``) or for the whole batch (``batch``), and scales what is kept by 1/(1 − p); the identity
    at inference (torchvision.ops.StochasticDepth, used by EfficientNet and ConvNeXt)."""

    op_kind = OpKind.STOCHASTIC_DEPTH
    torch_imports = ("StochasticDepth", "stochastic_depth")
    flops_per_element = 0

    p: float = Field(ge=0, lt=1)
    mode: Literal["row", "batch"] = "row"

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("StochasticDepth", p=self.p, mode=self.mode)

    def short(self) -> str:
        return f"p {self.p:g}"
