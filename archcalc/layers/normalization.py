"""Normalization layers."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from .base import (Cost, Dim, Layer, ParamCount, ParameterFree, PointWise, RuleContext, Shape, TorchOp, Worked,
                   feature_map, numel, passthrough_explanation, register, torch_module, worked)
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
        return torch_module("BatchNorm2d" if len(inputs[0]) == 3 else "BatchNorm1d", num_features=inputs[0][0],
                            eps=self.eps, momentum=self.momentum, affine=self.affine,
                            track_running_stats=self.track_running_stats)

    def short(self) -> str:
        return "" if self.affine else "no affine"


@register("lrn", "local_response_norm")
class LocalResponseNorm(PointWise, ParameterFree, Layer):
    """Local response normalization across ``size`` neighbouring channels (AlexNet).

    Defaults are PyTorch's; AlexNet's paper uses size 5, alpha 1e-4, beta 0.75, k 2.
    Full count per element: ``size`` squares and ``size − 1`` additions for the sum, then
    scale, offset, power and division: 2·size + 3.
    """

    op_kind = OpKind.LRN

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
