"""The layer contract and the registry of layer types.

A layer type is one class: its pydantic fields are the YAML schema of the layer
(``extra="forbid"``, so a typo is an error, not a silent default), and its methods are
its rules. Passes call the rules; they never ask which type a layer is. Adding a
rule (MACs, receptive field, explanation, torch lowering) means adding an abstract
method here and implementing it in every layer module; the registry test then fails
for any type that lacks it, instead of the type silently counting zero.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, NamedTuple, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict

from ..conventions import Conventions, Layout, OpKind, effective_kernel
from ..errors import LayerError
from ..limits import MAX_DIM
from ..receptive_field import RF

Shape = tuple[int, ...]
"""A tensor shape without the batch axis: (C, H, W) for feature maps, (F,) for vectors."""


class ParamCount(NamedTuple):
    """Parameters of one layer, split the way PyTorch and Keras differ on.

    ``bias`` says how many of the trainable parameters are biases (answer keys differ on
    whether to count them).
    """

    trainable: int
    non_trainable: int = 0
    bias: int = 0

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable


NO_PARAMS = ParamCount(0, 0)


class Cost(NamedTuple):
    """Arithmetic of one layer at inference, for one input (batch 1).

    ``macs``: multiply-accumulates of conv and linear layers, bias excluded: the quantity
    papers and torchvision report. ``bias``: bias additions. ``other``: every remaining
    arithmetic op under archcalc's own 'full' count, as the layer's docstring defines it
    (BatchNorm scale and shift, activation, pooling comparisons or sums, element-wise adds).
    Conventions (archcalc.conventions) turn these into the number a tool reports.
    """

    macs: int = 0
    bias: int = 0
    other: int = 0
    output_macs: int | None = None  # MACs counted per output element, where that differs (transposed conv)


NO_COST = Cost()


class TorchModule(NamedTuple):
    """One ``torch.nn`` module to build: its class name in ``torch.nn`` and constructor arguments."""

    cls: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    def explicit(self) -> tuple[tuple[str, Any], ...]:
        """The arguments that differ from the class's constructor defaults (TORCH_DEFAULTS)."""
        defaults = TORCH_DEFAULTS.get(self.cls, {})
        return tuple((key, value) for key, value in self.kwargs if key not in defaults or defaults[key] != value)


class TorchOp(NamedTuple):
    """How a layer runs in PyTorch, described without importing torch.

    ``modules`` are applied in order to the single input (an ``nn.Sequential`` when there are
    several, e.g. explicit padding before a window); ``merge`` names the tensor operation
    that combines several inputs ('cat' on channels, 'add', 'mul'). Neither: the identity.
    The torch backend builds modules from this, and ``archcalc export`` writes it as source.
    """

    modules: tuple[TorchModule, ...] = ()
    merge: str | None = None
    parameter: tuple[int, ...] | None = None  # a learnable tensor of this shape at the node's own path,
    init: float = 1.0  # filled with this; the node computes parameter × input (ConvNeXt's layer_scale)


TORCH_DEFAULTS: dict[str, dict[str, Any]] = {
    "Conv2d": {"stride": (1, 1), "padding": (0, 0), "dilation": (1, 1), "groups": 1, "bias": True},
    "ConvTranspose2d": {"stride": (1, 1), "padding": (0, 0), "output_padding": (0, 0), "dilation": (1, 1),
                        "groups": 1, "bias": True},
    "MaxPool2d": {"padding": (0, 0), "dilation": (1, 1), "ceil_mode": False},
    "AvgPool2d": {"padding": (0, 0), "ceil_mode": False, "count_include_pad": True},
    "BatchNorm1d": {"eps": 1e-05, "momentum": 0.1, "affine": True, "track_running_stats": True},
    "BatchNorm2d": {"eps": 1e-05, "momentum": 0.1, "affine": True, "track_running_stats": True},
    "BatchNorm3d": {"eps": 1e-05, "momentum": 0.1, "affine": True, "track_running_stats": True},
    "LocalResponseNorm": {"alpha": 1e-4, "beta": 0.75, "k": 1.0},
    "Linear": {"bias": True},
    "LeakyReLU": {"negative_slope": 0.01},
    "ELU": {"alpha": 1.0},
    "Dropout": {"p": 0.5},
    "ConstantPad2d": {},
    "Upsample": {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None},
    "GroupNorm": {"eps": 1e-05, "affine": True},
    "InstanceNorm2d": {"eps": 1e-05, "momentum": 0.1, "affine": False, "track_running_stats": False},
    "LayerNorm": {"eps": 1e-05, "elementwise_affine": True},
    "LayerNorm2d": {"eps": 1e-05, "elementwise_affine": True},
    "StochasticDepth": {"mode": "row"},
    "Chunk": {},
    "Mean": {},
    "CenterCrop": {},
    "Permute": {},
    "Reshape": {},
    "ResizeLike": {"mode": "nearest", "align_corners": None},
}
"""The constructor defaults of the torch.nn classes the layers lower to, beside the lowering:
``archcalc export`` leaves out an argument equal to its class's default."""


