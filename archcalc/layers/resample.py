"""Resizing: nearest and bilinear interpolation (PyTorch's ``nn.Upsample`` / ``F.interpolate``), and
center cropping (U-Net's "copy and crop").

Both take the target size from their fields, or, given a second input, from that input's height
and width (``F.interpolate(x, size=skip.shape[-2:])``, as FCN, DeepLab and FPN write it).

Each output pixel i of an axis samples the input at a coordinate x(i), in input pixels:

- ``align_corners: false`` (PyTorch's default): x(i) = (i + ½)·(L/L') − ½, the pixel centres of
  the two grids aligned;
- ``align_corners: true`` (bilinear only): x(i) = i·(L − 1)/(L' − 1), the corner pixels aligned;
- nearest: the input pixel floor(i·L/L') is copied.

Bilinear reads the two input pixels around x(i) on each axis; nearest reads one. So the receptive
field of an output unit is one input unit's field (nearest) or two neighbouring ones' (bilinear:
size r + j), its jump is j·dx/di (L/L', or (L − 1)/(L' − 1) with aligned corners; a fraction), and
its first unit is centred at x(0) in input units. For nearest the units' centres step in blocks
(units 0 … s − 1 share input pixel 0): the jump is their average spacing.
Full count: nearest copies (0 ops); bilinear interpolates 4 values with 3 linear interpolations,
each a subtraction, a multiplication and an addition: 9 ops per output element.
"""

from collections.abc import Sequence
from fractions import Fraction
from typing import Any, Literal

from pydantic import model_validator

from ..conventions import OpKind
from ..errors import LayerError
from ..limits import MAX_DIM
from ..receptive_field import RF, AxisRF, exact, half
from .base import (compact, Cost, feature_map, Layer, num, numel, Pair, pair_text, ParameterFree, register, require,
                   RuleContext, Shape, torch_module, TorchCall, TorchOp)


@register("upsample", "interpolate")
class Upsample(ParameterFree, Layer):
    """Resize a feature map by an integer ``scale`` (per axis), to a ``size`` [h, w], or, with a
    second input, to that input's height and width."""

    op_kind = OpKind.UPSAMPLE_NEAREST
    torch_imports = ("Upsample", "interpolate", "upsample")
    max_inputs = 2

    scale: Pair | None = None
    size: Pair | None = None
    mode: Literal["nearest", "bilinear"] = "nearest"
    align_corners: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> "Upsample":
        if self.scale is not None and self.size is not None:
            raise ValueError("give either 'scale' (e.g. 2) or 'size' ([h, w]), not both")
        if self.align_corners and self.mode == "nearest":
            raise ValueError("align_corners applies to bilinear interpolation only (PyTorch refuses it for nearest)")
        return self

    def called_as_function(self, inputs: Sequence[Shape]) -> bool:
        return len(inputs) == 2  # F.interpolate(x, size=y.shape[-2:]), as torchvision's segmentation models call it

    def operation(self, inputs: Sequence[Shape]) -> OpKind:
        return OpKind.UPSAMPLE_BILINEAR if self.mode == "bilinear" else OpKind.UPSAMPLE_NEAREST

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        c, h, w = feature_map(inputs[0])
        out = target_size(self.size, inputs, "upsample", self.scale is not None)
        if out is None:
            out = (h * self.scale[0], w * self.scale[1])  # type: ignore[index]
        if max(out) > MAX_DIM:
            raise LayerError(f"the output {out[0]}×{out[1]} exceeds MAX_DIM ({MAX_DIM:,})")
        return (c, *out)

    def _sampling(self, length: int, out: int) -> tuple[Fraction, Fraction]:
        """(x(0), dx/di): where the first output pixel samples, and the step, in input pixels."""
        if self.align_corners:
            return Fraction(0), Fraction(length - 1, out - 1) if out > 1 else Fraction(0)
        ratio = Fraction(length, out)
        return (Fraction(0) if self.mode == "nearest" else (Fraction(1, 2) * ratio - Fraction(1, 2))), ratio

    def _axis(self, field: AxisRF, length: int, out: int) -> AxisRF:
        start, step = self._sampling(length, out)
        size = field.size + (field.jump if self.mode == "bilinear" and length > 1 else 0)
        centre = field.center + start * field.jump
        return AxisRF(exact(size), exact(field.jump * step), exact(half(size - 1) - centre), field.whole)

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        _, h, w = feature_map(inputs[0])
        return RF(self._axis(fields[0].h, h, output[1]), self._axis(fields[0].w, w, output[2]))

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost(other=9 * numel(output) if self.mode == "bilinear" else 0)

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        if len(inputs) == 2:
            return torch_module("ResizeLike", mode=self.mode, align_corners=True if self.align_corners else None)
        if self.size is not None:
            target: dict[str, Any] = {"size": tuple(self.size)}
        else:  # one number where both axes agree, as people write nn.Upsample(scale_factor=2)
            scale = self.scale  # type: ignore[assignment]
            target = {"scale_factor": float(scale[0]) if scale[0] == scale[1] else (float(scale[0]), float(scale[1]))}
        return torch_module("Upsample", **target, mode=self.mode,
                            align_corners=True if self.align_corners else None)

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        _, h, w = feature_map(inputs[0])
        how = (f"{h}·{self.scale[0]} = {output[1]}, {w}·{self.scale[1]} = {output[2]}" if self.scale is not None
               else f"resized to {output[1]}×{output[2]}" + (" (the second input's size)" if len(inputs) == 2 else ""))
        reads = "one input unit" if self.mode == "nearest" else "two neighbouring input units per axis"
        return {"output_shape": f"{how} → {ctx.shape(output)} (channels unchanged)", "params": "no parameters",
                "macs": "no multiply-accumulates",
                "rf": f"each output reads {reads}: size {num(field.h.size)}, stride {num(fields[0].h.jump)}·{num(self._sampling(h, output[1])[1])}"
                      f" = {num(field.h.jump)}" + ("" if h == w and output[1] == output[2] else " (H)")}

    def short(self) -> str:
        target = (f"×{pair_text(self.scale)}" if self.scale is not None else f"to {pair_text(self.size, 'x')}"  # type: ignore[arg-type]
                  if self.size is not None else "to the 2nd input")
        return f"{target} {self.mode}" + (", corners" if self.align_corners else "")

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """nn.Upsample or F.interpolate, by size or by an integer scale; nearest or bilinear."""
        mode = call.get("mode", 2, "nearest")
        require(mode in ("nearest", "bilinear"), f"interpolation mode '{mode}': archcalc has nearest and bilinear")
        size, scale = call.get("size", 0), call.get("scale_factor", 1)
        fields: dict[str, Any] = {"mode": mode, "align_corners": bool(call.get("align_corners", 3, False))}
        if len(call.inputs) == 2:  # resized to the second input's height and width
            return fields
        if scale is not None and size is None:
            scales = scale if isinstance(scale, (tuple, list)) else (scale, scale)
            require(all(float(s).is_integer() for s in scales), f"scale_factor {scale}: archcalc scales by integers")
            fields["scale"] = compact([int(s) for s in scales])
        else:
            fields["size"] = compact(call.output[-2:])
        return fields


