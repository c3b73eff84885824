"""Worked derivations, layer by layer: the lecture-style arithmetic behind every number.

Each layer type's ``explain`` rule writes its own formulas with the numbers substituted; this
module only walks the analysed graph and hands each rule its inputs' shapes and fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from .analysis import Analysis
from .conventions import Layout
from .errors import ArchcalcError, short_text
from .graph import Graph
from .layers import RuleContext
from .metrics import EXPLAINED, Metric

LABELS = {Metric.OUTPUT_SHAPE: "output", Metric.PARAMS: "parameters", Metric.MACS: "MACs", Metric.RF: "receptive field"}
"""How ``archcalc explain`` titles each explained metric (EXPLAINED, archcalc.metrics)."""


@dataclass(frozen=True)
class Explanation:
    layer: str
    type: str
    hparams: str
    source: str
    inputs: tuple[str, ...]  # the input shapes, in the layout asked for
    steps: dict[str, str]  # quantity -> worked formula

    def text(self) -> str:
        inputs = ", ".join(self.inputs) or "—"
        head = f"{self.layer} — {self.type} {self.hparams}".rstrip() + f"  ({self.source})"
        lines = [head, f"  {'input:':<17}{inputs}"]
        lines += [f"  {LABELS[metric] + ':':<17}{self.steps[metric.value]}" for metric in EXPLAINED
                  if metric.value in self.steps]
        return "\n".join(lines)


def explain(graph: Graph, analysis: Analysis, prefix: str | None = None,
            layout: Layout = Layout.CHW) -> list[Explanation]:
    """Explanations of every layer, or of the layers whose name starts with ``prefix``; shapes
    printed in ``layout``."""
    ctx = RuleContext(analysis.conventions, layout=layout)
    if prefix is not None and prefix in graph.names:  # one layer: no scan of the whole graph
        chosen = [graph.node(prefix)]
    else:
        chosen = [node for node in graph.nodes if prefix is None or node.name.startswith(prefix + "/")]
    if not chosen:
        close = [node.name for node in graph.nodes if prefix and prefix in node.name][:3]
        raise ArchcalcError(f"no layer or module named '{short_text(prefix or '')}'",
                            hint=f"did you mean {', '.join(close)}?" if close else "'archcalc summary' lists the names")
    result = []
    for node in chosen:
        inputs = [analysis.row(name) for name in node.inputs]
        row = analysis.row(node.name)
        steps = node.layer.explain([r.output_shape for r in inputs], row.output_shape, [r.rf for r in inputs], row.rf, ctx)
        result.append(Explanation(node.name, node.type, row.hparams, str(node.source),
                                  tuple(layout.format(r.output_shape) for r in inputs), steps))
    return result
