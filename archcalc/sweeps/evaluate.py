"""Costing points: the pure work a sweep sends to its workers.

A worker receives the spec as text (so a Dask or Ray worker needs no file of ours), parses it once
(cached per process), and for each point applies the arguments and input as ``--set`` and
``--input`` would, builds the graph and analyses it. A point whose shapes do not fit is a row with
the error, not an exception: one bad corner of a space never stops the sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..conventions import Conventions

METRICS = ("params", "macs", "flops", "activation_bytes", "rf", "output_shape")
"""The columns every row has after its arguments and input (and before ``error``)."""


@dataclass(frozen=True)
class SpecSource:
    """A spec as workers receive it: its text, the name errors give it, and a family member."""

    text: str
    label: str
    variant: str | None = None

    @classmethod
    def of(cls, spec: str) -> SpecSource:
        """The file or built-in name ``spec`` as text (read here, once, with the spec reader's limits)."""
        from ..limits import MAX_SPEC_BYTES
        from ..yaml_source import read_text
        from ..zoo import resolve

        resolved = resolve(spec)
        return cls(read_text(resolved.path, MAX_SPEC_BYTES), str(resolved.path), resolved.variant)


_LOADED: dict[SpecSource, Any] = {}


def _spec(source: SpecSource):
    spec = _LOADED.get(source)
    if spec is None:
        from ..spec import load_spec_text, with_variant

        spec = load_spec_text(source.text, source.label)
        spec = with_variant(spec, source.variant) if source.variant else spec
        _LOADED.clear()  # one spec per sweep: keep only the current one
        _LOADED[source] = spec
    return spec


def declared_arguments(source: SpecSource) -> list[str]:
    """The arguments the spec declares (what a sweep may vary)."""
    return list(_spec(source).model.args)


def evaluate(source: SpecSource, conventions: Conventions, points: list[tuple[int, dict[str, Any], Any]]) -> list[dict[str, Any]]:
    """Rows of (index, args, input) points, in order."""
    from ..analysis import analyze
    from ..errors import ArchcalcError
    from ..graph import build_graph
    from ..spec import with_overrides

    spec = _spec(source)
    rows = []
    for index, args, shape in points:
        row: dict[str, Any] = {"point": index, **args, "input": "x".join(map(str, shape)) if shape else None}
        try:
            analysis = analyze(build_graph(with_overrides(spec, shape, args)), conventions)
        except ArchcalcError as err:
            row.update(dict.fromkeys(METRICS), error=err.message)
        else:
            t, last = analysis.totals, analysis.rows[-1]
            row.update(params=t.params, macs=t.macs, flops=t.flops, activation_bytes=t.activation_bytes,
                       rf=_rf(last), output_shape="x".join(map(str, last.output_shape)), error=None)
            if row["input"] is None:
                row["input"] = "x".join(map(str, analysis.input_shape))
        rows.append(row)
    return rows


def _rf(row) -> int | float:
    size = row.rf.h.size
    return size if isinstance(size, int) else float(size)
