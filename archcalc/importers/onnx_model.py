"""Importing an ONNX model: each standard operator becomes a layer.

The ``onnx`` package (an optional extra) reads the file and infers every tensor's shape. Each node is
put in PyTorch's words (a :class:`~archcalc.layers.base.TorchCall` of ``Conv2d``, ``MaxPool2d``,
``relu``, ...: channel counts read from the weights, ONNX's ``pads`` [top, left, bottom, right] as
per-side padding) and mapped by the layer type that imports that call, as a traced PyTorch model
is. ONNX has no module hierarchy, so the spec is flat; a layer whose weight is named like a
PyTorch parameter (``layer1.0.conv1.weight``, as torch.onnx.export writes) takes that module path
as its name, so the state_dict keys of the spec's own PyTorch lowering match.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..layers.base import TorchCall, Unsupported, torch_imports
from .network import NETWORK_INPUT, ImportedNetwork, ImportedOp
from .pytorch import ImportFailed

_ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSwish": "hardswish", "Gelu": "gelu",
                "Softmax": "softmax", "LeakyRelu": "leaky_relu", "Elu": "elu", "HardSigmoid": "hardsigmoid"}
_MERGES = {"Add": "add", "Mul": "mul", "Concat": "cat"}
_PASS_THROUGH = {"Identity", "Dropout"}  # Dropout: the identity in an inference graph (a layer when it has a ratio)


def _onnx():
    try:
        import onnx
        import onnx.numpy_helper  # noqa: F401
        import onnx.shape_inference  # noqa: F401
    except ImportError:
        raise ImportFailed("importing ONNX needs the onnx package", hint="pip install 'archcalc[onnx]'") from None
    return onnx


class _Reader:
    def __init__(self, path: Path, input_shape: tuple[int, ...] | None, allow_unsupported: bool) -> None:
        onnx = _onnx()
        try:
            model = onnx.load(str(path))
            model = onnx.shape_inference.infer_shapes(model)
        except Exception as err:  # noqa: BLE001 - a broken file is the user's
            raise ImportFailed(f"{path}: not a readable ONNX model: {type(err).__name__}: {err}") from None
        self.graph = model.graph
        self.allow = allow_unsupported
        self.table = torch_imports()
        self.constants = {t.name: onnx.numpy_helper.to_array(t) for t in self.graph.initializer}
        for node in self.graph.node:
            if node.op_type == "Constant":
                self.constants[node.output[0]] = onnx.numpy_helper.to_array(node.attribute[0].t)
        self.shapes = {info.name: self._dims(info) for info in [*self.graph.value_info, *self.graph.input, *self.graph.output]}
        inputs = [i for i in self.graph.input if i.name not in self.constants]
        if len(inputs) != 1:
            raise ImportFailed(f"{path}: the model has {len(inputs)} inputs", hint="archcalc analyses single-input networks")
        declared = self.shapes.get(inputs[0].name)
        if input_shape is None:
            if declared is None or any(d is None for d in declared[1:]):
                raise ImportFailed(f"{path}: the input's size is not fixed in the file", hint="give it with --input C,H,W")
            input_shape = tuple(declared[1:])
        self.input_shape = tuple(input_shape)
        self.produced: dict[str, int] = {inputs[0].name: NETWORK_INPUT}
        self.ops: list[ImportedOp] = []
        self.names: dict[str, int] = {}
        self.unsupported: list[str] = []

    @staticmethod
    def _dims(info) -> tuple[int | None, ...] | None:
        tensor = info.type.tensor_type
        if not tensor.HasField("shape"):
            return None
        return tuple(d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim)

    def shape(self, name: str) -> tuple[int, ...]:
        dims = self.shapes.get(name)
        if dims is None or any(d is None for d in dims[1:]):
            raise Unsupported(f"the shape of '{name}' is unknown (give the input size with --input)")
        return tuple(dims[1:])

    def run(self) -> list[int]:
        for node in self.graph.node:
            if node.op_type == "Constant":
                continue
            self.convert(node)
        return [self.produced[o.name] for o in self.graph.output if o.name in self.produced]

    def convert(self, node) -> None:
        tensors = [name for name in node.input if name and name not in self.constants]
        attrs = {a.name: _attribute(a) for a in node.attribute}
        where = f"node '{node.name or node.output[0]}' ({node.op_type})"
        if not tensors:  # computed from constants only (an Identity of a weight): a constant too
            for output in node.output:
                self.constants[output] = self.constants.get(node.input[0]) if node.op_type == "Identity" else None
            return
        if node.op_type in _PASS_THROUGH and tensors and not (node.op_type == "Dropout" and attrs.get("ratio")):
            self.produced[node.output[0]] = self.produced[tensors[0]]
            return
        try:
            call, weight = self.call(node, attrs, tensors)
            cls = self.table.get(call.op)
            if cls is None:
                raise Unsupported(f"'{call.op}' has no archcalc layer type")
            tag, (fields, defaults) = cls.type_name, cls.imported(call)
            functional = False
        except Unsupported as err:
            if not self.allow:
                self.unsupported.append(f"{where}: {err}")
                self.produced[node.output[0]] = NETWORK_INPUT
                return
            weight, defaults, functional = None, set(), False
            tag, fields = "placeholder", {"op": f"{node.op_type}: {err}", "shape": list(self._safe_shape(node.output[0]))}
        path, local = self._name(node, weight)
        self.produced[node.output[0]] = len(self.ops)
        self.ops.append(ImportedOp(path, local, tag, fields, [self.produced[t] for t in tensors], functional, where,
                                   self._safe_shape(node.output[0]), defaults))

    def _safe_shape(self, name: str) -> tuple[int, ...]:
        try:
            return self.shape(name)
        except Unsupported:
            return ()

    def _name(self, node, weight: str | None) -> tuple[tuple[str, ...], str]:
        """A PyTorch module path from the weight's name (``features.0.weight``), else the op's kind."""
        if weight and weight.endswith(".weight") and not weight.startswith("onnx::"):
            parts = tuple(weight[: -len(".weight")].split("."))
            return parts[:-1], parts[-1]
        base = node.op_type.lower()
        count = self.names.get(base, 0)
        self.names[base] = count + 1
        return (), base if not count else f"{base}_{count}"

    def call(self, node, attrs: dict[str, Any], tensors: list[str]) -> tuple[TorchCall, str | None]:
        """The PyTorch call an ONNX node is, and its weight's name."""
        op = node.op_type
        inputs = tuple(self.shape(t) for t in tensors)
        output = self.shape(node.output[0])
        weight = node.input[1] if len(node.input) > 1 and node.input[1] in self.constants else None

        def module(name: str, **fields: Any) -> TorchCall:
            return TorchCall(name, SimpleNamespace(**fields), (), {}, inputs, output)

        def function(name: str, *args: Any, **kwargs: Any) -> TorchCall:
            return TorchCall(name, None, args, kwargs, inputs, output)

        if op in ("Conv", "ConvTranspose"):
            return self._conv(node, attrs, inputs, output, module), weight
        if op == "Gemm":
            require_plain = attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0 and not attrs.get("transA")
            if not require_plain or weight is None:
                raise Unsupported("Gemm with alpha, beta, transA or a computed weight")
            w = self.constants[weight]
            features = w.shape[0] if attrs.get("transB") else w.shape[1]
            return module("Linear", out_features=int(features), bias=True if len(node.input) > 2 else None), weight
        if op in ("MaxPool", "AveragePool"):
            kernel = tuple(attrs["kernel_shape"])
            fields = dict(kernel_size=kernel, stride=tuple(attrs.get("strides", [1] * len(kernel))),
                          padding=_padding(attrs, len(kernel)), ceil_mode=bool(attrs.get("ceil_mode", 0)))
            _no_auto_pad(attrs)
            if op == "MaxPool":
                return module(f"MaxPool{len(kernel)}d", dilation=tuple(attrs.get("dilations", [1] * len(kernel))),
                              return_indices=False, **fields), None
            return module(f"AvgPool{len(kernel)}d", count_include_pad=bool(attrs.get("count_include_pad", 0)),
                          divisor_override=None, **fields), None
        if op in ("GlobalAveragePool", "GlobalMaxPool"):
            kind = "Avg" if op == "GlobalAveragePool" else "Max"
            return module(f"Adaptive{kind}Pool{len(inputs[0]) - 1}d", return_indices=False), None
        if op == "BatchNormalization":
            return module(f"BatchNorm{max(len(inputs[0]) - 1, 1)}d", eps=attrs.get("epsilon", 1e-5),
                          momentum=round(1 - attrs.get("momentum", 0.9), 10), affine=True, track_running_stats=True), weight
        if op in _ACTIVATIONS:
            return self._activation(op, attrs, function), None
        if op == "Clip":
            low, high = (self._constant(node.input[i]) if len(node.input) > i and node.input[i] else None for i in (1, 2))
            low, high = attrs.get("min", low), attrs.get("max", high)
            if low == 0 and high == 6:
                return function("relu6"), None
            if low == 0 and high is None:
                return function("relu"), None
            raise Unsupported(f"Clip to [{low}, {high}]: archcalc has relu (0, ∞) and relu6 (0, 6)")
        if op in _MERGES:
            if len(tensors) != len(node.input):
                raise Unsupported(f"{op} with a constant operand")
            return function(_MERGES[op], attrs.get("axis", 1)) if op == "Concat" else function(_MERGES[op]), None
        if op == "Flatten":
            return function("flatten"), None
        if op == "Reshape":
            return function("reshape"), None
        if op == "Transpose":
            return function("permute", *attrs["perm"]), None
        if op == "Dropout":
            return function("dropout", attrs.get("ratio", 0.5)), None
        if op == "LRN":
            return module("LocalResponseNorm", size=attrs["size"], alpha=attrs.get("alpha", 1e-4),
                          beta=attrs.get("beta", 0.75), k=attrs.get("bias", 1.0)), None
        if op == "ReduceMean":
            axes = attrs.get("axes") or (list(self._constant(node.input[1])) if len(node.input) > 1 else None)
            return function("mean", list(axes or []), bool(attrs.get("keepdims", 1))), None
        if op == "Pad":
            return self._pad(node, attrs, module), None
        if op in ("Resize", "Upsample"):
            mode = attrs.get("mode", "nearest")
            mode = {"linear": "bilinear"}.get(mode, mode)
            aligned = attrs.get("coordinate_transformation_mode") == "align_corners"
            return function("interpolate", output[-2:], None, mode, aligned), None
        raise Unsupported(f"ONNX operator '{op}'")

    def _conv(self, node, attrs, inputs, output, module) -> TorchCall:
        w = self.constants.get(node.input[1])
        if w is None:
            raise Unsupported("a convolution whose weight is computed")
        kernel = tuple(attrs.get("kernel_shape", w.shape[2:]))
        groups = attrs.get("group", 1)
        transposed = node.op_type == "ConvTranspose"
        out = w.shape[1] * groups if transposed else w.shape[0]
        fields = dict(out_channels=int(out), kernel_size=kernel, stride=tuple(attrs.get("strides", [1] * len(kernel))),
                      dilation=tuple(attrs.get("dilations", [1] * len(kernel))), groups=groups,
                      bias=True if len(node.input) > 2 and node.input[2] else None, padding_mode="zeros")
        auto = attrs.get("auto_pad", "NOTSET")
        if auto == "SAME_UPPER" and not transposed:
            fields["padding"] = "same"
        elif auto in ("NOTSET", "VALID"):
            fields["padding"] = _padding(attrs, len(kernel)) if auto == "NOTSET" else (0,) * len(kernel)
        else:
            raise Unsupported(f"auto_pad {auto}: archcalc's 'same' puts the odd pixel after (SAME_UPPER)")
        if transposed:
            fields["output_padding"] = tuple(attrs.get("output_padding", [0] * len(kernel)))
            return module("ConvTranspose2d", **fields)
        return module(f"Conv{len(kernel)}d", **fields)

    def _activation(self, op: str, attrs: dict[str, Any], function) -> TorchCall:
        name = _ACTIVATIONS[op]
        if op == "LeakyRelu":
            return function(name, attrs.get("alpha", 0.01))
        if op == "Elu":
            return function(name, attrs.get("alpha", 1.0))
        if op == "Softmax":
            return function(name, attrs.get("axis", -1))
        if op == "HardSigmoid" and abs(attrs.get("alpha", 0.2) - 1 / 6) > 1e-6:
            raise Unsupported(f"HardSigmoid with alpha {attrs.get('alpha', 0.2)}: PyTorch's is x/6 + 1/2")
        return function(name)

    def _pad(self, node, attrs, module) -> TorchCall:
        pads = attrs.get("pads") or list(self._constant(node.input[1]))
        mode = attrs.get("mode", "constant")
        value = self._constant(node.input[2]) if len(node.input) > 2 and node.input[2] else 0
        if mode != "constant" or value or len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)):
            raise Unsupported("Pad other than zero padding of the height and width")
        top, left, bottom, right = pads[2], pads[3], pads[6], pads[7]
        return module("ZeroPad2d", padding=(left, right, top, bottom))

    def _constant(self, name: str) -> Any:
        value = self.constants.get(name)
        if value is None:
            raise Unsupported(f"'{name}' is computed from constants, not a constant archcalc can read")
        return value.item() if value.size == 1 else value.tolist()


