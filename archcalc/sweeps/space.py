"""A design space: the values of each argument and the input sizes, and its points.

A point is found from its index by mixed-radix decoding, so a space of any size is walked or
sampled without being listed: ``--sample 1000`` of 10^12 points draws 1,000 indices.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ArchcalcError
from ..limits import MAX_DIM

MAX_VALUES = 100_000
"""Values one argument may take (a range 1..10**9 is a typo, not a plan)."""

_RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*(?::\s*(\d+)\s*)?$")


class SpaceError(ArchcalcError):
    """A grid or input pattern that cannot be read."""


def parse_values(text: str, what: str) -> list[Any]:
    """``16,32,64``, ``2..8`` (inclusive), ``2..16:2`` (a step), or YAML scalars: ``0.5,1.0``, ``true,false``."""
    from ..errors import SpecError
    from ..yaml_source import parse_yaml

    match = _RANGE.match(text)
    if match:
        low, high, step = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
        if step < 1 or high < low:
            raise SpaceError(f"{what}: '{text}' is an empty range", hint="write LOW..HIGH with LOW ≤ HIGH, e.g. 2..8 or 2..16:2")
        if (high - low) // step + 1 > MAX_VALUES:
            raise SpaceError(f"{what}: '{text}' has more than {MAX_VALUES:,} values (MAX_VALUES)")
        return list(range(low, high + 1, step))
    values = []
    for part in text.split(","):
        if not part.strip():
            raise SpaceError(f"{what}: an empty value in '{text}'", hint="separate values with commas: 16,32,64")
        try:
            values.append(parse_yaml(part, what))
        except SpecError as err:
            raise SpaceError(f"{what}: {err.message}") from None
    if len(values) > MAX_VALUES:
        raise SpaceError(f"{what}: more than {MAX_VALUES:,} values (MAX_VALUES)")
    return values


def parse_inputs(text: str) -> list[tuple[int, ...]]:
    """``3,224,224``; ``3,{160,224,288}`` (C and a size: square inputs, 3×160×160 …);
    ``3,{160,224},{160,224}`` (every height with every width)."""
    parts = re.findall(r"\{[^}]*\}|[^,{}]+", text)
    if ",".join(parts).replace(" ", "") != text.replace(" ", "") or not parts:
        raise SpaceError(f"--input '{text}': expected C,H,W with {{a,b}} for choices, e.g. 3,{{160,224,288}}")
    choices = []
    for part in parts:
        values = part.strip("{}").split(",")
        if not all(v.strip().isdigit() and 1 <= int(v) <= MAX_DIM for v in values):
            raise SpaceError(f"--input '{text}': '{part}' is not a positive size or a {{a,b}} choice of them")
        choices.append([int(v) for v in values])
    if len(choices) == 2 and len(choices[1]) > 1:  # C,{sizes}: square inputs
        return [(c, size, size) for c in choices[0] for size in choices[1]]
    return [tuple(shape) for shape in itertools.product(*choices)]


@dataclass(frozen=True)
class Space:
    """Arguments (name → values, in order) and input shapes (None: the spec's own)."""

    args: tuple[tuple[str, tuple[Any, ...]], ...]
    inputs: tuple[tuple[int, ...] | None, ...] = (None,)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.args]

    @property
    def size(self) -> int:
        size = len(self.inputs)
        for _, values in self.args:
            size *= len(values)
        return size

    def point(self, index: int) -> tuple[dict[str, Any], tuple[int, ...] | None]:
        """The index-th point (the last argument varies fastest, then ... the input slowest)."""
        args: dict[str, Any] = {}
        for name, values in reversed(self.args):
            index, digit = divmod(index, len(values))
            args[name] = values[digit]
        return dict(reversed(list(args.items()))), self.inputs[index]

    def indices(self, sample: int | None = None, seed: int = 0) -> Iterator[int]:
        """Every index in order, or ``sample`` distinct ones drawn at random (with ``seed``), in order."""
        if sample is None or sample >= self.size:
            return iter(range(self.size))
        return iter(sorted(random.Random(seed).sample(range(self.size), sample)))


def space_of(grids: Sequence[tuple[str, list[Any]]], inputs: Sequence[tuple[int, ...]] | None) -> Space:
    names = [name for name, _ in grids]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise SpaceError(f"--grid {repeated[0]} is given twice", hint="list every value once: --grid width=16,32,64")
    return Space(tuple((name, tuple(values)) for name, values in grids), tuple(inputs) if inputs else (None,))


def read_grid_file(path: str) -> tuple[list[tuple[str, list[Any]]], list[tuple[int, ...]] | None]:
    """A YAML grid file: argument names to lists (or range strings), and ``input`` (a list of C,H,W strings
    or shapes). The same reader as specs: bounded, with line numbers in errors."""
    from pathlib import Path

    from ..yaml_source import load_yaml_file

    data = load_yaml_file(Path(path))
    if not isinstance(data, dict):
        raise SpaceError(f"{path}: expected a mapping of argument names to values", hint="e.g. width: [16, 32, 64]")
    grids, inputs = [], None
    for name, values in data.items():
        if name == "input":
            items = values if isinstance(values, list) else [values]
            inputs = [shape for item in items for shape in parse_inputs(item if isinstance(item, str) else
                                                                       ",".join(map(str, item)))]
        elif isinstance(values, str):
            grids.append((str(name), parse_values(values, f"{path}: {name}")))
        elif isinstance(values, list) and values:
            grids.append((str(name), list(values)))
        else:
            grids.append((str(name), [values]))
    return grids, inputs
