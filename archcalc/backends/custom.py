"""The few modules a lowered network needs that ``torch.nn`` lacks, written once as source: the
torch backend executes it (when torch is imported) and ``archcalc export`` copies it into the
exported file, so both run the same code.

- ``LayerNorm2d``: LayerNorm over the channels of an N×C×H×W tensor, torchvision's ConvNeXt
  class (an ``nn.LayerNorm`` subclass, so its ``state_dict`` keys are ``weight`` and ``bias``).
- ``CenterCrop``: the central part of a feature map (U-Net's copy and crop; a view).
- ``ResizeLike``: ``F.interpolate(x, size=like.shape[-2:])``, the second input giving the size.
- ``Mean``: ``x.mean([2, 3])``, the positions averaged into a vector (MNASNet, ShuffleNet v2).
- ``Chunk``: one part of ``x.chunk(chunks, dim=1)`` (ShuffleNet v2's channel split).
- ``StochasticDepth``: torchvision.ops.StochasticDepth: in training, zero a whole sample's residual
  branch with probability p (``row``) or the whole batch's (``batch``), scale the rest by 1/(1 − p);
  the identity in eval mode.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

SOURCE = '''
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an N x C x H x W tensor (torchvision's ConvNeXt)."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class StochasticDepth(nn.Module):
    """Drop a residual branch per sample ('row') or per batch in training; identity in eval."""

    def __init__(self, p, mode="row"):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        shape = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        keep = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(1.0 - self.p)
        return x * keep.div_(1.0 - self.p)


class Chunk(nn.Module):
    """One of equal parts of the channels: x.chunk(chunks, dim=1)[index] (a view)."""

    def __init__(self, chunks, index):
        super().__init__()
        self.chunks, self.index = chunks, index

    def forward(self, x):
        return x.chunk(self.chunks, dim=1)[self.index]


class Mean(nn.Module):
    """x.mean(dims): the average over the positions, as a vector."""

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.mean(self.dims)


class CenterCrop(nn.Module):
    """The central size[0] x size[1] of a feature map, from row (H - h) // 2 and column (W - w) // 2."""

    def __init__(self, size):
        super().__init__()
        self.size = size

    def forward(self, x, like=None):
        h, w = self.size
        top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
        return x[..., top:top + h, left:left + w]


class Permute(nn.Module):
    """x.permute(dims), the batch axis included (torchvision.ops.Permute)."""

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(self.dims)


class Reshape(nn.Module):
    """x.reshape(N, *shape): the same values in another shape, batch axis kept."""

    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


class ResizeLike(nn.Module):
    """F.interpolate of x to the height and width of a second tensor."""

    def __init__(self, mode="nearest", align_corners=None):
        super().__init__()
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x, like):
        return nn.functional.interpolate(x, size=like.shape[-2:], mode=self.mode, align_corners=self.align_corners)
'''

CLASSES = ("LayerNorm2d", "StochasticDepth", "Chunk", "Mean", "CenterCrop", "ResizeLike", "Permute", "Reshape")


@lru_cache(maxsize=1)
def custom_classes(torch: Any) -> dict[str, type]:
    """The classes of :data:`SOURCE`, defined against ``torch``."""
    namespace: dict[str, Any] = {"torch": torch, "nn": torch.nn}
    exec(compile(SOURCE, __file__, "exec"), namespace)  # archcalc's own constant source, never user input
    return {name: namespace[name] for name in CLASSES}
