"""Layer types. Importing this package registers every built-in type: most at once, the 1-D and
3-D layers and resampling on first need (see :func:`register_later`)."""

from . import activations, conv, linear, normalization, pooling, structure  # noqa: F401
from .base import Layer, ParamCount, RuleContext, Shape, known_tags, layer_types, lookup, register, register_later

register_later("archcalc.layers.resample", "archcalc.layers.volume")

__all__ = ["Layer", "ParamCount", "RuleContext", "Shape", "known_tags", "layer_types", "lookup", "register"]
