"""Importing a PyTorch model: torch.fx traces it, each operation becomes a layer.

The model is built on the ``meta`` device (no memory for weights, no arithmetic) and traced
with ``torch.fx.symbolic_trace``'s tracer in eval mode; an interpreter then runs the graph on a
meta tensor of the input's shape, so every operation's input and output shapes, and every
value computed from shapes (``x.size(0)``), are known. Modules of ``torch.nn`` and the
torchvision modules archcalc has a type for are leaves; anything else is traced into.

Each operation is mapped by the layer type that names it in ``torch_imports`` (``Conv2d``,
``relu``, ``cat``, ...), whose ``from_torch`` reads the fields. Pure plumbing (shape arithmetic,
``contiguous``, ``nn.Identity``) disappears; an operation nothing maps is an error naming the
node, the call and its module, with the list of what is supported, unless
``allow_unsupported`` makes it a ``placeholder`` layer that every report flags.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import operator
import sys
from pathlib import Path
from typing import Any

from ..errors import ArchcalcError
from ..layers.base import TorchCall, Unsupported, torch_imports
from .network import NETWORK_INPUT, ImportedNetwork, ImportedOp

PASS_THROUGH = frozenset({"contiguous", "clone", "detach", "Identity", "float", "to", "type_as"})
"""Operations that hand their input on unchanged (as archcalc counts)."""

LEAF_CLASSES = frozenset({"LayerNorm2d", "StochasticDepth", "Permute"})
"""torchvision modules archcalc has a type for, traced as one operation rather than traced into."""


class ImportFailed(ArchcalcError):
    """The model cannot be loaded, traced or expressed."""


def load_model(source: str, args: dict[str, Any]):
    """The nn.Module named by SOURCE, built on the meta device: ``torchvision:NAME``,
    ``path/to/file.py:NAME`` or ``package.module:NAME`` (a class or a factory, called with ``args``)."""
    torch = _torch()
    kind, _, name = source.partition(":")
    if not name:
        raise ImportFailed(f"'{source}': expected torchvision:NAME, FILE.py:NAME, MODULE:NAME or a .onnx file",
                           hint="e.g. torchvision:resnet50, models.py:Net, mypackage.models:build_net")
    if kind == "torchvision":
        try:
            import torchvision
        except ImportError:
            raise ImportFailed("torchvision is not installed", hint="pip install torchvision") from None
        if name not in torchvision.models.list_models():
            raise ImportFailed(f"torchvision has no model '{name}'",
                               hint="torchvision.models.list_models() lists them, e.g. resnet50, efficientnet_b0")
        factory = _torchvision_factory(torchvision, name)
    else:
        factory = getattr(_module(kind), name, None)
        if factory is None:
            raise ImportFailed(f"'{kind}' has no '{name}'")
    try:
        with torch.device("meta"):  # no memory for the weights, no time to initialise them
            model = factory(**args)
    except TypeError as err:
        raise ImportFailed(f"cannot build {source} with arguments {args}: {err}",
                           hint="pass the constructor's keyword arguments with --args name=value") from None
    except Exception:  # noqa: BLE001 - a constructor that computes with tensors (RegNet's widths) needs real ones
        try:
            with _no_initialisation(torch):  # the weights' memory is allocated but never written, so not used
                model = factory(**args).to("meta")
        except Exception as err:  # noqa: BLE001
            raise ImportFailed(f"cannot build {source}: {type(err).__name__}: {err}") from None
    if not isinstance(model, torch.nn.Module):
        raise ImportFailed(f"{source} gave a {type(model).__name__}, not a torch.nn.Module")
    return model.eval()


@contextlib.contextmanager
def _no_initialisation(torch):
    """torch.nn.init's functions as no-ops while a model is built on the CPU: a 644-million-parameter
    RegNet then builds in a second, its untouched pages costing no memory."""
    names = [name for name in dir(torch.nn.init) if name.endswith("_") and not name.startswith("_")]
    saved = {name: getattr(torch.nn.init, name) for name in names}
    try:
        for name in names:
            setattr(torch.nn.init, name, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for name, function in saved.items():
            setattr(torch.nn.init, name, function)


def _torchvision_factory(torchvision, name: str):
    """A torchvision builder without pretrained weights (nor a pretrained backbone: segmentation
    models would download one)."""
    import inspect

    builder = torchvision.models.get_model_builder(name)
    fixed = {"weights": None}
    if "weights_backbone" in inspect.signature(builder).parameters:
        fixed["weights_backbone"] = None
    return lambda **kw: builder(**fixed, **kw)


def _module(kind: str):
    """A module by file path (``models.py``) or import path (``pkg.models``). Importing runs its code."""
    if kind.endswith(".py"):
        path = Path(kind)
        if not path.is_file():
            raise ImportFailed(f"no file '{kind}'")
        spec = importlib.util.spec_from_file_location(f"archcalc_import_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module
    try:
        return importlib.import_module(kind)
    except ImportError as err:
        raise ImportFailed(f"cannot import '{kind}': {err}") from None


def _torch():
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError:
        raise ImportFailed("importing a PyTorch model needs PyTorch", hint="pip install 'archcalc[torch]'") from None
    return torch


def _autowrapped() -> tuple:
    """Functions traced as one call: torchvision's channel_shuffle (a view, a transpose and a view)."""
    try:
        from torchvision.models.shufflenetv2 import channel_shuffle
    except ImportError:
        return ()
    return (channel_shuffle,)


