"""Activation memory of every layer: its output, unless the output is a view of its input."""

from __future__ import annotations

from collections.abc import Sequence

from ..graph import Node
from ..layers.base import numel
from .base import Pass


class MemoryPass(Pass[int]):
    """Activation elements per layer for batch 1 (bytes follow from the conventions)."""

    key = "activations"

    def step(self, node: Node, inputs: Sequence[int]) -> int:
        return 0 if node.layer.is_view else numel(self.earlier.shape[node.name])
