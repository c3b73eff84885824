"""Layers that route tensors: the network input, flatten, concat, add, multiply."""

from collections.abc import Sequence

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from ..conventions import OpKind
from ..errors import LayerError
from ..limits import MAX_DIM, MAX_TENSOR_VALUES
from ..receptive_field import INPUT_RF, RF, union
from .base import (check_divides, Cost, Dim, Layer, NO_COST, num, numel, ParamCount, ParameterFree, PointWise,
                   register, require, RuleContext, Shape, shape_str, torch_module, TorchCall, TorchOp)


def check_input_shape(value: Any) -> tuple[int, ...]:
    """A network input is (C, H, W) or (F,) of integers in [1, MAX_DIM], at most
    MAX_TENSOR_VALUES values: the one place this is checked (spec, --input, answer keys)."""
    if not isinstance(value, (list, tuple)) or len(value) not in (1, 2, 3, 4) \
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
        raise ValueError("expected [channels, height, width] of positive integers (or [features], [channels, "
                         "length], [channels, depth, height, width])")
    if max(value) > MAX_DIM:
        raise ValueError(f"each size must be at most {MAX_DIM:,} (MAX_DIM; 'archcalc docs limits')")
    check_tensor_size(tuple(value))
    return tuple(value)


def check_tensor_size(shape: Shape) -> None:
    """ValueError when a tensor holds more than MAX_TENSOR_VALUES values."""
    if numel(shape) > MAX_TENSOR_VALUES:
        raise ValueError(f"{shape_str(shape)} is {numel(shape):,} values, over the limit of "
                         f"{MAX_TENSOR_VALUES:,} (MAX_TENSOR_VALUES; 'archcalc docs limits')")


InputShape = Annotated[tuple[int, ...], BeforeValidator(check_input_shape)]


@register("input")
class Input(ParameterFree, Layer):
    """The network input: (C, H, W), or (F,) for a vector. Declared by the spec's ``input:``."""

    min_inputs = 0
    max_inputs = 0
    op_kind = OpKind.INPUT

    shape: InputShape

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        return self.shape

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return NO_COST

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        return INPUT_RF

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return TorchOp()  # the network's input tensor itself

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        return {"output_shape": f"the network input, {ctx.shape(output)}", "params": "no parameters",
                "macs": "no multiply-accumulates", "rf": "one pixel: size 1, stride 1, padding 0"}

    def short(self) -> str:
        return ""


@register("flatten")
class Flatten(ParameterFree, Layer):
    """C×H×W → C·H·W, in PyTorch's (channel-major) order. A view: no new memory.

    Every feature of the vector comes from some position, so the field of "the vector" is
    the union over all positions, as for global pooling.
    """

    op_kind = OpKind.FLATTEN
    torch_imports = ("Flatten", "flatten")
    is_view = True

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        return (numel(inputs[0]),)

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return NO_COST

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        if len(inputs[0]) != 3:
            return fields[0]
        _, h, w = inputs[0]
        return RF(fields[0].h.span(h), fields[0].w.span(w))

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("Flatten")

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        product = "·".join(map(str, inputs[0]))
        return {"output_shape": f"{product} = {num(output[0])} features", "params": "no parameters",
                "macs": "no multiply-accumulates",
                "rf": f"every position of the map: size {num(field.h.size)}" + (
                    "" if field.h.size == field.w.size else f"×{num(field.w.size)}")}

    def short(self) -> str:
        return ""

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        require(len(call.output) == 1, f"flatten to {list(call.output)}: archcalc's flatten makes a vector of each sample "
                "(start_dim 1); a partial flatten is a reshape")
        return {}