def trace(model, input_shape: tuple[int, ...]):
    """(GraphModule, every node's value on a meta input of batch 1)."""
    torch = _torch()
    table = torch_imports()

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, module, qualified_name: str) -> bool:
            """torch.nn's modules, torchvision's that archcalc has a type for, and their subclasses."""
            names = {cls.__name__ for cls in type(module).__mro__}
            return bool(names & LEAF_CLASSES) or any(name in table and name[0].isupper() for name in names) \
                or super().is_leaf_module(module, qualified_name)

    tracer = Tracer(autowrap_functions=_autowrapped())
    try:
        graph = tracer.trace(model)
    except Exception as err:  # noqa: BLE001 - any tracing failure is the user's model's
        raise ImportFailed(f"torch.fx cannot trace {type(model).__name__}: {type(err).__name__}: {err}",
                           hint="torch.fx needs a forward without data-dependent control flow; "
                                "mark such code with torch.fx.wrap, or export to ONNX and import the .onnx file") from None
    module = torch.fx.GraphModule(tracer.root, graph)
    values: dict[Any, Any] = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, node):
            result = super().run_node(node)
            values[node] = result
            return result

    try:
        Recorder(module).run(torch.empty((1, *input_shape), device=_device(model)))
    except Exception as err:  # noqa: BLE001
        raise ImportFailed(f"the traced model does not run on a {list(input_shape)} input: {type(err).__name__}: {err}",
                           hint="check --input (channels first, e.g. 3,224,224)") from None
    return module, values


def _device(model):
    """Where the model's tensors are: meta for the models archcalc builds; a model the caller passes
    runs once where it is (its weights are not moved or copied)."""
    tensor = next(iter(model.parameters()), None)
    tensor = tensor if tensor is not None else next(iter(model.buffers()), None)
    return tensor.device if tensor is not None else "meta"


