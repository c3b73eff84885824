"""Normalization layers."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field, PositiveInt

from .base import Layer, ParameterFree, ParamCount, RuleContext, Shape, feature_map, register


@register("batch_norm", "bn", "batchnorm")
class BatchNorm(Layer):
    """Batch normalization over channels (PyTorch ``BatchNorm2d``, or ``BatchNorm1d`` on a vector).

    Trainable: gamma and beta (C each) when ``affine``. Non-trainable: running mean and
    variance (C each) when ``track_running_stats``; see :mod:`archcalc.conventions`.
    """

    eps: float = Field(1e-5, gt=0)
    momentum: float = Field(0.1, ge=0, le=1)
    affine: bool = True
    track_running_stats: bool = True

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        return inputs[0]

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        channels = inputs[0][0]
        return ParamCount(2 * channels if self.affine else 0, 2 * channels if self.track_running_stats else 0)

    def short(self) -> str:
        return "" if self.affine else "no affine"


@register("lrn", "local_response_norm")
class LocalResponseNorm(ParameterFree, Layer):
    """Local response normalization across ``size`` neighbouring channels (AlexNet).

    Defaults are PyTorch's; AlexNet's paper uses size 5, alpha 1e-4, beta 0.75, k 2.
    """

    size: PositiveInt = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        return feature_map(inputs[0])

    def short(self) -> str:
        return f"size {self.size}"
