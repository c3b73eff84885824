"""The library entry points: the data flow of design.md §1 in four calls.

    spec = load("alexnet")              # file or zoo name → validated Spec
    graph = build_graph(spec)          # → frozen DAG
    analysis = analyze(graph)          # → per-layer rows and totals
    print(render(analysis, "markdown"))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .analysis import Analysis, analyze
from .conventions import Conventions
from .graph import build_graph
from .spec import Spec, load_spec, with_overrides, with_variant
from .zoo import resolve


def load(spec: str | Path, input_shape: tuple[int, ...] | None = None, args: dict[str, Any] | None = None,
         until: str | None = None) -> Spec:
    """Load a spec by path or zoo name, applying ``--input`` / ``--set`` / ``--until`` style overrides."""
    return with_overrides(load_named(str(spec)), input_shape, args, until=until)


def load_named(spec: str) -> Spec:
    """A spec file, a built-in spec, or a member of a built-in family (``torchvision/efficientnet_b3``)."""
    resolved = resolve(spec)
    loaded = load_spec(resolved.path)
    return with_variant(loaded, resolved.variant) if resolved.variant else loaded


def summarize(spec: str | Path, conventions: Conventions | None = None, **overrides: Any) -> Analysis:
    """Load, build and analyze in one call."""
    return analyze(build_graph(load(spec, **overrides)), conventions)
