"""A sequential colour scale for --color-by, with the legend it needs.

Nine steps of ColorBrewer's YlOrRd (light to dark), on a logarithmic scale between the
smallest and largest positive value, since layer costs span orders of magnitude; zero is
white. Dark steps get white text so labels stay readable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PALETTE = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026")
ZERO = "#ffffff"
DARK_FROM = 5  # steps from here on are dark enough for white text


@dataclass(frozen=True)
class Scale:
    low: float
    high: float

    @classmethod
    def of(cls, values: list[int]) -> Scale | None:
        positive = [v for v in values if v > 0]
        return cls(min(positive), max(positive)) if positive else None

    def step(self, value: int) -> int | None:
        """Index into PALETTE, or None for zero."""
        if value <= 0:
            return None
        if self.high <= self.low:
            return len(PALETTE) - 1
        fraction = (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return min(int(fraction * len(PALETTE)), len(PALETTE) - 1)

    def colors(self, value: int) -> tuple[str, str]:
        """(fill, font colour)."""
        step = self.step(value)
        if step is None:
            return ZERO, "#000000"
        return PALETTE[step], "#ffffff" if step >= DARK_FROM else "#000000"

    def bounds(self, step: int) -> tuple[float, float]:
        ratio = self.high / self.low if self.high > self.low else 1.0
        return (self.low * ratio ** (step / len(PALETTE)), self.low * ratio ** ((step + 1) / len(PALETTE)))
