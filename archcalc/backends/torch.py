"""Lower a spec to a runnable ``torch.nn.Module`` (``pip install 'archcalc[torch]'``).

The module holds real ``nn.Conv2d``/``nn.Linear``/... submodules nested by the spec's
names, and its ``forward`` runs the graph's nodes in topological order. Layers of
training-only branches (auxiliary classifiers) run in ``train()`` mode only; in ``eval()``
mode the inference outputs are returned (one tensor, or a tuple when there are several).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ArchcalcError
from ..graph import Graph
from ..layers.base import TorchModule, TorchOp
from .plan import Plan, Step, make_plan


class BackendError(ArchcalcError):
    """The torch backend cannot run: PyTorch is missing, or a layer cannot be lowered."""


def import_torch() -> Any:
    """``torch``, or a BackendError that says what to install."""
    try:
        import torch
    except ImportError:
        raise BackendError(
            "the torch backend needs PyTorch, which is not installed",
            hint="pip install 'archcalc[torch]'  (without a GPU, install PyTorch's CPU-only build first, "
                 "as PyTorch's install instructions show)",
        ) from None
    return torch


def build_module(spec: TorchModule) -> Any:
    torch = import_torch()
    return getattr(torch.nn, spec.cls)(**dict(spec.kwargs))


def build_op(op: TorchOp) -> Any:
    """The nn.Module of a node: one module, or an nn.Sequential (pad, then window)."""
    torch = import_torch()
    modules = [build_module(spec) for spec in op.modules]
    return modules[0] if len(modules) == 1 else torch.nn.Sequential(*modules)


@lru_cache(maxsize=1)
def _classes() -> tuple[type, type]:
    """The two nn.Module classes of a lowered network, defined once torch is imported."""
    torch = import_torch()
    nn = torch.nn

    class Scope(nn.Module):
        """A named group of layers: one module instance of the spec."""

        def __getitem__(self, name: str) -> Any:
            return self._modules[name]

    class LoweredNetwork(Scope):
        """A network lowered from an archcalc spec; runs the graph's nodes in order."""

        def __init__(self, plan: Plan) -> None:
            super().__init__()
            self._plan = plan
            self._record: dict[str, Any] | None = None  # a dict here keeps every node's output
            self._steps: list[tuple[Step, Any]] = []
            for step in plan.steps:
                module = build_op(step.op) if step.op.modules else None
                if module is not None:
                    _attach(self, step, module, Scope)
                self._steps.append((step, module))

        def forward(self, x: Any) -> Any:
            env: dict[str, Any] = {}
            for step, module in self._steps:
                if step.training_only and not self.training:
                    continue
                args = [env[name] for name in step.inputs]
                env[step.name] = _apply(torch, step, module, args, x)
            if self._record is not None:
                self._record.update(env)
            outputs = [env[name] for name in self._plan.outputs if name in env]
            return outputs[0] if len(outputs) == 1 else tuple(outputs)

    return Scope, LoweredNetwork


def _attach(root: Any, step: Step, module: Any, scope: type) -> None:
    """Add ``module`` at its path below ``root``, creating the enclosing scopes."""
    parent = root
    try:
        for part in step.path[:-1]:
            if part not in parent._modules:
                parent.add_module(part, scope())
            parent = parent._modules[part]
        parent.add_module(step.path[-1], module)
    except KeyError as err:  # a name torch.nn.Module already uses ('train', 'forward', ...)
        raise BackendError(
            f"cannot name a PyTorch module {'.'.join(step.path)!r}: {err.args[0]}",
            layer=step.name, hint="rename the layer: torch.nn.Module reserves that attribute name",
        ) from None


def _apply(torch: Any, step: Step, module: Any, args: list[Any], x: Any) -> Any:
    merge = step.op.merge
    if merge == "cat":
        return torch.cat(args, dim=1)
    if merge in ("add", "mul"):
        result = args[0]
        for arg in args[1:]:
            result = result + arg if merge == "add" else result * arg
        return result
    if module is None:
        return args[0] if args else x
    return module(args[0])


def to_module(spec_or_graph: Graph | str | Path, device: Any = None) -> Any:
    """A ``torch.nn.Module`` running the spec (a Graph, a spec file, or a zoo name).

    ``device="meta"`` builds it without allocating weights (for checking shapes and counts).
    """
    torch = import_torch()
    if isinstance(spec_or_graph, Graph):
        graph = spec_or_graph
    else:
        from ..api import load
        from ..graph import build_graph

        graph = build_graph(load(spec_or_graph))
    plan = make_plan(graph)
    _, network = _classes()
    if device is None:
        return network(plan)
    with torch.device(device):
        return network(plan)
