"""Normalization layers."""

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from .base import (check_divides, Cost, Dim, feature_map, Layer, numel, ParamCount, ParameterFree,
                   passthrough_explanation, PointWise, register, require, RuleContext, Shape, torch_module,
                   TorchCall, TorchOp, Worked, worked)
from ..conventions import OpKind
from ..receptive_field import RF


@register("batch_norm", "bn", "batchnorm")
class BatchNorm(PointWise, Layer):
    """Batch normalization over channels (PyTorch ``BatchNorm2d``, or ``BatchNorm1d`` on a vector).

    Trainable: gamma and beta (C each) when ``affine``. Non-trainable: running mean and
    variance (C each) when ``track_running_stats``; see :mod:`archcalc.conventions`.
    Full count at inference: a scale and a shift per element (the statistics folded in).
    """

    op_kind = OpKind.BATCH_NORM
    torch_imports = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")

    eps: float = Field(1e-5, gt=0)
    momentum: float = Field(0.1, ge=0, le=1)
    affine: bool = True
    track_running_stats: bool = True

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        return inputs[0]

    def _counts(self, inputs: Sequence[Shape]) -> tuple[Worked, Worked]:
        """(γ and β, running mean and variance): two values per channel each, when present."""
        per_channel = worked(2) * worked(inputs[0][0])
        absent = Worked(0, "none")
        return (per_channel if self.affine else absent, per_channel if self.track_running_stats else absent)

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        trainable, statistics = self._counts(inputs)
        return ParamCount(trainable.value, statistics.value)

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=2 * numel(output))

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        trainable, statistics = self._counts(inputs)
        return passthrough_explanation(
            output, ctx,
            f"γ and β: {trainable.result() if self.affine else 'none (affine: false)'} trainable; running mean and "
            f"variance: {statistics.result() if self.track_running_stats else 'none (track_running_stats: false)'} "
            "non-trainable",
        )

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module({4: "BatchNorm3d", 3: "BatchNorm2d"}.get(len(inputs[0]), "BatchNorm1d"), num_features=inputs[0][0],
                            eps=self.eps, momentum=self.momentum, affine=self.affine,
                            track_running_stats=self.track_running_stats)

    def short(self) -> str:
        return "" if self.affine else "no affine"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        require(call.get("momentum") is not None, "BatchNorm with momentum=None (a cumulative average)")
        return {name: call.get(name) for name in ("eps", "momentum", "affine", "track_running_stats")}


@register("lrn", "local_response_norm")
class LocalResponseNorm(PointWise, ParameterFree, Layer):
    """Local response normalization across ``size`` neighbouring channels (AlexNet).

    Defaults are PyTorch's; AlexNet's paper uses size 5, alpha 1e-4, beta 0.75, k 2.
    Full count per element: ``size`` squares and ``size − 1`` additions for the sum, then
    scale, offset, power and division: 2·size + 3.
    """

    op_kind = OpKind.LRN
    torch_imports = ("LocalResponseNorm",)

    size: Dim = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        return feature_map(inputs[0])

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=(2 * self.size + 3) * numel(output))

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("LocalResponseNorm", size=self.size, alpha=self.alpha, beta=self.beta, k=self.k)

    def short(self) -> str:
        return f"size {self.size}"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return {name: call.get(name) for name in ("size", "alpha", "beta", "k")}


class _Normalization(PointWise, Layer):
    """Shared rules of the norms that compute their statistics from the input at inference
    (layer, group and instance norm; BatchNorm folds stored statistics instead).

    Full count per element: the mean (an addition), the variance (a subtraction, a square, an
    addition), the normalization (a subtraction, a division), and with ``affine`` a scale and a
    shift: 6 or 8 ops (the per-group square root and divisions are left out).
    """

    eps: float = Field(1e-5, gt=0)
    affine: bool = True

    def _affine_count(self, inputs: Sequence[Shape]) -> Worked:
        """γ and β: two values per normalized channel (or per normalized element)."""
        return worked(2) * worked(inputs[0][0]) if self.affine else Worked(0, "none")

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        return inputs[0]

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return ParamCount(self._affine_count(inputs).value)

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=(8 if self.affine else 6) * numel(output))

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        count = self._affine_count(inputs)
        return passthrough_explanation(output, ctx, f"γ and β: {count.result()}" if self.affine
                                       else "no parameters (affine: false)")


