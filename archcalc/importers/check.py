"""``archcalc import --check``: the imported spec's analysis against the model it came from.

Compared: every output shape (archcalc's shape pass against the traced model's), the parameters of
every module (PyTorch's ``parameters()`` of the submodule against the sum of the spec's layers
under that path) and the total of PyTorch's FlopCounterMode (run on the meta device) against the
spec's ``torch`` convention.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..analysis import Analysis
from .network import ImportedNetwork


@dataclass
class CheckReport:
    compared: dict[str, int] = field(default_factory=dict)  # what was compared: how many
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        done = ", ".join(f"{count:,} {what}" for what, count in self.compared.items())
        if not self.problems:
            return [f"check: the spec matches the model ({done})"]
        return [f"check: {len(self.problems)} difference{'s' if len(self.problems) > 1 else ''} ({done}):",
                *(f"  {problem}" for problem in self.problems[:20])]


def torch_name(archcalc_name: str) -> str:
    """A layer's name as PyTorch writes module paths: scopes joined with '.'."""
    return archcalc_name.replace("/", ".")


def check_shapes(network: ImportedNetwork, analysis: Analysis, report: CheckReport) -> None:
    rows = {torch_name(row.name): row for row in analysis.rows}
    count = 0
    for op in network.ops:
        name = ".".join((*op.path, op.local))
        row = rows.get(name)
        if row is None:
            report.problems.append(f"{name}: not in the spec's analysis")
            continue
        count += 1
        if op.shape is not None and tuple(row.output_shape) != tuple(op.shape):
            report.problems.append(f"{name}: output {list(row.output_shape)} in the spec, {list(op.shape)} in the model")
    report.compared["output shapes"] = count


def check_torch(model, network: ImportedNetwork, analysis: Analysis, report: CheckReport) -> None:
    """Parameters per module and FlopCounterMode's total (the shapes are checked by check_shapes)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    check_shapes(network, analysis, report)
    layers = [(torch_name(row.name), row.params.trainable) for row in analysis.rows]
    modules = 0
    for path, module in model.named_modules():
        own = sum(p.numel() for p in module.parameters())
        if not path or not own:
            continue
        spec = sum(count for name, count in layers if name == path or name.startswith(path + "."))
        if spec == 0 and not any(name.startswith(path + ".") or name == path for name, _ in layers):
            continue  # not in the traced forward (said in the spec's description)
        modules += 1
        if spec != own:
            report.problems.append(f"{path}: {own:,} parameters in PyTorch, {spec:,} in the spec")
    report.compared["modules' parameters"] = modules
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.empty((1, *network.input_shape), device=next(iter(model.parameters())).device))
    flops, spec_flops = counter.get_total_flops(), analysis.flops_under("torch")
    if flops != spec_flops:
        report.problems.append(f"FlopCounterMode counts {flops:,} FLOPs, the spec {spec_flops:,} (--convention torch)")
    report.compared["FLOP totals"] = 1
