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


STEP_LABEL = "archcalc::"
"""Prefix of the profiler range each layer runs in when a lowered network labels its steps."""


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
    from .custom import CLASSES, custom_classes

    torch = import_torch()
    cls = custom_classes(torch)[spec.cls] if spec.cls in CLASSES else getattr(torch.nn, spec.cls)
    return cls(**dict(spec.kwargs))


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
            return self._modules[name] if name in self._modules else self._parameters[name]

    class LoweredNetwork(Scope):
        """A network lowered from an archcalc spec; runs the graph's nodes in order."""

        def __init__(self, plan: Plan) -> None:
            super().__init__()
            self._plan = plan
            self._record: dict[str, Any] | None = None  # a dict here keeps every node's output
            self._label_steps = False  # True: each node runs in a profiler range named 'archcalc::<layer>'
            self._steps: list[tuple[Step, Any]] = []
            for step in plan.steps:
                module = build_op(step.op) if step.op.modules else None
                if step.op.parameter:  # a parameter of the enclosing module itself (layer_scale)
                    module = nn.Parameter(torch.full(step.op.parameter, step.op.init))
                if module is not None:
                    _attach(self, step, module, Scope)
                self._steps.append((step, module))
            self._dead = {training: _last_uses(plan, training) for training in (False, True)}
            self._in_place = {training: _in_place_steps(plan, self._steps, self._dead[training], training)
                              for training in (False, True)}
            self._active_in_place: frozenset[str] = frozenset()

        def _switch_in_place(self, names: frozenset[str]) -> None:
            """Set ``inplace`` on the element-wise modules of ``names`` (and clear it on the others):
            the registered modules themselves, so that hooks (FLOP counters) still see each call."""
            for step, module in self._steps:
                if module is not None and hasattr(module, "inplace") and not step.op.merge:
                    module.inplace = step.name in names
            self._active_in_place = names

        def forward(self, x: Any) -> Any:
            env: dict[str, Any] = {}
            keep = self._record is not None
            # Without autograd, a step may overwrite an input nothing else will read (as torchvision's
            # ReLU(inplace=True) and 'out += identity' do): fewer allocations, the same numbers.
            in_place = frozenset() if keep or torch.is_grad_enabled() else self._in_place[self.training]
            if in_place is not self._active_in_place:
                self._switch_in_place(in_place)
            for (step, module), dead in zip(self._steps, self._dead[self.training]):
                if step.training_only and not self.training:
                    continue
                args = [env[name] for name in step.inputs]
                reuse = step.name in in_place
                if self._label_steps and step.inputs:  # the input step does nothing to time
                    with torch.profiler.record_function(f"{STEP_LABEL}{step.name}"):
                        env[step.name] = _apply(torch, step, module, args, x, reuse)
                else:
                    env[step.name] = _apply(torch, step, module, args, x, reuse)
                if not keep:
                    for name in dead:  # free each intermediate after its last use, as eager code does
                        del env[name]
            if keep:
                self._record.update(env)
            outputs = [env[name] for name in self._plan.outputs if name in env]
            return outputs[0] if len(outputs) == 1 else tuple(outputs)

    return Scope, LoweredNetwork


def _last_uses(plan: Plan, training: bool) -> list[tuple[str, ...]]:
    """For each step, the results no later step reads (and that are not outputs): what the
    forward pass can drop after it, in ``train()`` or ``eval()`` mode (training-only steps skipped)."""
    runs = [step for step in plan.steps if training or not step.training_only]
    last: dict[str, str] = {}
    for step in runs:
        for name in step.inputs:
            last[name] = step.name
    dead: dict[str, list[str]] = {}
    for name, user in last.items():
        if name not in plan.outputs:
            dead.setdefault(user, []).append(name)
    return [tuple(dict.fromkeys(dead.get(step.name, ()))) for step in plan.steps]


