"""Check archcalc's numbers against PyTorch itself, layer by layer.

The spec is lowered on the ``meta`` device (no memory, no weights) and run once in training
mode, so auxiliary branches run too, on a batch of 2 (BatchNorm refuses one value per
channel in training). Per layer it compares the output shape, the trainable parameters
(``parameters()``), the non-trainable BatchNorm statistics (``running_mean`` and
``running_var`` buffers) and the multiply-adds that ``torch.utils.flop_counter.FlopCounterMode``
attributes to the layer's module (its FLOPs / 2 / batch); then the network totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..analysis import Analysis, analyze
from ..errors import Source, short_text
from ..graph import Graph
from ..limits import MAX_VERIFY_LAYERS
from .plan import make_plan
from .torch import BackendError, _classes, import_torch

BATCH = 2
_STATISTICS = ("running_mean", "running_var")


@dataclass(frozen=True)
class Mismatch:
    layer: str
    quantity: str
    archcalc: Any
    pytorch: Any


@dataclass(frozen=True)
class Verification:
    name: str
    layers: int
    mismatches: tuple[Mismatch, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _counts(module: Any) -> tuple[int, int]:
    if not hasattr(module, "parameters"):  # a parameter of its scope (layer_scale)
        return module.numel(), 0
    trainable = sum(p.numel() for p in module.parameters())
    statistics = sum(b.numel() for n, b in module.named_buffers() if n.rsplit(".", 1)[-1] in _STATISTICS)
    return trainable, statistics


def _per_input(flops: int) -> int | float:
    """FlopCounterMode counts 2 FLOPs per multiply-add for the whole batch."""
    return flops // (2 * BATCH) if flops % (2 * BATCH) == 0 else flops / (2 * BATCH)


def verify(graph: Graph, analysis: Analysis | None = None) -> Verification:
    """Every layer's shape, parameters and MACs, and the totals, against PyTorch."""
    if len(graph.nodes) > MAX_VERIFY_LAYERS:
        raise BackendError(f"{len(graph.nodes):,} layers are over the limit of {MAX_VERIFY_LAYERS:,} that verify "
                           "lowers to PyTorch (MAX_VERIFY_LAYERS)", source=Source(graph.file),
                           hint="verify a smaller configuration (--set), or the modules on their own; see 'archcalc docs limits'")
    torch = import_torch()
    from torch.utils.flop_counter import FlopCounterMode

    analysis = analysis or analyze(graph)
    plan = make_plan(graph, analysis)
    _, network = _classes()
    with torch.device("meta"):
        model = network(plan)
    model.train()
    model._record = {}
    try:
        with FlopCounterMode(display=False) as counter:
            model(torch.empty(BATCH, *plan.input_shape, device="meta"))
    except (RuntimeError, ValueError, TypeError, OverflowError) as err:  # PyTorch refuses what archcalc accepted
        raise BackendError(f"PyTorch cannot run the lowered network: {short_text(str(err).splitlines()[0], 300)}",
                           source=Source(graph.file),
                           hint="a size beyond what PyTorch supports, or a disagreement worth reporting") from None
    flops = {key: sum(per_op.values()) for key, per_op in counter.get_flop_counts().items()}
    root = type(model).__name__
    lowered = {step.name: (step, module) for step, module in model._steps}
    problems: list[Mismatch] = []
    for row in analysis.rows:
        step, module = lowered[row.name]
        trainable, statistics = _counts(module) if module is not None else (0, 0)
        measured = flops.get(f"{root}.{'.'.join(step.path)}", 0) if step.path else 0
        checks = [
            ("output shape", row.output_shape, tuple(model._record[row.name].shape[1:])),
            ("trainable params", row.params.trainable, trainable),
            ("BN statistics", row.params.non_trainable, statistics),
            ("MACs", row.macs, _per_input(measured)),
        ]
        problems += [Mismatch(row.name, what, ours, theirs) for what, ours, theirs in checks if ours != theirs]
    total_trainable, total_statistics = _counts(model)
    totals = [("total trainable params", analysis.totals.trainable_params, total_trainable),
              ("total BN statistics", analysis.totals.buffers, total_statistics),
              ("total MACs (all branches)", analysis.totals.macs_with_training_only,
               _per_input(flops.get("Global", 0)))]
    problems += [Mismatch("(network)", what, ours, theirs) for what, ours, theirs in totals if ours != theirs]
    return Verification(graph.name, len(analysis.rows), tuple(problems))
