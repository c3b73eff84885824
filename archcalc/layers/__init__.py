"""Layer types. Importing this package registers every built-in type."""

from . import activations, conv, linear, normalization, pooling, resample, structure, volume  # noqa: F401
from .base import Layer, ParamCount, RuleContext, Shape, known_tags, layer_types, lookup, register

__all__ = ["Layer", "ParamCount", "RuleContext", "Shape", "known_tags", "layer_types", "lookup", "register"]