def _attribute(attribute) -> Any:
    import onnx

    value = onnx.helper.get_attribute_value(attribute)
    return value.decode() if isinstance(value, bytes) else list(value) if isinstance(value, (list, tuple)) else value


def _padding(attrs: dict[str, Any], rank: int) -> Any:
    """ONNX pads [begin..., end...] as PyTorch's symmetric padding, or per side where they differ."""
    pads = attrs.get("pads", [0] * 2 * rank)
    begin, end = pads[:rank], pads[rank:]
    if begin == end:
        return tuple(begin)
    if rank != 2:
        raise Unsupported(f"asymmetric pads {pads} on a {rank}-D window")
    return ((begin[0], end[0]), (begin[1], end[1]))


def _no_auto_pad(attrs: dict[str, Any]) -> None:
    if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise Unsupported(f"pooling with auto_pad {attrs['auto_pad']}")


def import_onnx(source: str, input_shape: tuple[int, ...] | None, allow_unsupported: bool = False) -> ImportedNetwork:
    path = Path(source)
    if not path.is_file():
        raise ImportFailed(f"no file '{source}'")
    reader = _Reader(path, input_shape, allow_unsupported)
    outputs = reader.run()
    if reader.unsupported:
        raise ImportFailed(
            f"{source}: {len(reader.unsupported)} node{'s' if len(reader.unsupported) > 1 else ''} archcalc cannot express:\n  "
            + "\n  ".join(reader.unsupported[:10]),
            hint="supported ONNX operators: Conv, ConvTranspose, Gemm, MaxPool, AveragePool, GlobalAveragePool, "
                 "GlobalMaxPool, BatchNormalization, Relu, Clip (ReLU6), Sigmoid, Tanh, LeakyRelu, Elu, HardSwish, "
                 "HardSigmoid, Gelu, Softmax, Add, Mul, Concat, Flatten, Reshape, Transpose, Dropout, LRN, ReduceMean, "
                 "Pad, Resize; --allow-unsupported keeps others as placeholder layers")
    name = reader.graph.name or path.stem
    return ImportedNetwork(name, source, reader.input_shape, reader.ops, {}, outputs)
