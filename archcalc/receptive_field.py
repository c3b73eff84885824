"""Receptive-field arithmetic, per axis (Araujo, Norris & Sim, Distill 2019).

A unit's receptive field on one axis is described by three numbers, all in input pixels:

- ``size`` r: how many input pixels it sees;
- ``jump`` j: the effective stride, the distance between neighbouring units' fields;
- ``padding`` P: the effective padding; the first unit sees input pixels
  [−P, −P + r − 1], so its centre is at (r − 1)/2 − P.

Through a window layer (kernel k, stride s, dilation d, left padding p)::

    k_eff = d·(k − 1) + 1
    r' = r + (k_eff − 1)·j      j' = j·s      P' = P + p·j

A transposed convolution is a stride-1 convolution over its input upsampled by s (jump
j/s) with padding d·(k − 1) − p, so jumps, and then sizes, may be fractions: values are exact,
plain ints while they are whole (nearly always, and several times faster) and
:class:`fractions.Fraction` after a division that does not come out even. At a merge (add, concat) the field is the
union of the inputs' fields; branches whose fields are not centred on the same pixel, or
that have different jumps, are reported, never averaged.
"""

from __future__ import annotations

from typing import NamedTuple
from fractions import Fraction

from .conventions import effective_kernel


Exact = int | Fraction
"""An exact number of pixels: an int while whole, a Fraction otherwise (see :func:`exact`)."""


def exact(value: Exact) -> Exact:
    """``value`` as an int when it is whole, so that later arithmetic stays on fast ints."""
    return value.numerator if type(value) is Fraction and value.denominator == 1 else value


def half(value: Exact) -> Exact:
    """``value / 2``, exactly."""
    return exact(Fraction(value, 2)) if type(value) is int else exact(value / 2)


class AxisRF(NamedTuple):
    """Receptive field of the units of one layer along one axis (a NamedTuple: immutable and
    quick to make, several per layer)."""

    size: Exact
    jump: Exact
    padding: Exact
    whole: bool = False  # the unit sees every input pixel (after global pooling, flatten, SE scaling)

    @property
    def center(self) -> Exact:
        """Centre of the first unit's field, in input pixels."""
        return half(self.size - 1) - self.padding

    def window(self, kernel: int, stride: int | Fraction, pad_before: int, dilation: int = 1) -> AxisRF:
        k_eff = effective_kernel(kernel, dilation)
        return AxisRF(exact(self.size + (k_eff - 1) * self.jump), exact(self.jump * stride),
                      exact(self.padding + pad_before * self.jump), self.whole)

    def transposed(self, kernel: int, stride: int, pad_before: int, dilation: int = 1) -> AxisRF:
        upsampled = AxisRF(self.size, exact(Fraction(self.jump) / stride), self.padding, self.whole)
        return upsampled.window(kernel, 1, effective_kernel(kernel, dilation) - 1 - pad_before, dilation)

    def span(self, units: int) -> AxisRF:
        """One unit that sees all ``units`` positions of its input at once (global pooling, flatten)."""
        return AxisRF(exact(self.size + (units - 1) * self.jump), exact(self.jump * units), self.padding, True)


IDENTITY = AxisRF(1, 1, 0)


class RF(NamedTuple):
    """Receptive field on both axes of a feature map (or of a vector's last feature map)."""

    h: AxisRF
    w: AxisRF

    def axes(self) -> tuple[AxisRF, AxisRF]:
        return (self.h, self.w)


INPUT_RF = RF(IDENTITY, IDENTITY)


def union(fields: list[RF], broadcast: list[RF] | None = None) -> tuple[RF, list[str]]:
    """The union of merged fields, with a note for each axis where the inputs disagree.

    ``broadcast`` fields belong to inputs of one position (C×1×1) spread over the whole map
    (squeeze-and-excitation): every output unit sees them, so they widen the union but have
    no position to be aligned with. Fields that already see the whole input are not checked
    for alignment either.
    """
    broadcast = broadcast or []
    notes: list[str] = []
    axes = []
    for axis in range(2):
        axis_name = "HW"[axis]
        parts = [f.axes()[axis] for f in fields]
        everything = parts + [f.axes()[axis] for f in broadcast]
        lo = min(-p.padding for p in everything)
        hi = max(-p.padding + p.size - 1 for p in everything)
        positional = [p for p in parts if not p.whole]
        jumps = {p.jump for p in positional}
        centers = {p.center for p in positional}
        if len(jumps) > 1:
            notes.append(f"{axis_name}: inputs have different effective strides ({', '.join(fmt(j) for j in sorted(jumps))})")
        if len(centers) > 1:
            notes.append(
                f"{axis_name}: input fields are not centred on the same pixel (centres "
                f"{', '.join(fmt(c) for c in sorted(centers))}); the union spans {fmt(hi - lo + 1)} pixels"
            )
        jump = min(jumps) if jumps else min(p.jump for p in parts)
        axes.append(AxisRF(exact(hi - lo + 1), exact(jump), exact(-lo), any(p.whole for p in everything)))
    return RF(axes[0], axes[1]), notes


def fmt(value: Exact) -> str:
    """An exact value for humans: '5', '2.5', or '1/3'."""
    if value.denominator == 1:
        return str(value.numerator)
    as_float = float(value)
    return f"{as_float:g}" if Fraction(as_float).limit_denominator(1000) == value and value.denominator in (2, 4, 8) else str(value)


def to_number(value: Exact) -> int | float:
    """JSON form: an int when whole."""
    return value.numerator if value.denominator == 1 else float(value)