def torch_module(cls: str, **kwargs: Any) -> TorchOp:
    """A TorchOp of a single module."""
    return TorchOp((TorchModule(cls, tuple(kwargs.items())),))


class Window(NamedTuple):
    """The geometry of a sliding window on its input, as the layer resolves it: what shape,
    receptive-field, explanation and grading code read instead of a layer's fields."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]  # per side, 'same' resolved for this input
    dilation: tuple[int, int] = (1, 1)
    depth: int | None = None  # input channels each output reads (C_in / groups); None for pooling

    @property
    def effective(self) -> tuple[int, int]:
        """The kernel's input span per axis, d·(k − 1) + 1."""
        return (effective_kernel(self.kernel[0], self.dilation[0]), effective_kernel(self.kernel[1], self.dilation[1]))


@dataclass
class RuleContext:
    """What a rule may consult besides its inputs, and where it reports what it noticed.

    ``layer`` is the layer whose rule runs (set by the pass walk). ``inexact`` records, per
    layer, the output-size formula of each window that does not tile its input, whatever the
    rounding convention: what the CS231n convention calls invalid hyper-parameters, so that
    grading knows every such layer, not only the first one a strict analysis stops at.
    """

    conventions: Conventions = field(default_factory=Conventions)
    warnings: list[str] = field(default_factory=list)
    inexact: dict[str, str] = field(default_factory=dict)
    layer: str = ""
    layout: Layout = Layout.CHW  # how worked explanations print shapes

    def shape(self, shape: Shape) -> str:
        """A tensor shape in the context's layout, for worked explanations."""
        return self.layout.format(shape)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def note_inexact(self, formula: str) -> None:
        self.inexact.setdefault(self.layer, formula)


# ---- field types shared by the layer schemas -------------------------------------------
# Strict: a YAML ``true`` or ``"8"`` where a number belongs is an error, never 1 or 8; every
# size is bounded by MAX_DIM so that no arithmetic downstream meets an absurd number.


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bounded(value: int, low: int) -> int:
    if value < low:
        raise ValueError("must be at least 1" if low == 1 else "cannot be negative")
    if value > MAX_DIM:
        raise ValueError(f"must be at most {MAX_DIM:,} (MAX_DIM; 'archcalc docs limits')")
    return value


def _int_pair(value: Any, low: int) -> tuple[int, int]:
    """An int or an [h, w] pair of ints, each in [low, MAX_DIM]; returns (h, w)."""
    if _is_int(value):
        value = (value, value)
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_int(v) for v in value):
        return (_bounded(value[0], low), _bounded(value[1], low))
    raise ValueError("expected an integer or a pair [height, width] of integers")


def _strict_int(value: Any, low: int) -> int:
    if not _is_int(value):
        raise ValueError("expected an integer")
    return _bounded(value, low)


Dim = Annotated[int, BeforeValidator(lambda v: _strict_int(v, 1))]
"""A positive size (channels, features, groups): an integer in [1, MAX_DIM]."""

Pair = Annotated[tuple[int, int], BeforeValidator(lambda v: _int_pair(v, 1))]
"""A positive (h, w) pair written as ``3`` or ``[3, 5]``."""

NonNegativePair = Annotated[tuple[int, int], BeforeValidator(lambda v: _int_pair(v, 0))]
"""A non-negative (h, w) pair written as ``0`` or ``[1, 0]``."""