class _Merge(ParameterFree, Layer):
    """A layer reading several tensors position by position: its field is their union."""

    min_inputs = 2
    max_inputs = None

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        merged, notes = union(list(fields))
        for note in notes:
            ctx.warn(f"receptive field: {note}")
        return merged

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        sizes = ", ".join(num(f.h.size) for f in fields)
        return {"output_shape": self._output_text(inputs, output, ctx), "params": "no parameters",
                "macs": "no multiply-accumulates",
                "rf": f"the union of the inputs' fields ({sizes}): size {num(field.h.size)}"}

    def _output_text(self, inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> str:
        return f"inputs {', '.join(ctx.shape(s) for s in inputs)} → {ctx.shape(output)}"


@register("concat", "concatenate")
class Concat(_Merge):
    """Concatenation along channels (Inception, DenseNet); spatial sizes must agree. A copy: no arithmetic."""

    op_kind = OpKind.CONCAT
    torch_imports = ("cat", "concat")

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return TorchOp(merge="cat")

    def _output_text(self, inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> str:
        channels = " + ".join(str(s[0]) for s in inputs)
        return f"channels {channels} = {output[0]}, size {shape_str(output[1:])} shared → {ctx.shape(output)}"

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return NO_COST

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        first = inputs[0]
        for shape in inputs[1:]:
            if len(shape) != len(first) or shape[1:] != first[1:]:
                raise LayerError(
                    "cannot concatenate along channels: "
                    + ", ".join(shape_str(s) for s in inputs)
                    + " differ in more than the channel count",
                    hint="every input needs the same height and width; check strides and padding of the branches",
                )
        return (sum(shape[0] for shape in inputs), *first[1:])

    def short(self) -> str:
        return ""

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        dim = call.get("dim", 0, 0)
        require(dim % (len(call.inputs[0]) + 1) == 1, f"concatenation along dim {dim}: archcalc concatenates channels (dim 1)")
        return {}


@register("add")
class Add(_Merge):
    """Element-wise sum (residual connections); all shapes must be equal. n − 1 additions per element."""

    op_kind = OpKind.ADD
    torch_imports = ("add", "iadd")

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return TorchOp(merge="add")

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=(len(inputs) - 1) * numel(output))

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        if any(shape != inputs[0] for shape in inputs[1:]):
            raise LayerError(
                "cannot add tensors of shapes " + ", ".join(shape_str(s) for s in inputs),
                hint="a residual add needs identical shapes; project the shortcut with a 1×1 conv of matching stride",
            )
        return inputs[0]

    def short(self) -> str:
        return ""

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        require(not call.args and call.get("alpha", default=1) == 1,
                f"{call.op} with a constant ({call.args[0] if call.args else call.kwargs}): archcalc's merges combine tensors")
        return {}


@register("mul", "scale", "multiply")
class Mul(_Merge):
    """Element-wise product, broadcasting a C×1×1 input over H×W: the channel scaling of
    squeeze-and-excitation blocks. One multiplication per output element per extra input."""

    op_kind = OpKind.MUL
    torch_imports = ("mul", "imul")

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return TorchOp(merge="mul")

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        target = max(inputs, key=numel)
        for shape in inputs:
            broadcast = len(shape) == len(target) and shape[0] == target[0] and all(d in (1, t) for d, t in zip(shape[1:], target[1:]))
            if not broadcast:
                raise LayerError(
                    "cannot multiply tensors of shapes " + ", ".join(shape_str(s) for s in inputs),
                    hint="inputs must have equal shapes, or C×1×1 to scale each channel of a C×H×W input",
                )
        return target

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=(len(inputs) - 1) * numel(output))

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        """A C×1×1 input scales every position: its (global) field joins every unit's field."""
        spread = [i for i, shape in enumerate(inputs) if numel(shape) < numel(output)]
        local = [fields[i] for i in range(len(fields)) if i not in spread] or [fields[0]]
        merged, notes = union(local, [fields[i] for i in spread])
        for note in notes:
            ctx.warn(f"receptive field: {note}")
        return merged

    def short(self) -> str:
        return ""

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        require(not call.args and call.get("alpha", default=1) == 1,
                f"{call.op} with a constant ({call.args[0] if call.args else call.kwargs}): archcalc's merges combine tensors")
        return {}


@register("channel_shuffle", "shuffle")
class ChannelShuffle(PointWise, ParameterFree, Layer):
    """Interleaves the channels of ``groups`` groups (ShuffleNet): channel g·(C/groups) + k moves to
    k·groups + g. A permutation: no arithmetic, every position keeps its field."""

    op_kind = OpKind.CHANNEL_SHUFFLE
    torch_imports = ("channel_shuffle", "ChannelShuffle")

    groups: Dim

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        if len(inputs[0]) != 3:
            raise LayerError("expects a C×H×W feature map", hint="shuffle channels before 'flatten'")
        check_divides(self.groups, inputs[0][0])
        return inputs[0]

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return NO_COST

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("ChannelShuffle", groups=self.groups)

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        return {"output_shape": f"unchanged: {ctx.shape(output)} (channels reordered in {self.groups} groups)",
                "params": "no parameters", "macs": "no multiply-accumulates", "rf": "unchanged (a permutation of channels)"}

    def short(self) -> str:
        return f"{self.groups} groups"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return {"groups": call.get("groups", 0)}


