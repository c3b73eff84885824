"""Graph → Analysis: run the passes in order and collect frozen per-layer rows and totals."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

from .gcpause import paused_gc
from .conventions import FLOP_PRESETS, Conventions, OpRecord
from .errors import ArchcalcError
from .graph import Graph
from .layers import ParamCount, RuleContext, Shape
from .layers.base import numel
from .passes import PIPELINE, PassResults
from .receptive_field import RF


class LayerRow(NamedTuple):
    """Everything archcalc knows about one layer instance (a NamedTuple: immutable, one per layer)."""

    name: str
    type: str
    inputs: tuple[str, ...]
    scope: tuple[str, ...]
    output_shape: Shape
    params: ParamCount
    hparams: str
    line: int | None
    ops: OpRecord
    flops: int  # under the analysis's FLOP convention
    activation_elems: int  # batch 1
    activation_bytes: int  # for the analysis's batch and dtype
    rf: RF
    training_only: bool
    inexact: str = ""  # the output-size formula that is not an integer (a window that does not tile its input)

    counted_params: int = 0  # under the analysis's parameter convention (torch: trainable; keras: + statistics)

    @property
    def macs(self) -> int:
        return self.ops.macs

    @property
    def buffers(self) -> int:
        """BatchNorm running mean and variance: buffers to PyTorch, non-trainable params to Keras."""
        return self.params.non_trainable


@dataclass(frozen=True)
class Totals:
    params: int  # under the parameter convention (see Conventions.params)
    trainable_params: int
    non_trainable_params: int  # 0 under torch's convention; BatchNorm statistics under Keras's
    param_bytes: int
    buffers: int  # BatchNorm running mean and variance, whatever the convention
    params_inference: int  # the params of the layers used at inference (training-only branches left out)
    macs: int  # inference: training-only layers excluded
    flops: int
    activation_elems: int
    activation_bytes: int
    macs_with_training_only: int
    flops_with_training_only: int


@dataclass(frozen=True, repr=False)
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
    module_args: dict[str, str]
    outputs: tuple[str, ...]

    def row(self, name: str) -> LayerRow:
        """The row of one layer (KeyError if there is none); the lookup is built once."""
        index = self.__dict__.get("_row_index")
        if index is None:
            index = {row.name: row for row in self.rows}
            object.__setattr__(self, "_row_index", index)
        return index[name]

    def torchinfo_sizes(self) -> dict[str, int]:
        """The memory estimate torchinfo's summary prints, in bytes: the input; forward/backward
        pass = 2 × the outputs of the layers that hold parameters (torchinfo's leaf modules with
        parameters, doubled for gradients); params = the trainable parameters; and their total.
        At the analysis's dtype and batch; inference layers only, as torchinfo runs eval mode."""
        value, batch = self.conventions.bytes_per_value, self.conventions.batch
        counted = [row for row in self.rows if not row.training_only and row.params.trainable]
        sizes = {
            "input": numel(self.input_shape) * batch * value,
            "forward_backward": 2 * sum(row.ops.out_elems for row in counted) * batch * value,
            "params": self.totals.trainable_params * value,
        }
        sizes["total"] = sum(sizes.values())
        return sizes

    def __repr__(self) -> str:
        t = self.totals
        return (f"<Analysis {self.name!r}: {len(self.rows):,} layers, {t.params:,} params, {t.macs:,} MACs, "
                f"{t.flops:,} FLOPs ({self.conventions.flops})>")

    def __str__(self) -> str:
        """The text table, as ``archcalc summary`` prints it (every layer)."""
        from .report import render

        return render(self, "text")

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """IPython's terminal display: the text table."""
        printer.text(repr(self) if cycle else str(self))

    def _repr_html_(self) -> str:
        """Jupyter's display: totals, the table (modules collapsed where it is long) and the diagram."""
        from .report.html import notebook_html

        return notebook_html(self)

    def flops_under(self, preset: str, include_training_only: bool = False) -> int:
        """Total under any FLOP preset, whatever the analysis's own convention."""
        formula = FLOP_PRESETS[preset].formula
        return sum(formula(row.ops) for row in self.rows if include_training_only or not row.training_only)


def run_passes(graph: Graph, conventions: Conventions) -> tuple[PassResults, RuleContext]:
    """Every pass of the pipeline, in order; returns results by pass key and the context (with
    the warnings and inexact windows the rules noted)."""
    ctx = RuleContext(conventions)
    results = PassResults()
    for pass_cls in PIPELINE:
        setattr(results, pass_cls.key, pass_cls(ctx, results).run(graph))
    return results, ctx


