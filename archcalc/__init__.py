"""archcalc: static analysis of convolutional network architectures.

Shapes, parameters (and, as passes are added, costs and receptive fields) from a YAML
spec, with every convention named. See README.md and docs/spec.md.
"""

from .analysis import Analysis, analyze
from .api import load, summarize
from .conventions import Conventions, Rounding
from .errors import ArchcalcError
from .graph import Graph, build_graph
from .spec import load_spec_text

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "ArchcalcError",
    "Conventions",
    "Graph",
    "Rounding",
    "analyze",
    "build_graph",
    "load",
    "load_spec_text",
    "summarize",
]