@register("chunk", "split")
class Chunk(PointWise, ParameterFree, Layer):
    """One of ``chunks`` equal parts of the channels, the ``index``-th (PyTorch's
    ``x.chunk(chunks, dim=1)[index]``; ShuffleNet v2 splits its input in two). A view: no new
    memory, no arithmetic, every position keeps its field."""

    op_kind = OpKind.CHUNK
    torch_imports = ("chunk",)
    is_view = True

    chunks: Dim
    index: int = Field(ge=0)

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        c = inputs[0][0]
        if c % self.chunks:
            raise LayerError(f"{self.chunks} chunks do not divide the {c} channels",
                             hint="the channel count must be a multiple of chunks")
        if self.index >= self.chunks:
            raise LayerError(f"index {self.index} is not one of the {self.chunks} chunks (0 to {self.chunks - 1})")
        return (c // self.chunks, *inputs[0][1:])

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return NO_COST

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("Chunk", chunks=self.chunks, index=self.index)

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        c = inputs[0][0]
        return {"output_shape": f"channels {self.index}·{c}/{self.chunks} to {self.index + 1}·{c}/{self.chunks}: "
                                f"{ctx.shape(output)}",
                "params": "no parameters", "macs": "no multiply-accumulates", "rf": "unchanged (a part of the channels)"}

    def short(self) -> str:
        return f"{self.index + 1} of {self.chunks}"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """``x.chunk(n, dim=1)[i]``: the importer passes the part taken as ``index``."""
        dim = call.get("dim", 1, 0)
        require(dim % (len(call.inputs[0]) + 1) == 1, f"chunk along dim {dim}: archcalc chunks the channels (dim 1)")
        return {"chunks": call.get("chunks", 0), "index": call.kwargs["index"]}


@register("permute")
class Permute(PointWise, ParameterFree, Layer):
    """The axes reordered, batch axis left first: ``dims`` [1, 2, 0] makes a C×H×W map H×W×C
    (channels-last, as ConvNeXt does before its LayerNorm and linear layers), [2, 0, 1] back. A view:
    no arithmetic and no new memory; every position keeps its field."""

    op_kind = OpKind.PERMUTE
    torch_imports = ("permute", "Permute")
    is_view = True

    dims: list[int]

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        shape = inputs[0]
        if sorted(self.dims) != list(range(len(shape))):
            raise LayerError(f"dims {self.dims} is not an order of the {len(shape)} axes of {shape_str(shape)}",
                             hint=f"list each of 0 … {len(shape) - 1} once, e.g. [1, 2, 0] for channels-last")
        return tuple(shape[d] for d in self.dims)

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return NO_COST

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("Permute", dims=[0, *(d + 1 for d in self.dims)])

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        return {"output_shape": f"axes {self.dims} of {shape_str(inputs[0])}: {shape_str(output)}",
                "params": "no parameters", "macs": "no multiply-accumulates", "rf": "unchanged (axes reordered)"}

    def short(self) -> str:
        return "→ " + ",".join(map(str, self.dims))

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        dims = call.get("dims", default=call.args if len(call.args) > 1 else (call.args[0] if call.args else ()))
        rank = len(call.inputs[0]) + 1
        dims = [d % rank for d in dims]
        require(len(dims) == rank and dims[0] == 0, f"permute {dims} moves the batch axis")
        return {"dims": [d - 1 for d in dims[1:]]}


@register("layer_scale")
class LayerScale(PointWise, Layer):
    """A learnable scale per channel (the first axis), initialised to ``init``: ConvNeXt's
    ``layer_scale``, a C×1×1 parameter of its block multiplied into the residual branch (Touvron et
    al., CaiT). Lowered as a parameter of the enclosing module, named as the layer, so the
    state_dict key is torchvision's (features.1.0.layer_scale). One multiplication per element."""

    op_kind = OpKind.LAYER_SCALE
    torch_imports = ("layer_scale",)

    init: float = 1e-6

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        return inputs[0]

    def _shape(self, inputs: Sequence[Shape]) -> Shape:
        return (inputs[0][0], *[1] * (len(inputs[0]) - 1))

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return ParamCount(inputs[0][0])

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=numel(output))

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return TorchOp(parameter=self._shape(inputs), init=self.init)

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        return {"output_shape": f"unchanged: {ctx.shape(output)}", "params": f"one per channel: {inputs[0][0]:,}",
                "macs": "no multiply-accumulates (one multiplication per element)", "rf": "unchanged (element-wise)"}

    def short(self) -> str:
        return f"init {self.init:g}"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """A learnable C×1×1 tensor multiplied into the input (the importer recognises the pattern)."""
        return {"init": call.kwargs.get("init", 1e-6)}


