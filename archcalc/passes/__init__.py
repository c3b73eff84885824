"""Passes over the layer graph. Each computes one kind of number for every node."""

from .base import Pass, PassResults
from .cost import CostPass
from .memory import MemoryPass
from .params import ParamPass
from .receptive_field import ReceptiveFieldPass
from .shape import ShapePass

PIPELINE: tuple[type[Pass], ...] = (ShapePass, ParamPass, CostPass, MemoryPass, ReceptiveFieldPass)
"""The pass order, written once: each pass may read the results of the passes before it."""

__all__ = ["PIPELINE", "CostPass", "MemoryPass", "ParamPass", "Pass", "PassResults", "ReceptiveFieldPass", "ShapePass"]