def _to_padding(value: Any) -> Any:
    """Normalize padding to 'same' or ((top, bottom), (left, right)); 'SAME' and 'VALID' as Keras
    and TensorFlow write them are the same words."""
    if isinstance(value, str) and value.strip().lower() == "valid":
        return ((0, 0), (0, 0))
    if isinstance(value, str) and value.strip().lower() == "same":
        return "same"
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (list, tuple)) for v in value):
        return (_int_pair(value[0], 0), _int_pair(value[1], 0))
    try:
        h, w = _int_pair(value, 0)
    except ValueError as err:
        if "at most" in str(err) or "negative" in str(err):
            raise
        raise ValueError(
            "expected 'same', 'valid', an integer (per side), [h, w] (per side), "
            "or [[top, bottom], [left, right]]"
        ) from None
    return ((h, h), (w, w))


PaddingSpec = Annotated[Any, BeforeValidator(_to_padding)]
"""'same' or explicit per-side padding ((top, bottom), (left, right)), each in [0, MAX_DIM]."""


def pair_text(value: tuple[int, int], sep: str = "×") -> str:
    """``3`` for a square pair, ``1×7`` otherwise."""
    return str(value[0]) if value[0] == value[1] else f"{value[0]}{sep}{value[1]}"


# ---- importing from PyTorch ------------------------------------------------------------


class Unsupported(ValueError):
    """A PyTorch call a layer type cannot express (a padding mode, a dimension, a constant operand):
    the importer reports it with the node and where it is, never skipping it."""


@dataclass(frozen=True)
class TorchCall:
    """One operation an importer found in a PyTorch model (or an ONNX node put in PyTorch's words):
    what a layer type's ``from_torch`` reads to choose its fields.

    ``op`` is the ``torch.nn`` class name of a module call (``Conv2d``), or the name of a function or
    tensor method (``relu``, ``cat``, ``add``, ``chunk``); ``module`` is the module object, whose
    attributes are read; ``args`` and ``kwargs`` are a call's arguments after its input tensors."""

    op: str
    module: Any = None
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[Shape, ...] = ()
    output: Shape = ()

    def get(self, name: str, position: int | None = None, default: Any = None) -> Any:
        """A module's attribute ``name``, or a call's keyword ``name`` or positional argument ``position``."""
        if self.module is not None:
            return getattr(self.module, name, default)
        if name in self.kwargs:
            return self.kwargs[name]
        if position is not None and position < len(self.args):
            return self.args[position]
        return default


def compact(value: Any) -> Any:
    """A PyTorch size as a spec writes it: ``3`` for (3, 3), ``[1, 7]`` for (1, 7)."""
    if isinstance(value, (tuple, list)):
        values = [compact(v) for v in value]
        return values[0] if values and all(v == values[0] for v in values) and not isinstance(values[0], list) else values
    return value


def require(condition: bool, message: str) -> None:
    """Unsupported(message) unless ``condition``: what a ``from_torch`` rule cannot express."""
    if not condition:
        raise Unsupported(message)


# ---- the layer contract -----------------------------------------------------------------