@register("reshape", "view")
class Reshape(ParameterFree, Layer):
    """The same values in another ``shape`` (batch axis excluded; one size may be -1, computed from
    the rest), as ``x.reshape(N, *shape)``. No arithmetic. Where the last two axes (the positions)
    are kept, e.g. splitting the channels into groups, each unit keeps its field; otherwise the
    values of many positions may meet in one unit, so its field is the whole input (the rule of
    ``flatten``)."""

    op_kind = OpKind.RESHAPE
    torch_imports = ("view", "reshape")

    shape: list[int]

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        size, shape = numel(inputs[0]), list(self.shape)
        free = [i for i, d in enumerate(shape) if d == -1]
        if len(free) > 1 or any(d < 1 and d != -1 for d in shape):
            raise LayerError(f"shape {shape}: sizes are positive, with at most one -1",
                             hint="e.g. [2, -1, 7, 7] splits 2·C channels into two groups")
        known = numel(tuple(d for d in shape if d != -1))
        if free:
            if size % known:
                raise LayerError(f"cannot reshape {shape_str(inputs[0])} ({size:,} values) to {shape}")
            shape[free[0]] = size // known
        if numel(tuple(shape)) != size:
            raise LayerError(f"cannot reshape {shape_str(inputs[0])} ({size:,} values) to {shape} "
                             f"({numel(tuple(shape)):,} values)", hint="the number of values must stay the same")
        return tuple(shape)

    def _keeps_positions(self, inputs: Sequence[Shape], output: Shape) -> bool:
        return len(inputs[0]) >= 3 and len(output) >= 3 and output[-2:] == inputs[0][-2:]

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return NO_COST

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        if self._keeps_positions(inputs, output) or len(inputs[0]) != 3:
            return fields[0]
        _, h, w = inputs[0]
        return RF(fields[0].h.span(h), fields[0].w.span(w))

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("Reshape", shape=list(output))

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        rf = ("unchanged (the positions are kept)" if self._keeps_positions(inputs, output) or len(inputs[0]) != 3
              else f"every position: size {num(field.h.size)}")
        return {"output_shape": f"{shape_str(inputs[0])} → {shape_str(output)} ({numel(output):,} values)",
                "params": "no parameters", "macs": "no multiply-accumulates", "rf": rf}

    def short(self) -> str:
        return "→ " + ",".join(map(str, self.shape))

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return {"shape": list(call.output)}


@register("placeholder")
class Placeholder(PointWise, ParameterFree, Layer):
    """An operation of an imported model that archcalc cannot express (``archcalc import
    --allow-unsupported``), kept so the rest of the network can be analysed: its output ``shape`` as
    the model computed it, and ``op``, what it stands for. Nothing is counted for it (no parameters,
    no arithmetic) and the receptive field passes through unchanged, which may be wrong: every
    analysis that includes it says so in a warning. It cannot run in PyTorch."""

    op_kind = OpKind.PLACEHOLDER

    op: str
    shape: list[int]

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        if not self.shape or any(not isinstance(d, int) or d < 1 for d in self.shape):
            raise LayerError(f"shape {self.shape}: a placeholder's output shape is a list of positive sizes")
        ctx.warn(f"a placeholder for '{self.op}', which archcalc cannot express: its parameters "
                 "and arithmetic are not counted and the receptive field through it is a guess")
        return tuple(self.shape)

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return NO_COST

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        raise LayerError(f"a placeholder for '{self.op}' cannot run in PyTorch",
                         hint="replace it with the layers it stands for")

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        return {"output_shape": f"as the imported model computed it: {ctx.shape(output)}",
                "params": f"not counted (a placeholder for '{self.op}')", "macs": "not counted",
                "rf": "passed through unchanged (unknown)"}

    def short(self) -> str:
        return f"placeholder: {self.op}"