class _Converter:
    """fx nodes → ImportedOps."""

    def __init__(self, model, module, values, allow_unsupported: bool) -> None:
        import torch

        self.torch = torch
        self.model = model  # for the classes of modules (the traced GraphModule keeps only the called ones)
        self.module = module
        self.values = values
        self.allow = allow_unsupported
        self.table = torch_imports()
        self.ops: list[ImportedOp] = []
        self.produced: dict[Any, int] = {}  # node -> op index whose tensor it is
        self.chunks: dict[Any, tuple[Any, TorchCall]] = {}
        self.names: dict[tuple[str, ...], dict[str, int]] = {}
        self.classes: dict[tuple[str, ...], str] = {}
        self.calls: dict[str, int] = {}  # module target -> calls so far
        self.used: set[str] = set()  # modules called and parameters read
        self.unsupported: list[str] = []

    def is_tensor(self, node) -> bool:
        return isinstance(self.values.get(node), self.torch.Tensor)

    def run(self) -> list[int]:
        outputs: list[int] = []
        for node in self.module.graph.nodes:
            if node.op == "placeholder":
                if self.produced:
                    raise ImportFailed("the model takes more than one input tensor", hint="archcalc analyses single-input networks")
                self.produced[node] = NETWORK_INPUT
            elif node.op == "output":
                outputs = [self.produced[n] for n in self._tensor_nodes(node.args) if n in self.produced]
            elif node.op == "get_attr":
                continue
            else:
                self.convert(node)
        return outputs

    def _tensor_nodes(self, value) -> list[Any]:
        """Tensor-valued nodes in an argument (lists, tuples and dicts searched), in order. A parameter
        read directly (get_attr) is not one: it is a constant operand, which the layer rules refuse."""
        import torch.fx

        if isinstance(value, torch.fx.Node):
            return [value] if self.is_tensor(value) and value.op != "get_attr" else []
        if isinstance(value, (list, tuple)):
            return [n for item in value for n in self._tensor_nodes(item)]
        if isinstance(value, dict):
            return [n for item in value.values() for n in self._tensor_nodes(item)]
        return []

    def _concrete(self, value):
        import torch.fx

        if isinstance(value, torch.fx.Node):
            return f"<tensor {value.target}>" if value.op == "get_attr" else self.values.get(value)
        if isinstance(value, (list, tuple)):
            return type(value)(self._concrete(v) for v in value)
        return value

    def _shape(self, node) -> tuple[int, ...]:
        return tuple(self.values[node].shape[1:])

    def convert(self, node) -> None:
        value = self.values.get(node)
        if node.op == "call_function" and node.target is operator.getitem and node.args[0] in self.chunks:
            return self._chunk_part(node)
        if node.op == "call_function" and node.target is operator.getitem and node.args[0] in self.produced:
            self.produced[node] = self.produced[node.args[0]]  # a part of an unsupported operation's result
            return
        if not isinstance(value, self.torch.Tensor):
            if isinstance(value, tuple) and value and all(isinstance(v, self.torch.Tensor) for v in value):
                if self._op_name(node) == "chunk":
                    self.chunks[node] = (node, self._call(node, "chunk"))
                else:  # split, unbind, ...: nothing maps a tuple of tensors
                    self._emit(node, self._op_name(node), self._tensor_nodes(list(node.args)), output=value[0])
            return  # shape arithmetic and other plumbing
        tensors = self._tensor_nodes(list(node.args) + list(node.kwargs.values()))
        op = self._op_name(node)
        if (op in PASS_THROUGH or op == "cat" and len(tensors) == 1) and tensors:  # cat of one tensor: itself
            self.produced[node] = self.produced[tensors[0]]
            return
        scale = self._layer_scale(node)
        if scale is not None:
            parameter = next(a for a in node.args if getattr(a, "op", None) == "get_attr")
            self.used.add(parameter.target)
            return self._emit(node, "layer_scale", [scale], owner=tuple(parameter.target.split(".")))
        if op in ("view", "reshape", "flatten") and len(value.shape) == 2:
            op = "flatten"
        if op == "interpolate":
            return self._interpolate(node, tensors)
        self._emit(node, op, tensors)

    def _interpolate(self, node, tensors: list[Any]) -> None:
        """``F.interpolate(x, size=skip.shape[-2:])``: resized to another tensor's size, which the
        spec says by giving the upsample that tensor as its second input (FCN, DeepLab, FPN)."""
        import torch.fx

        size = node.kwargs.get("size", node.args[1] if len(node.args) > 1 else None)
        source = size
        while isinstance(source, torch.fx.Node) and not self.is_tensor(source):
            source = source.args[0] if source.args else None
        if isinstance(source, torch.fx.Node) and source in self.produced and source is not tensors[0]:
            call = self._call(node, "interpolate", tensors)
            kwargs = {k: v for k, v in call.kwargs.items() if k not in ("size", "scale_factor")}
            args = call.args[2:] if len(call.args) > 1 else ()
            resized = TorchCall("interpolate", None, (None, None, *args), kwargs,
                                (*call.inputs, self._shape(source)), call.output)
            return self._emit(node, "interpolate", [tensors[0], source], resized)
        self._emit(node, "interpolate", tensors)

    def _op_name(self, node) -> str:
        if node.op == "call_module":
            module = self.module.get_submodule(node.target)
            for cls in type(module).__mro__:
                if cls.__name__ in self.table or cls.__name__ in PASS_THROUGH or cls.__name__ in LEAF_CLASSES:
                    return cls.__name__
            return type(module).__name__
        if node.op == "call_method":
            return node.target
        return getattr(node.target, "__name__", str(node.target))

    def _layer_scale(self, node):
        """``parameter * x`` with a C×1×1 parameter (ConvNeXt's layer_scale): the tensor it scales."""
        if self._op_name(node) not in ("mul", "imul") or len(node.args) != 2:
            return None
        params = [a for a in node.args if getattr(a, "op", None) == "get_attr"]
        others = [a for a in node.args if getattr(a, "op", None) != "get_attr" and self.is_tensor(a)]
        if len(params) != 1 or len(others) != 1:
            return None
        value = self.values.get(params[0])
        if value is None:
            return None
        shape = tuple(value.shape)
        return others[0] if len(shape) >= 1 and all(d == 1 for d in shape[1:]) else None

    def _call(self, node, op: str, tensors: list[Any] | None = None) -> TorchCall:
        tensors = tensors if tensors is not None else self._tensor_nodes(list(node.args) + list(node.kwargs.values()))
        module = self.module.get_submodule(node.target) if node.op == "call_module" else None
        args = tuple(self._concrete(a) for a in node.args if not self._tensor_nodes(a)) if module is None else ()
        kwargs = {k: self._concrete(v) for k, v in node.kwargs.items() if not self._tensor_nodes(v)}
        output = self.values.get(node)
        shape = tuple(output.shape[1:]) if isinstance(output, self.torch.Tensor) else ()
        return TorchCall(op, module, args, kwargs, tuple(self._shape(t) for t in tensors), shape)

    def _where(self, node) -> str:
        stack = node.meta.get("nn_module_stack") or {}
        inside = list(stack.values())[-1] if stack else None
        text = f"node '{node.name}' ({node.op} {self._op_name(node)})"
        if inside is not None:
            text += f" in module '{inside[0]}' ({getattr(inside[1], '__name__', inside[1])})"
        return text

    def _owner(self, node, op: str) -> tuple[tuple[str, ...], str]:
        """(module path, local name) of the layer a node becomes: a module's path (``relu_1`` for its
        second call), or the operation's name inside the module it runs in (``add``, ``add_1``)."""
        if node.op == "call_module":
            parts = tuple(node.target.split("."))
            calls = self.calls.get(node.target, 0)
            self.calls[node.target] = calls + 1
            self.used.add(node.target)
            self._note_classes(parts)
            return parts[:-1], parts[-1] if not calls else f"{parts[-1]}_{calls}"
        stack = node.meta.get("nn_module_stack") or {}
        path = tuple(list(stack.values())[-1][0].split(".")) if stack else ()
        path = tuple(p for p in path if p)
        self._note_classes(path)
        base = op.replace(".", "_")
        taken = self.names.setdefault(path, {})
        count = taken.get(base, 0)
        taken[base] = count + 1
        return path, base if not count else f"{base}_{count}"

    def _note_classes(self, parts: tuple[str, ...]) -> None:
        for depth in range(1, len(parts) + 1):
            path = parts[:depth]
            if path not in self.classes:
                try:
                    self.classes[path] = type(self.model.get_submodule(".".join(path))).__name__
                except AttributeError:
                    self.classes[path] = "Module"

    def _emit(self, node, op: str, tensors: list[Any], call: TorchCall | None = None, output=None,
              owner: tuple[str, ...] | None = None) -> None:
        """The layer of one node (or a placeholder, or an entry in the list of unsupported operations).
        ``owner``: the module path and name to give it, where the node's own would be wrong."""
        call = call or self._call(node, op, tensors)
        if output is not None:
            call = TorchCall(call.op, call.module, call.args, call.kwargs, call.inputs, tuple(output.shape[1:]))
        inputs = [self.produced[t] for t in tensors]
        cls = self.table.get(op)
        functional = node.op != "call_module" and cls is not None and any(name[0].isupper() for name in cls.torch_imports)
        if node.op == "call_module" and cls is not None and type(call.module).__name__ != op and op not in LEAF_CLASSES:
            functional = True  # a subclass: hook-based counters match modules by exact class
        where = self._where(node)
        try:
            if cls is None:
                raise Unsupported(f"'{op}' has no archcalc layer type")
            tag, (fields, defaults) = cls.type_name, cls.imported(call)
        except Unsupported as err:
            if not self.allow:
                self.unsupported.append(f"{where}: {err}")
                self.produced[node] = len(self.ops)
                self.ops.append(ImportedOp((), f"unsupported_{len(self.ops)}", "placeholder",
                                           {"op": op, "shape": list(call.output)}, inputs, where=where))
                return
            what = op if cls is None else f"{op}: {err}"  # the operation, and why its type cannot take it
            tag, fields, defaults = "placeholder", {"op": what, "shape": list(call.output)}, set()
        if owner is not None:
            self._note_classes(owner[:-1])
            path, local = owner[:-1], owner[-1]
        else:
            path, local = self._owner(node, op)
        self.produced[node] = len(self.ops)
        self.ops.append(ImportedOp(path, local, tag, fields, inputs, functional, where, call.output, defaults))

    def _chunk_part(self, node) -> None:
        source, call = self.chunks[node.args[0]]
        tensors = self._tensor_nodes(list(source.args))[:1]
        part = TorchCall("chunk", None, call.args, {**call.kwargs, "index": node.args[1]}, call.inputs, self._shape(node))
        self._emit(node, "chunk", tensors, part)


