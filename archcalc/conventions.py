"""Counting conventions, defined once: output size, parameters, FLOPs, memory.

Every number archcalc prints depends on a choice somebody could make differently.
This module is the single place those choices are made and named, so that reports can
say which one they used (``Conventions.describe``).

Output size of a sliding window (conv, pooling), per axis, PyTorch's formula::

    out = floor((L + p_before + p_after - d*(k - 1) - 1) / s) + 1

``p_before``/``p_after`` are the padding on each side (``padding: 2`` means 2 per side,
4 in total). When the division is not exact the window does not tile the input: the
last ``remainder`` pixels are never read. PyTorch floors silently; archcalc floors and
warns (``rounding=floor``), or rejects the layer (``rounding=error``, the CS231n
convention that such a hyper-parameter choice is invalid). Pooling layers may ask for
``ceil_mode`` (PyTorch's rule, including its "the last window must start inside the
input or left padding" correction).

Parameters: trainable parameters are what ``torch.nn.Module.parameters()`` counts
(weights, biases, BatchNorm gamma/beta). BatchNorm running mean and variance are
non-trainable state, reported separately (Keras adds them to its "Total params");
PyTorch's ``num_batches_tracked`` counter is not a parameter and is not counted.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple


class Rounding(str, enum.Enum):
    """What to do when a window does not tile its input exactly."""

    FLOOR = "floor"  # PyTorch / Keras 'valid': drop the leftover pixels, warn
    CEIL = "ceil"  # round every inexact window up (PyTorch's ceil_mode everywhere; some answer keys)
    ERROR = "error"  # CS231n: "invalid hyper-parameters", reject the spec


class OpKind(str, enum.Enum):
    """The PyTorch operation a layer lowers to, as the FLOP counters see it.

    Counters differ in what they see: fvcore traces ATen operations; thop and torchinfo hook
    ``nn.Module`` classes; ptflops hooks modules *and* patches ``torch.nn.functional``; calflops
    only patches functions. A module's ``forward`` calls a function (``nn.ReLU`` calls
    ``F.relu``), so a patched function counts module calls too, except where the module calls
    something else: ``nn.ReLU6`` runs ``F.hardtanh``, which nobody patches, so ReLU6 is its own
    kind. Every layer type names its kind (no default: a new type cannot silently drop out of
    the presets)."""

    INPUT = "input"
    CONV = "conv"
    CONV_TRANSPOSE = "conv_transpose"
    LINEAR = "linear"
    BATCH_NORM = "batch_norm"
    LAYER_NORM = "layer_norm"  # nn.LayerNorm
    LAYER_NORM_2D = "layer_norm_2d"  # LayerNorm over channels (torchvision's LayerNorm2d, a subclass)
    GROUP_NORM = "group_norm"
    INSTANCE_NORM = "instance_norm"
    LRN = "lrn"
    RELU = "relu"  # nn.ReLU -> F.relu
    RELU6 = "relu6"  # nn.ReLU6 -> F.hardtanh
    LEAKY_RELU = "leaky_relu"
    ELU = "elu"
    GELU = "gelu"
    SILU = "silu"
    SIGMOID = "sigmoid"
    TANH = "tanh"
    HARDSWISH = "hardswish"
    HARDSIGMOID = "hardsigmoid"
    SOFTMAX = "softmax"
    DROPOUT = "dropout"
    STOCHASTIC_DEPTH = "stochastic_depth"  # torchvision.ops.StochasticDepth: the identity at inference
    MAX_POOL = "max_pool"
    AVG_POOL = "avg_pool"
    ADAPTIVE_AVG_POOL = "adaptive_avg_pool"
    ADAPTIVE_AVG_POOL_ND = "adaptive_avg_pool_nd"  # 1-D and 3-D: fvcore has no handle for them
    ADAPTIVE_MAX_POOL = "adaptive_max_pool"
    PAD = "pad"
    UPSAMPLE_NEAREST = "upsample_nearest"
    UPSAMPLE_BILINEAR = "upsample_bilinear"
    CHANNEL_SHUFFLE = "channel_shuffle"
    CHUNK = "chunk"  # Tensor.chunk along channels: a view
    MEAN = "mean"  # Tensor.mean over the positions (x.mean([2, 3]))
    CROP = "crop"  # slicing the central part: a view
    PERMUTE = "permute"  # Tensor.permute: a view
    RESHAPE = "reshape"  # Tensor.reshape
    LAYER_SCALE = "layer_scale"  # a learnable per-channel scale, parameter × input (ConvNeXt)
    FLATTEN = "flatten"
    CONCAT = "concat"
    ADD = "add"
    MUL = "mul"
    PLACEHOLDER = "placeholder"  # an imported operation archcalc cannot express: nothing counted


class OpRecord(NamedTuple):
    """What a FLOP convention may look at for one layer (batch 1). A NamedTuple: immutable, and
    made once per layer of every analysis, about twice as fast to make as a frozen dataclass.

    ``macs``, ``output_macs``, ``bias`` and ``other`` come from the layer's cost rule (see
    ``archcalc.layers.base.Cost``); ``kind`` is the PyTorch operation it lowers to;
    ``functional`` says that the reference implementation calls it as a function
    (``F.relu(x)``) rather than through a module, which hook-based counters do not see.
    """

    kind: OpKind
    macs: int
    bias: int
    other: int
    in_elems: int
    out_elems: int
    trainable_params: int
    output_macs: int = 0  # MACs counted per output element (thop and torchinfo on transposed convolutions)
    out_channels: int = 1  # the output's first axis: channels, or features of a vector
    functional: bool = False


_CONVS = {OpKind.CONV, OpKind.CONV_TRANSPOSE}  # hooked as modules only by thop and ptflops (by exact class)
_POOLS = {OpKind.MAX_POOL, OpKind.AVG_POOL, OpKind.ADAPTIVE_AVG_POOL, OpKind.ADAPTIVE_AVG_POOL_ND, OpKind.ADAPTIVE_MAX_POOL}
_NORMS = {OpKind.BATCH_NORM, OpKind.LAYER_NORM, OpKind.LAYER_NORM_2D, OpKind.GROUP_NORM, OpKind.INSTANCE_NORM}
_STATISTICS_NORMS = _NORMS - {OpKind.BATCH_NORM}  # statistics computed at inference (aten layer/group/instance norm)
_UPSAMPLES = {OpKind.UPSAMPLE_NEAREST, OpKind.UPSAMPLE_BILINEAR}


def _norm_ops(op: OpRecord) -> int:
    """fvcore's and calflops' count of a layer, group or instance norm: 5 ops per input element
    with an affine transform, 4 without (both read whether the weight is given)."""
    return _if(op.kind in _STATISTICS_NORMS, (5 if op.trainable_params else 4) * op.in_elems)

# ptflops (pytorch backend): module hooks, and patched torch.nn.functional calls (each counts the
# input's elements). A module call fires both where its class is hooked and the function its
# forward calls is patched; a functional call in the reference code fires only the patch.
_PTFLOPS_HOOKED = {OpKind.RELU, OpKind.RELU6, OpKind.LEAKY_RELU, OpKind.ELU, OpKind.GELU, *_POOLS}
_PTFLOPS_PATCHED_BY_MODULE = {OpKind.RELU, OpKind.ELU, OpKind.GELU, OpKind.SILU, OpKind.SOFTMAX, *_POOLS}
_PTFLOPS_PATCHED_FUNCTIONS = _PTFLOPS_PATCHED_BY_MODULE | {OpKind.RELU6}
# calflops: patched functions only; nn.ReLU6 runs F.hardtanh, which it does not patch.
_CALFLOPS_PATCHED_BY_MODULE = {OpKind.RELU, OpKind.LEAKY_RELU, OpKind.ELU, OpKind.GELU, OpKind.SILU, OpKind.SOFTMAX,
                               *_POOLS}
_CALFLOPS_PATCHED_FUNCTIONS = _CALFLOPS_PATCHED_BY_MODULE | {OpKind.RELU6}


class FlopPreset(NamedTuple):
    """A named way of turning a layer's operations into one number."""

    name: str
    unit: str  # what the tool calls its number
    counts: str  # one line: what this preset adds up
    formula: Callable[[OpRecord], int]


