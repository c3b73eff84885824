"""Passes over the layer graph. Each computes one kind of number for every node."""

from .base import Pass, PassResults
from .params import ParamPass
from .shape import ShapePass

PIPELINE: tuple[type[Pass], ...] = (ShapePass, ParamPass)
"""The pass order, written once: each pass may read the results of the passes before it."""

__all__ = ["PIPELINE", "ParamPass", "Pass", "PassResults", "ShapePass"]