class Layer(BaseModel):
    """Base class of every layer type. Fields are hyper-parameters only.

    Graph-level keys (``name``, ``inputs``, ``repeat``) are not fields: they belong to the
    spec expander, so a layer object is the pure, hashable description of an operation.
    """

    # defer_build: a schema is compiled when a type is first used, not for all ~25 types at
    # import; `archcalc summary` is a short-lived process.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, strict=True, allow_inf_nan=False)

    type_name: ClassVar[str] = ""
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    op_kind: ClassVar[OpKind]
    """The PyTorch operation the layer lowers to (see :class:`archcalc.conventions.OpKind`);
    every registered type sets it, with no default (the registry test checks)."""
    is_view: ClassVar[bool] = False
    """True when the output aliases the input's memory (flatten): no activation memory."""
    torch_imports: ClassVar[tuple[str, ...]] = ()
    """The PyTorch operations ``archcalc import`` maps to this type: ``torch.nn`` class names and
    function or method names (see :class:`TorchCall`)."""

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """The fields that express ``call`` (Unsupported where none do). Default: no fields."""
        return {}

    @classmethod
    def imported(cls, call: TorchCall) -> tuple[dict[str, Any], set[str]]:
        """:meth:`from_torch`'s fields, checked by the schema, and which of them equal their default
        (a spec leaves those out)."""
        from pydantic import ValidationError

        fields = cls.from_torch(call)
        try:
            layer = cls.model_validate(fields)
        except ValidationError as err:
            problem = err.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise Unsupported(f"{cls.type_name} cannot take {where}={fields.get(str(problem['loc'][0]))!r}: "
                              f"{problem['msg']}") from None
        return fields, {key for key in fields if getattr(layer, key) == cls.model_fields[key].default}

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        """Shape of the output, or LayerError if the inputs are unacceptable."""
        raise NotImplementedError

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        """Trainable and non-trainable parameter counts."""
        raise NotImplementedError

    def short(self) -> str:
        """Hyper-parameters in the short form of paper tables (``11×11/4, 96``)."""
        raise NotImplementedError

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        """Arithmetic at inference for batch 1 (see :class:`Cost`)."""
        raise NotImplementedError

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        """The receptive field of this layer's units, given its inputs' fields."""
        raise NotImplementedError

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        """How to run this layer in PyTorch (see :class:`TorchOp`)."""
        raise NotImplementedError

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        """The worked arithmetic, numbers substituted, keyed by the explained metrics' values
        (archcalc.metrics.EXPLAINED: 'output_shape', 'params', 'macs', 'rf'): what ``archcalc
        explain`` prints and ``archcalc check`` shows."""
        raise NotImplementedError

    def window(self, inputs: Sequence[Shape]) -> Window | None:
        """The sliding window this layer applies to ``inputs`` (convolutions, pooling), or None."""
        return None

    def called_as_function(self, inputs: Sequence[Shape]) -> bool:
        """True when the lowering calls a function rather than a ``torch.nn`` module (which hook-based
        FLOP counters do not see), whatever the spec's ``functional`` flag says."""
        return False

    def operation(self, inputs: Sequence[Shape]) -> OpKind:
        """The PyTorch operation this instance runs on ``inputs``: the type's ``op_kind``, unless its
        fields or inputs choose another (``upsample``'s mode, ``layer_norm`` over channels)."""
        return self.op_kind


RULES: tuple[str, ...] = ("output_shape", "params", "short", "cost", "receptive_field", "torch_op", "explain")


