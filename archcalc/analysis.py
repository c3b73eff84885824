"""Graph → Analysis: run the passes in order and collect frozen per-layer rows and totals."""

from __future__ import annotations

from dataclasses import dataclass

from .conventions import Conventions
from .graph import Graph
from .layers import ParamCount, RuleContext, Shape
from .passes import PIPELINE, PassResults


@dataclass(frozen=True)
class LayerRow:
    """Everything archcalc knows about one layer instance."""

    name: str
    type: str
    inputs: tuple[str, ...]
    scope: tuple[str, ...]
    output_shape: Shape
    params: ParamCount
    hparams: str
    line: int | None


@dataclass(frozen=True)
class Totals:
    params: int
    trainable_params: int
    non_trainable_params: int


@dataclass(frozen=True)
class Analysis:
    """The result of all passes: rows in topological order, totals, and how they were counted."""

    name: str
    file: str
    input_shape: Shape
    rows: tuple[LayerRow, ...]
    totals: Totals
    conventions: Conventions
    warnings: tuple[str, ...]
    modules: dict[str, str]
    outputs: tuple[str, ...]


def run_passes(graph: Graph, conventions: Conventions) -> tuple[PassResults, list[str]]:
    """Every pass of the pipeline, in order; returns results by pass key and the warnings."""
    ctx = RuleContext(conventions)
    results: PassResults = {}
    for pass_cls in PIPELINE:
        results[pass_cls.key] = pass_cls(ctx, results).run(graph)
    return results, ctx.warnings


def analyze(graph: Graph, conventions: Conventions | None = None) -> Analysis:
    """Analyze a graph under the given conventions (defaults: PyTorch's)."""
    conventions = conventions or Conventions()
    results, warnings = run_passes(graph, conventions)
    shapes, params = results["shape"], results["params"]
    rows = tuple(
        LayerRow(
            name=node.name,
            type=node.type,
            inputs=node.inputs,
            scope=node.scope,
            output_shape=shapes[node.name],
            params=params[node.name],
            hparams=node.layer.short(),
            line=node.source.line,
        )
        for node in graph.nodes
    )
    trainable = sum(row.params.trainable for row in rows)
    frozen = sum(row.params.non_trainable for row in rows)
    return Analysis(
        name=graph.name,
        file=graph.file,
        input_shape=shapes["input"],
        rows=rows,
        totals=Totals(trainable + frozen, trainable, frozen),
        conventions=conventions,
        warnings=(*graph.warnings, *warnings),
        modules=dict(graph.modules),
        outputs=graph.outputs,
    )