def _run_fitting(graph: Graph, conventions: Conventions) -> tuple[Graph, PassResults, RuleContext]:
    """:func:`run_passes`, leaving out a training-only branch that does not fit the input (with a
    warning naming it): torchvision runs Inception v3 at 224×224 in eval mode, where its auxiliary
    classifier, which only training calls, would not fit. Any other error stands."""
    dropped: list[str] = []
    while True:
        try:
            results, ctx = run_passes(graph, conventions)
        except ArchcalcError as err:
            culprit = next((node for node in graph.nodes if node.name == err.layer), None)
            if culprit is None or not culprit.training_only:
                raise
            graph = _without(graph, culprit.name)
            dropped.append(f"{culprit.source}: layer '{culprit.name}' ({culprit.type}): training-only, and it does not "
                           f"fit this input ({err.message}): the branch from it is left out of the analysis (its parameters are not counted); "
                           "inference is unaffected")
            continue
        ctx.warnings[:0] = dropped
        return graph, results, ctx


def _without(graph: Graph, name: str) -> Graph:
    """``graph`` without the layer ``name`` and every layer that depends on it."""
    gone = {name}
    for node in graph.nodes:
        if any(src in gone for src in node.inputs):
            gone.add(node.name)
    return replace(graph, nodes=tuple(node for node in graph.nodes if node.name not in gone),
                   outputs=tuple(output for output in graph.outputs if output not in gone))


def _totals(rows: tuple[LayerRow, ...], conventions: Conventions) -> Totals:
    inference = [row for row in rows if not row.training_only]
    trainable = sum(row.params.trainable for row in rows)
    buffers = sum(row.buffers for row in rows)
    params, non_trainable = conventions.counted_params(trainable, buffers)
    return Totals(
        params=params,
        trainable_params=trainable,
        non_trainable_params=non_trainable,
        param_bytes=params * conventions.bytes_per_value,
        buffers=buffers,
        params_inference=sum(row.counted_params for row in inference),
        macs=sum(row.macs for row in inference),
        flops=sum(row.flops for row in inference),
        activation_elems=sum(row.activation_elems for row in inference),
        activation_bytes=sum(row.activation_bytes for row in inference),
        macs_with_training_only=sum(row.macs for row in rows),
        flops_with_training_only=sum(row.flops for row in rows),
    )


def _rows(graph: Graph, results: PassResults, ctx: RuleContext, conventions: Conventions) -> tuple[LayerRow, ...]:
    """One row per node. A layer's description, and the FLOPs of an operation record (which the
    passes share between nodes that repeat a layer on the same shapes), are worked out once."""
    formula = conventions.preset.formula
    scale = conventions.batch * conventions.bytes_per_value
    descriptions: dict[int, str] = {}  # by id(layer): the graph holds every layer meanwhile
    flops: dict[int, int] = {}  # by id(record): the passes' results hold every record meanwhile
    shapes, param_counts, records, activations, fields = (results.shape, results.params, results.cost,
                                                          results.activations, results.rf)
    inexact, counted_params = ctx.inexact, conventions.counted_params
    rows = []
    for node in graph.nodes:
        name, layer = node.name, node.layer
        params, ops, elems = param_counts[name], records[name], activations[name]
        hparams = descriptions.get(id(layer))
        if hparams is None:
            hparams = descriptions[id(layer)] = layer.short()
        counted = flops.get(id(ops))
        if counted is None:
            counted = flops[id(ops)] = formula(ops)
        rows.append(LayerRow(
            name=name,
            type=node.type,
            inputs=node.inputs,
            scope=node.scope,
            output_shape=shapes[name],
            params=params,
            hparams=hparams,
            line=node.source.line,
            ops=ops,
            flops=counted,
            activation_elems=elems,
            activation_bytes=elems * scale,
            rf=fields[name],
            training_only=node.training_only,
            inexact=inexact.get(name, ""),
            counted_params=counted_params(params.trainable, params.non_trainable)[0],
        ))
    return tuple(rows)


@paused_gc
def analyze(graph: Graph, conventions: Conventions | None = None) -> Analysis:
    """Analyze a graph under the given conventions (defaults: PyTorch's)."""
    conventions = conventions or Conventions()
    graph, results, ctx = _run_fitting(graph, conventions)
    rows = _rows(graph, results, ctx, conventions)
    return Analysis(
        name=graph.name,
        file=graph.file,
        input_shape=results.shape["input"],
        rows=rows,
        totals=_totals(rows, conventions),
        conventions=conventions,
        warnings=(*graph.warnings, *ctx.warnings),
        modules=dict(graph.modules),
        module_args=dict(graph.module_args),
        outputs=graph.outputs,
    )