class Worked(NamedTuple):
    """A number together with the substituted expression that computes it, built by the same
    operations, so a rule's count and its worked formula cannot drift apart: ``params`` and
    ``cost`` read ``.value``, ``explain`` reads ``.text`` (or ``.result()``, with the value).
    A NamedTuple for speed (several per layer); its ``*`` and ``+`` are the worked product and
    sum defined below, not tuple repetition and concatenation."""

    value: int
    text: str

    def __mul__(self, other: "Worked") -> "Worked":
        """Factors of one product: ``3·11·11``."""
        return Worked(self.value * other.value, f"{self.text}·{other.text}")

    def times(self, other: "Worked") -> "Worked":
        """A count of things times a size: ``96 filters × (3·11·11 + 1 bias)``."""
        return Worked(self.value * other.value, f"{self.text} × {other.text}")

    def __add__(self, other: "Worked") -> "Worked":
        return Worked(self.value + other.value, f"{self.text} + {other.text}")

    def per(self, divisor: int) -> "Worked":
        """Divided exactly (channels per group): ``64/2``."""
        return Worked(self.value // divisor, f"{self.text}/{divisor}") if divisor != 1 else self

    def paren(self) -> "Worked":
        return Worked(self.value, f"({self.text})")

    def result(self) -> str:
        return f"{self.text} = {num(self.value)}"


def worked(value: int, label: str = "") -> Worked:
    """A leaf of a worked expression: ``96``, or ``96 filters`` with a label."""
    return Worked(value, f"{value} {label}" if label else str(value))


def num(value: Any) -> str:
    """An exact number for a worked formula: 34,944, 2.5, 1/3."""
    from ..receptive_field import fmt

    if isinstance(value, int):
        return f"{value:,}"
    return fmt(value)


def per_axis(h: str, w: str) -> str:
    """One formula when both axes read the same, else both, labelled."""
    return h if h == w else f"H: {h}; W: {w}"


def shape_str(shape: Shape) -> str:
    return "×".join(str(d) for d in shape)


def passthrough_explanation(output: Shape, ctx: RuleContext, params: str = "no parameters") -> dict[str, str]:
    """For layers that keep the shape, hold no parameters and pass the field through."""
    return {"output_shape": f"unchanged: {ctx.shape(output)}", "params": params, "macs": "no multiply-accumulates",
            "rf": "unchanged (element-wise)"}
"""The rules every registered layer type must implement (checked by a test)."""


class ParameterFree:
    """Mixin for layer types that hold no parameters (pooling, activations, merges)."""

    def params(self, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return NO_PARAMS


class PointWise:
    """Mixin for layers that map each position to the same position: the field passes through."""

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        return fields[0]

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        return passthrough_explanation(output, ctx)


def check_divides(groups: int, count: int, what: str = "channels",
                  hint: str = "the channel count must be a multiple of groups") -> None:
    """LayerError unless ``groups`` splits ``count`` evenly (grouped convolutions, group norm,
    channel shuffle): the one place this rule and its wording live."""
    if count % groups:
        raise LayerError(f"groups={groups} does not divide the {count} {what}", hint=hint)


def numel(shape: Shape) -> int:
    size = 1
    for dim in shape:
        size *= dim
    return size


def feature_map(shape: Shape, what: str = "input") -> tuple[int, int, int]:
    """The (C, H, W) of a shape, or a LayerError for vectors."""
    if len(shape) != 3:
        got = f"a vector of {shape[0]}" if len(shape) == 1 else f"a {shape_str(shape)} tensor"
        hint = ("spatial layers must come before 'flatten'" if len(shape) == 1 else
                f"a {len(shape) - 1}-axis input takes the {len(shape) - 1}-D layer types (conv{len(shape) - 1}d, "
                f"max_pool{len(shape) - 1}d, ...)" if len(shape) in (2, 4) else "check the layers before it")
        raise LayerError(f"expects a C×H×W feature map as {what}, got {got}", hint=hint)
    return shape  # type: ignore[return-value]


# ---- the registry -----------------------------------------------------------------------

_REGISTRY: dict[str, type[Layer]] = {}
_ALIASES: dict[str, str] = {}
_LATER: list[str] = []
"""Layer modules registered on first need (see :func:`register_later`)."""

L = TypeVar("L", bound=type[Layer])


def register(type_name: str, *aliases: str) -> Callable[[L], L]:
    """Class decorator registering a layer type under its YAML tag (and short aliases)."""

    def decorate(cls: L) -> L:
        for tag in (type_name, *aliases):
            if tag in _REGISTRY or tag in _ALIASES:
                raise RuntimeError(f"layer type '{tag}' is registered twice")
        cls.type_name = type_name
        _REGISTRY[type_name] = cls
        for alias in aliases:
            _ALIASES[alias] = type_name
        return cls

    return decorate


def register_later(*modules: str) -> None:
    """Import these layer modules (and so register their types) only when a tag is looked up that
    the others do not know, or when every type is listed: types that few specs use (1-D and 3-D
    layers, resampling) then cost a summary of ResNet nothing (creating a pydantic class is about
    0.3 ms)."""
    _LATER.extend(modules)


def _register_the_rest() -> None:
    """Import the deferred modules. Each is imported before the list is emptied, so that a thread
    that finds the list empty finds every type registered (an import another thread has begun
    waits for it to finish)."""
    from importlib import import_module

    for module in list(_LATER):
        import_module(module)
    _LATER.clear()


def torch_imports() -> dict[str, type[Layer]]:
    """The layer type of each PyTorch operation ``archcalc import`` maps (each claimed once)."""
    _register_the_rest()
    table: dict[str, type[Layer]] = {}
    for cls in _REGISTRY.values():
        for op in cls.torch_imports:
            if op in table:
                raise RuntimeError(f"torch operation '{op}' is imported by both {table[op].type_name} and {cls.type_name}")
            table[op] = cls
    return table


def lookup(tag: str) -> type[Layer] | None:
    """The layer class for a tag or alias, or None."""
    cls = _REGISTRY.get(_ALIASES.get(tag, tag))
    if cls is None and _LATER:
        _register_the_rest()
        return lookup(tag)
    return cls


def layer_types() -> dict[str, type[Layer]]:
    """Registered layer types by canonical tag."""
    _register_the_rest()
    return dict(_REGISTRY)


def aliases_of(type_name: str) -> list[str]:
    """The short aliases registered for a canonical tag."""
    _register_the_rest()
    return sorted(alias for alias, target in _ALIASES.items() if target == type_name)


def known_tags() -> list[str]:
    """Every tag and alias, for did-you-mean suggestions."""
    _register_the_rest()
    return sorted([*_REGISTRY, *_ALIASES])