def import_torch(source: str, input_shape: tuple[int, ...], args: dict[str, Any], allow_unsupported: bool = False,
                 model=None) -> ImportedNetwork:
    """The network of a PyTorch model (``model``, or the one SOURCE names)."""
    model = model if model is not None else load_model(source, args)
    module, values = trace(model, input_shape)
    converter = _Converter(model, module, values, allow_unsupported)
    outputs = converter.run()
    if converter.unsupported:
        supported = ", ".join(sorted(torch_imports()))
        shown = converter.unsupported[:10]
        raise ImportFailed(
            f"{source}: {len(converter.unsupported)} operation{'s' if len(converter.unsupported) > 1 else ''} "
            f"archcalc cannot express:\n  " + "\n  ".join(shown)
            + (f"\n  … and {len(converter.unsupported) - 10} more" if len(converter.unsupported) > 10 else ""),
            hint=f"supported: {supported}; --allow-unsupported keeps each as a placeholder layer, flagged in every report")
    notes = _unused_parameters(model, converter)
    return ImportedNetwork(type(model).__name__, source, tuple(input_shape), converter.ops, converter.classes, outputs, notes)


def _unused_parameters(model, converter: _Converter) -> list[str]:
    """Modules whose parameters the traced forward never uses (training-only branches in eval mode),
    each named by its outermost module that the forward does not enter at all."""
    touched = {".".join(parts[:depth]) for parts in (used.split(".") for used in converter.used)
               for depth in range(1, len(parts) + 1)}  # every module on the path to a used one
    unused: dict[str, int] = {}
    for name, parameter in model.named_parameters():
        owner = name.rsplit(".", 1)[0]
        if name in converter.used or owner in converter.used:
            continue
        parts = owner.split(".")
        top = next((prefix for prefix in (".".join(parts[:depth]) for depth in range(1, len(parts) + 1))
                    if prefix not in touched), owner)
        unused[top] = unused.get(top, 0) + parameter.numel()
    return [f"Not in the traced (eval-mode) forward, so not in this spec: {name} ({count:,} parameters)."
            for name, count in unused.items()]
