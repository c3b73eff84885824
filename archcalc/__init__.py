"""archcalc: static analysis of convolutional network architectures.

Shapes, parameters, MACs and FLOPs, memory and receptive fields from a YAML spec, with
every convention named. See README.md and docs/.

The public names are imported on first use (PEP 562), so that ``archcalc`` the command
pays for pydantic and the layer registry only when a command needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Analysis": "analysis",
    "analyze": "analysis",
    "load": "api",
    "summarize": "api",
    "Conventions": "conventions",
    "Rounding": "conventions",
    "ArchcalcError": "errors",
    "Graph": "graph",
    "build_graph": "graph",
    "load_spec_text": "spec",
    "render_report": "report.html",
    "sweep": "sweeps",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'archcalc' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value