def _if(condition: bool, value: int) -> int:
    return value if condition else 0


def _module(op: OpRecord, kinds: set[OpKind] | frozenset[OpKind], value: int) -> int:
    """``value`` when the op is of one of ``kinds`` and runs as a module (a hook sees it)."""
    return value if op.kind in kinds and not op.functional else 0


def _thop(op: OpRecord) -> int:
    """thop's module hooks (exact classes: not GroupNorm, nor LayerNorm2d, a subclass): BatchNorm 4
    per element, LayerNorm and InstanceNorm 2 (4 with affine), average pools their outputs, adaptive
    average pools inputs and outputs, softmax 3 per element less one per row (exp, sum, divide),
    upsampling 1 per output element (nearest) or 11 (bilinear)."""
    return (_module(op, _CONVS, op.output_macs) + _if(op.kind not in _CONVS, op.output_macs)
            + _module(op, {OpKind.BATCH_NORM}, 4 * op.in_elems)
            + _module(op, {OpKind.LAYER_NORM, OpKind.INSTANCE_NORM}, (4 if op.trainable_params else 2) * op.in_elems)
            + _module(op, {OpKind.UPSAMPLE_NEAREST}, op.out_elems)
            + _module(op, {OpKind.UPSAMPLE_BILINEAR}, 11 * op.out_elems)
            + _module(op, {OpKind.AVG_POOL}, op.out_elems)
            + _module(op, {OpKind.ADAPTIVE_AVG_POOL, OpKind.ADAPTIVE_AVG_POOL_ND}, op.in_elems + op.out_elems)
            + _module(op, {OpKind.SOFTMAX}, 3 * op.out_elems - op.out_elems // op.out_channels))


def _torchinfo(op: OpRecord) -> int:
    """torchinfo: MACs per output element and bias additions; a linear layer's count is its parameter
    count, which is its MACs plus biases on a vector but leaves out every position but one when
    nn.Linear runs over the last axis of a larger tensor (ConvNeXt's MLP); norms add their γ and β."""
    core = op.trainable_params if op.kind == OpKind.LINEAR else op.output_macs + op.bias
    return core + _if(op.kind in _NORMS, op.trainable_params)


def _ptflops(op: OpRecord) -> int:
    """Module hooks (exact classes) and patched functions. Norms count their input, doubled where the
    module has an ``affine`` attribute set (BatchNorm, GroupNorm, InstanceNorm; LayerNorm names it
    ``elementwise_affine``, so once); upsampling counts its output in the nn.Upsample hook and again
    in the patched F.interpolate."""
    patched = _PTFLOPS_PATCHED_FUNCTIONS if op.functional else _PTFLOPS_PATCHED_BY_MODULE
    sightings = _module(op, _PTFLOPS_HOOKED, 1) + (op.kind in patched)
    norm = (_module(op, {OpKind.BATCH_NORM}, 2 * op.in_elems) + _module(op, {OpKind.LAYER_NORM}, op.in_elems)
            + _module(op, {OpKind.GROUP_NORM, OpKind.INSTANCE_NORM}, (2 if op.trainable_params else 1) * op.in_elems))
    upsample = _if(op.kind in _UPSAMPLES, (_module(op, _UPSAMPLES, 1) + 1) * op.out_elems)
    core = _module(op, _CONVS, op.macs + op.bias) + _if(op.kind not in _CONVS, op.macs + op.bias)
    return core + norm + upsample + sightings * op.in_elems


def _calflops(op: OpRecord) -> int:
    patched = _CALFLOPS_PATCHED_FUNCTIONS if op.functional else _CALFLOPS_PATCHED_BY_MODULE
    return (2 * op.macs + _if(op.kind == OpKind.CONV, op.bias) + _if(op.kind == OpKind.BATCH_NORM, 2 * op.in_elems)
            + _norm_ops(op) + _if(op.kind in _UPSAMPLES, op.in_elems)  # F.interpolate by scale: the input's size
            + _if(op.kind in patched, op.in_elems))


FLOP_PRESETS: dict[str, FlopPreset] = {
    preset.name: preset
    for preset in (
        FlopPreset("macs", "MACs", "multiply-accumulates of conv and linear (papers; torchvision's _ops)",
                   lambda op: op.macs),
        FlopPreset("torch", "FLOPs", "2 × MACs of conv and linear (PyTorch FlopCounterMode)",
                   lambda op: 2 * op.macs),
        FlopPreset("full", "FLOPs", "2 × MACs + bias adds + BatchNorm, activations, pooling, element-wise ops "
                   "(archcalc's count, per layer docstring)",
                   lambda op: 2 * op.macs + op.bias + op.other),
        FlopPreset("fvcore", "flops (MACs)", "MACs + 2 × BatchNorm elements + adaptive-avg-pool input elements "
                   "+ 5 × layer/group/instance-norm elements + upsampled outputs (×4 bilinear) (fvcore FlopCountAnalysis)",
                   lambda op: op.macs + _if(op.kind == OpKind.BATCH_NORM, 2 * op.in_elems)
                   + _if(op.kind == OpKind.ADAPTIVE_AVG_POOL, op.in_elems) + _norm_ops(op)
                   + _if(op.kind == OpKind.UPSAMPLE_NEAREST, op.out_elems)
                   + _if(op.kind == OpKind.UPSAMPLE_BILINEAR, 4 * op.out_elems)),
        FlopPreset("torchinfo", "Mult-Adds", "MACs (per output element) + bias adds + γ/β count of each norm "
                   "layer; a linear layer counts its parameters once, at any number of positions (torchinfo summary)",
                   _torchinfo),
        FlopPreset("thop", "MACs", "MACs (per output element) + 4 × BatchNorm elements + avg-pool outputs + "
                   "adaptive-avg-pool inputs and outputs + softmax + layer/instance norms + upsampling; modules only, "
                   "ReLU and max-pool free (thop profile)",
                   _thop),
        FlopPreset("ptflops", "MACs", "MACs + bias adds + norm elements (×2 where 'affine') + activation and pooling "
                   "inputs and upsampled outputs, once per module hook and once per patched function (ptflops, pytorch backend)",
                   _ptflops),
        FlopPreset("ptflops_aten", "MACs", "MACs + bias adds (ptflops, aten backend)",
                   lambda op: op.macs + op.bias),
        FlopPreset("calflops", "FLOPs", "2 × MACs + conv bias adds + 2 × BatchNorm elements + 5 × other norms' "
                   "elements + inputs of the activations, pools and interpolations whose function it patches (calflops)",
                   _calflops),
    )
}
"""Each preset reproduces its tool's integer on every torchvision model with a built-in spec
and on single-layer probes of every layer type (tests/test_peer_presets.py, against
tests/fixtures/peer_counts.json from tools/peer_counts.py), with two documented exceptions that
are the tools' own: ptflops and calflops count LocalResponseNorm's internal tensor operations,
and calflops computes a transposed convolution's bias with the forward-convolution output size.
Where the reference model calls an operation functionally, the spec marks the layer
``functional: true`` and the hook-based presets leave it out, as the tools do."""

class Layout(str, enum.Enum):
    """The order in which a shape is printed. Internally shapes are always C×H×W."""

    CHW = "chw"  # PyTorch
    HWC = "hwc"  # Keras, TensorFlow, the papers and CS231n

    @property
    def label(self) -> str:
        return "C×H×W" if self is Layout.CHW else "H×W×C"

    def format(self, shape: tuple[int, ...]) -> str:
        """``96×55×55`` (chw) or ``55×55×96`` (hwc); vectors print as their length."""
        dims = shape if self is Layout.CHW or len(shape) != 3 else (*shape[1:], shape[0])
        return "×".join(str(d) for d in dims)


PARAM_CONVENTIONS: dict[str, str] = {
    "torch": "params = torch parameters() (weights, biases, BatchNorm γ/β), as torchinfo counts; BatchNorm "
             "running mean and variance are buffers, reported on their own",
    "keras": "params = trainable + non-trainable, as Keras's summary counts: BatchNorm moving mean and variance "
             "are non-trainable params",
}
"""What "Total params" counts: PyTorch's parameters() (the default) or Keras's summary."""

DTYPE_BYTES: dict[str, int] = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


@dataclass(frozen=True)
class Conventions:
    """The conventions an analysis runs under."""

    rounding: Rounding = Rounding.FLOOR
    flops: str = "torch"
    dtype: str = "float32"
    batch: int = 1
    params: str = "torch"

    def __post_init__(self) -> None:
        if self.flops not in FLOP_PRESETS:
            raise ValueError(f"unknown FLOP convention {self.flops!r}")
        if self.params not in PARAM_CONVENTIONS:
            raise ValueError(f"unknown parameter convention {self.params!r}")
        if self.dtype not in DTYPE_BYTES:
            raise ValueError(f"unknown dtype {self.dtype!r}")
        if self.batch < 1:
            raise ValueError("batch must be at least 1")

    @property
    def preset(self) -> FlopPreset:
        return FLOP_PRESETS[self.flops]

    @property
    def bytes_per_value(self) -> int:
        return DTYPE_BYTES[self.dtype]

    def counted_params(self, trainable: int, statistics: int) -> tuple[int, int]:
        """(params, non-trainable params) under the parameter convention, from a layer's trainable
        parameters and BatchNorm running statistics."""
        return (trainable + statistics, statistics) if self.params == "keras" else (trainable, 0)

    def describe(self) -> list[str]:
        """One line per convention, for report headers."""
        size = "floor((L + pad_before + pad_after - dilation*(k-1) - 1)/stride) + 1 (PyTorch); " + {
            Rounding.FLOOR: "inexact windows warn",
            Rounding.CEIL: "inexact windows round up (ceil)",
            Rounding.ERROR: "inexact windows are an error (CS231n)",
        }[self.rounding]
        return [
            f"output size: {size}",
            f"params ({self.params}): {PARAM_CONVENTIONS[self.params]}",
            "MACs: multiply-accumulates of conv and linear layers, bias excluded, batch 1",
            f"FLOPs ({self.flops}): {self.preset.counts}",
            f"memory: forward activations (every layer output except views such as flatten), "
            f"batch {self.batch}, {self.dtype} ({self.bytes_per_value} bytes per value); parameters in the same dtype",
            "receptive field: size, effective stride and effective padding per axis (Araujo et al., Distill 2019)",
        ]


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """The input span of a dilated kernel, d·(k − 1) + 1: the one place this is written."""
    return dilation * (kernel - 1) + 1


class WindowAxis(NamedTuple):
    """The result of sliding a window along one axis."""

    size: int  # output length
    remainder: int  # input pixels past the last full window (0 when the window tiles exactly)
    numerator: int  # L + pads - d*(k-1) - 1, kept for worked explanations


def window_output(
    length: int,
    kernel: int,
    stride: int,
    pad_before: int,
    pad_after: int,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> WindowAxis:
    """Output length of a window sliding over one axis (see the module docstring).

    In ceil mode the last window may overhang the end of the padded input by up to
    stride − 1 pixels, as long as it starts inside the input or its left padding (PyTorch).
    Raises ValueError when no window fits; callers turn that into a located error.
    """
    span = length + pad_before + pad_after - effective_kernel(kernel, dilation)
    if ceil_mode:
        out = (span + stride - 1) // stride + 1
        if (out - 1) * stride >= length + pad_before:
            out -= 1
        remainder = 0
    else:
        out = span // stride + 1
        remainder = span % stride
    if out < 1:
        raise ValueError(
            f"kernel {kernel}"
            + (f" (dilated to {effective_kernel(kernel, dilation)})" if dilation > 1 else "")
            + f" does not fit an input of {length} with padding {pad_before}+{pad_after}"
        )
    return WindowAxis(out, remainder, span)


def same_padding(length: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """Per-side padding for 'same' (TensorFlow's rule; PyTorch's for stride 1).

    Output is ceil(L / s); the total padding needed is split with the extra pixel
    after (bottom/right), as both TensorFlow and PyTorch do.
    """
    out = -(-length // stride)
    total = max((out - 1) * stride + effective_kernel(kernel, dilation) - length, 0)
    return total // 2, total - total // 2