@register("layer_norm", "layernorm", "ln")
class LayerNorm(_Normalization):
    """Layer normalization, ``over: channels`` (each position's C values, as ConvNeXt's
    LayerNorm2d), ``over: last`` (the last axis, PyTorch's ``nn.LayerNorm(n)``, as on a
    channels-last tensor after ``permute``) or ``over: all`` (the whole C×H×W map, PyTorch's
    ``nn.LayerNorm([C, H, W])``). γ and β: one per normalized value."""

    op_kind = OpKind.LAYER_NORM
    torch_imports = ("LayerNorm", "LayerNorm2d", "layer_norm")

    over: Literal["channels", "all", "last"]

    def _affine_count(self, inputs: Sequence[Shape]) -> Worked:
        if not self.affine:
            return Worked(0, "none")
        if self.over == "last":
            return worked(2) * worked(inputs[0][-1])
        if self.over == "channels" or len(inputs[0]) == 1:
            return worked(2) * worked(inputs[0][0])
        return worked(2) * worked(inputs[0][0]) * worked(inputs[0][1]) * worked(inputs[0][2])

    def operation(self, inputs: Sequence[Shape]) -> OpKind:
        return OpKind.LAYER_NORM_2D if self.over == "channels" and len(inputs[0]) == 3 else OpKind.LAYER_NORM

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        if self.over == "last":
            return torch_module("LayerNorm", normalized_shape=[inputs[0][-1]], eps=self.eps, elementwise_affine=self.affine)
        if self.over == "all" or len(inputs[0]) == 1:
            shape = list(inputs[0]) if self.over == "all" else [inputs[0][0]]
            return torch_module("LayerNorm", normalized_shape=shape, eps=self.eps, elementwise_affine=self.affine)
        return torch_module("LayerNorm2d", normalized_shape=[inputs[0][0]], eps=self.eps,
                            elementwise_affine=self.affine)

    def short(self) -> str:
        return f"over {self.over}"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """nn.LayerNorm over the last axis (or all of them); torchvision's LayerNorm2d over the channels."""
        shape = tuple(call.get("normalized_shape", 0))
        affine = call.get("elementwise_affine", default=call.get("weight", 1) is not None)
        if call.op == "LayerNorm2d":
            over = "channels"
        elif shape == tuple(call.inputs[0]) and len(shape) > 1:
            over = "all"
        else:
            require(shape == tuple(call.inputs[0][-1:]), f"layer norm over {list(shape)} of a {list(call.inputs[0])} input: "
                    "archcalc normalizes over the last axis, the channels or everything")
            over = "last"
        return {"over": over, "eps": call.get("eps", 3, 1e-5), "affine": bool(affine)}


@register("group_norm", "groupnorm", "gn")
class GroupNorm(_Normalization):
    """Group normalization (Wu & He, 2018): the channels in ``groups`` groups, each normalized over
    its channels and all positions; γ and β per channel. ``groups: 1`` normalizes the whole map."""

    op_kind = OpKind.GROUP_NORM
    torch_imports = ("GroupNorm",)

    groups: Dim

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        check_divides(self.groups, inputs[0][0])
        return inputs[0]

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("GroupNorm", num_groups=self.groups, num_channels=inputs[0][0], eps=self.eps,
                            affine=self.affine)

    def short(self) -> str:
        return f"{self.groups} groups"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return {"groups": call.get("num_groups"), "eps": call.get("eps"), "affine": call.get("affine")}


@register("instance_norm", "instancenorm")
class InstanceNorm(_Normalization):
    """Instance normalization: each channel over its positions (PyTorch ``InstanceNorm2d``; its
    defaults: no affine, no running statistics). With ``track_running_stats`` the running mean and
    variance are buffers, as BatchNorm's (2C)."""

    op_kind = OpKind.INSTANCE_NORM
    torch_imports = ("InstanceNorm2d",)

    affine: bool = False
    momentum: float = Field(0.1, ge=0, le=1)
    track_running_stats: bool = False

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        return feature_map(inputs[0])

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        statistics = 2 * inputs[0][0] if self.track_running_stats else 0
        return ParamCount(self._affine_count(inputs).value, statistics)

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("InstanceNorm2d", num_features=inputs[0][0], eps=self.eps, momentum=self.momentum,
                            affine=self.affine, track_running_stats=self.track_running_stats)

    def short(self) -> str:
        return "affine" if self.affine else ""

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return {name: call.get(name) for name in ("eps", "affine", "momentum", "track_running_stats")}
