"""What a table shows: layer rows, modules collapsed into one row (``--depth``), and a
totals row after each expanded module. Pure functions of the Analysis."""

from __future__ import annotations

from typing import NamedTuple

from ..analysis import Analysis, LayerRow
from ..layers import Shape
from ..receptive_field import RF


class DisplayRow(NamedTuple):
    name: str
    type: str
    hparams: str
    output_shape: Shape
    params: int
    macs: int
    flops: int
    activation_bytes: int
    rf: RF
    training_only: bool
    kind: str  # 'layer', 'module' (collapsed) or 'total' (after an expanded module)
    inputs: tuple[str, ...] = ()  # what it reads (for a collapsed module: from outside it)


def _layer(row: LayerRow) -> DisplayRow:
    return DisplayRow(row.name, row.type, row.hparams, row.output_shape, row.counted_params, row.macs, row.flops,
                      row.activation_bytes, row.rf, row.training_only, "layer", row.inputs)


def counted_rows(rows: list[LayerRow]) -> list[LayerRow]:
    """The rows whose compute and memory a module's sum counts: those that run at inference, or
    all of them for a module that only training runs (an auxiliary classifier)."""
    return [row for row in rows if not row.training_only] or rows


def _aggregate(analysis: Analysis, path: str, rows: list[LayerRow], kind: str) -> DisplayRow:
    """One row standing for a module instance: sums, and the output of its last layer."""
    last = rows[-1]
    counted = counted_rows(rows)
    return DisplayRow(
        name=path if kind == "module" else f"{path} (total)",
        type=analysis.modules.get(path, "module"),
        hparams=analysis.module_args.get(path, ""),
        output_shape=last.output_shape,
        params=sum(row.counted_params for row in rows),
        macs=sum(row.macs for row in counted),
        flops=sum(row.flops for row in counted),
        activation_bytes=sum(row.activation_bytes for row in counted),
        rf=last.rf,
        training_only=all(row.training_only for row in rows),
        kind=kind,
        inputs=_outside_inputs(rows) if kind == "module" else (),
    )


def module_members(analysis: Analysis) -> dict[str, list[LayerRow]]:
    """The layers of every module instance (nested ones included), in the analysis's module order."""
    members: dict[str, list[LayerRow]] = {path: [] for path in analysis.modules}
    for row in analysis.rows:
        for path in row.scope:
            members[path].append(row)
    return members


def module_rows(analysis: Analysis) -> dict[str, DisplayRow]:
    """One collapsed row per module instance, whatever the depth (as ``--depth`` shows it)."""
    return {path: _aggregate(analysis, path, rows, "module") for path, rows in module_members(analysis).items() if rows}


def _outside_inputs(rows: list[LayerRow]) -> tuple[str, ...]:
    inside = {row.name for row in rows}
    return tuple(dict.fromkeys(name for row in rows for name in row.inputs if name not in inside))


def display_rows(analysis: Analysis, depth: int | None = None, module_totals: bool = True) -> list[DisplayRow]:
    """Rows in topological order; modules nested deeper than ``depth`` become one row each.

    ``depth`` 0 collapses every top-level module instance; None expands everything. Each
    module left expanded is followed by a totals row when ``module_totals`` is set.
    """
    groups: dict[str, list[LayerRow]] = {}
    order: list[LayerRow | str] = []
    for row in analysis.rows:
        if depth is not None and len(row.scope) > depth:
            key = row.scope[depth]
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(row)
        else:
            order.append(row)
    shown = [_aggregate(analysis, item, groups[item], "module") if isinstance(item, str) else _layer(item) for item in order]
    if not module_totals:
        return shown
    return _with_totals(analysis, order, groups, shown, depth)


def _with_totals(analysis: Analysis, order: list, groups: dict[str, list[LayerRow]], shown: list[DisplayRow],
                 depth: int | None) -> list[DisplayRow]:
    """Insert a totals row after the last shown row of each expanded module."""
    members: dict[str, list[LayerRow]] = {}
    last_item: dict[str, int] = {}
    for index, item in enumerate(order):
        for row in groups[item] if isinstance(item, str) else [item]:
            for level, path in enumerate(row.scope):
                if depth is None or level < depth:
                    members.setdefault(path, []).append(row)
                    last_item[path] = index
    result: list[DisplayRow] = []
    closing: dict[int, list[str]] = {}
    for path, index in last_item.items():
        closing.setdefault(index, []).append(path)
    for index, row in enumerate(shown):
        result.append(row)
        for path in sorted(closing.get(index, ()), key=lambda p: -p.count("/")):  # innermost first
            result.append(_aggregate(analysis, path, members[path], "total"))
    return result