_FRESH = {"Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d", "Linear", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
          "MaxPool1d", "MaxPool3d", "AvgPool1d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool3d", "MaxPool2d", "AvgPool2d",
          "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "LocalResponseNorm", "ZeroPad2d", "ConstantPad2d", "ReLU", "ReLU6",
          "LeakyReLU", "ELU", "Sigmoid", "Tanh", "GELU", "SiLU", "Hardswish", "Hardsigmoid", "Softmax", "Upsample",
          "ResizeLike", "GroupNorm", "InstanceNorm2d", "LayerNorm", "LayerNorm2d", "ChannelShuffle"}
"""torch.nn modules whose output is a new tensor, never their input or a view of it (unlike
Flatten, a view, or Dropout in eval mode, which returns its input)."""


def _fresh(step: Step) -> bool:
    return step.op.merge in ("add", "mul", "cat") or bool(step.op.modules) and step.op.modules[-1].cls in _FRESH


def _in_place_steps(plan: Plan, steps: list[tuple[Step, Any]], dead: list[tuple[str, ...]],
                    training: bool) -> frozenset[str]:
    """Steps that may overwrite their first input when autograd is off: an element-wise module
    that can work in place (one with an ``inplace`` switch), or an add / a same-shape mul. Only when
    that input dies at the step, is not the network's input or an output, and no other tensor can
    share its memory: it was made fresh and every step that read it makes fresh tensors too."""
    runs = [(step, module, gone) for (step, module), gone in zip(steps, dead) if training or not step.training_only]
    producer = {step.name: step for step, _, _ in runs}
    readers: dict[str, list[Step]] = {}
    for step, _, _ in runs:
        for name in dict.fromkeys(step.inputs):
            readers.setdefault(name, []).append(step)
    shapes = {row.name: row.output_shape for row in plan.analysis.rows}
    chosen: set[str] = set()
    for step, module, gone in runs:
        first = step.inputs[0] if step.inputs else None
        if first is None or first not in gone or step.inputs.count(first) != 1 or not producer[first].inputs:
            continue
        if not _fresh(producer[first]) or not all(_fresh(reader) for reader in readers[first]):
            continue
        if step.op.merge == "add" or step.op.merge == "mul" and shapes[first] == shapes[step.name]:
            chosen.add(step.name)
        elif module is not None and getattr(module, "inplace", None) is False and not any(module.parameters()):
            chosen.add(step.name)
    return frozenset(chosen)


def _attach(root: Any, step: Step, module: Any, scope: type) -> None:
    """Add ``module`` at its path below ``root``, creating the enclosing scopes."""
    parent = root
    try:
        for part in step.path[:-1]:
            if part not in parent._modules:
                parent.add_module(part, scope())
            parent = parent._modules[part]
        if isinstance(module, root_parameter_type()):
            parent.register_parameter(step.path[-1], module)
        else:
            parent.add_module(step.path[-1], module)
    except KeyError as err:  # a name torch.nn.Module already uses ('train', 'forward', ...)
        raise BackendError(
            f"cannot name a PyTorch module {'.'.join(step.path)!r}: {err.args[0]}",
            layer=step.name, hint="rename the layer: torch.nn.Module reserves that attribute name",
        ) from None


def root_parameter_type() -> type:
    return import_torch().nn.Parameter


def _apply(torch: Any, step: Step, module: Any, args: list[Any], x: Any, reuse: bool = False) -> Any:
    if step.op.parameter:
        return module * args[0]
    merge = step.op.merge
    if merge == "cat":
        return torch.cat(args, dim=1)
    if merge in ("add", "mul"):
        result = args[0]
        for arg in args[1:]:
            if reuse:
                result = result.add_(arg) if merge == "add" else result.mul_(arg)
            else:
                result = result + arg if merge == "add" else result * arg
        return result
    if module is None:
        return args[0] if args else x
    return module(*args)  # one input, or a second one giving a size (ResizeLike, CenterCrop)


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