def target_size(size: tuple[int, int] | None, inputs: Sequence[Shape], what: str, scaled: bool = False) -> tuple[int, int] | None:
    """The (h, w) a resize or crop produces: its ``size``, or its second input's height and width;
    None where a scale decides. A LayerError when the fields and the inputs do not say one thing."""
    if len(inputs) == 2:
        if size is not None or scaled:
            raise LayerError(f"{what} with a second input takes its size from it: drop "
                             + ("'size' and 'scale'" if what == "upsample" else "'size'"),
                             hint="or drop the second input")
        _, h, w = feature_map(inputs[1], "second input")
        return (h, w)
    if size is None and not scaled:
        raise LayerError(f"{what} needs a target: " + ("'scale' (e.g. 2), " if what == "upsample" else "")
                         + "'size' ([h, w]) or a second input whose size it takes",
                         hint=f"e.g. '{what}: {{size: [56, 56]}}' or 'inputs: [x, skip]'")
    return size


@register("center_crop", "crop")
class CenterCrop(ParameterFree, Layer):
    """The central ``size`` [h, w] of a feature map, or the central part of the second input's size
    (U-Net's "copy and crop" of the skip connection). The window starts ⌊(H − h)/2⌋ rows and
    ⌊(W − w)/2⌋ columns in. A view: no arithmetic and no new memory; the units keep their fields,
    the first unit being the one at that offset."""

    op_kind = OpKind.CROP
    max_inputs = 2
    is_view = True

    size: Pair | None = None

    def _offsets(self, inputs: Sequence[Shape], output: Shape) -> tuple[int, int]:
        return ((inputs[0][1] - output[1]) // 2, (inputs[0][2] - output[2]) // 2)

    def output_shape(self, inputs: Sequence[Shape], ctx: RuleContext) -> Shape:
        c, h, w = feature_map(inputs[0])
        out = target_size(self.size, inputs, "center_crop")
        assert out is not None
        if out[0] > h or out[1] > w:
            raise LayerError(f"cannot crop {h}×{w} to a larger {out[0]}×{out[1]}",
                             hint="the crop's target must fit inside its input")
        return (c, *out)

    def receptive_field(self, fields: Sequence[RF], inputs: Sequence[Shape], output: Shape, ctx: RuleContext) -> RF:
        top, left = self._offsets(inputs, output)
        h, w = fields[0].axes()
        return RF(AxisRF(h.size, h.jump, h.padding - top * h.jump, h.whole),
                  AxisRF(w.size, w.jump, w.padding - left * w.jump, w.whole))

    def cost(self, inputs: Sequence[Shape], output: Shape) -> Cost:
        return Cost()

    def torch_op(self, inputs: Sequence[Shape], output: Shape) -> TorchOp:
        return torch_module("CenterCrop", size=tuple(output[1:]))

    def explain(self, inputs: Sequence[Shape], output: Shape, fields: Sequence[RF], field: RF,
                ctx: RuleContext) -> dict[str, str]:
        top, left = self._offsets(inputs, output)
        return {"output_shape": f"the central {output[1]}×{output[2]} (from row {top}, column {left}): {ctx.shape(output)}",
                "params": "no parameters", "macs": "no multiply-accumulates",
                "rf": f"size {num(field.h.size)}, unchanged; the first unit is the one {top} rows in: effective padding "
                      f"{num(fields[0].h.padding)} − {top}·{num(field.h.jump)} = {num(field.h.padding)}"}

    def short(self) -> str:
        return f"to {pair_text(self.size, 'x')}" if self.size is not None else "to the 2nd input"
