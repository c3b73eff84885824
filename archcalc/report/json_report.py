"""The JSON summary: a documented, stable schema (docs/json-schema.md).

Shapes are always [C, H, W] (or [F] for vectors) whatever ``--layout`` says, so scripts
never have to guess. New keys may be added; existing keys keep their meaning.
"""

from __future__ import annotations

from typing import Any

from ..analysis import Analysis, LayerRow
from ..conventions import PARAM_CONVENTIONS
from ..receptive_field import to_number

SCHEMA = "archcalc.summary/1"


def _rf(row: LayerRow) -> dict[str, list[int | float]]:
    h, w = row.rf.h, row.rf.w
    return {
        "size": [to_number(h.size), to_number(w.size)],
        "stride": [to_number(h.jump), to_number(w.jump)],
        "padding": [to_number(h.padding), to_number(w.padding)],
    }


def _layer(row: LayerRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "type": row.type,
        "inputs": list(row.inputs),
        "scope": list(row.scope),
        "output_shape": list(row.output_shape),
        "params": row.counted_params,
        "trainable_params": row.params.trainable,
        "non_trainable_params": row.counted_params - row.params.trainable,
        "buffers": row.buffers,
        "macs": row.macs,
        "flops": row.flops,
        "bias_adds": row.ops.bias,
        "other_ops": row.ops.other,
        "activation_elems": row.activation_elems,
        "activation_bytes": row.activation_bytes,
        "rf": _rf(row),
        "training_only": row.training_only,
        "hparams": row.hparams,
        "line": row.line,
    }


def _modules(analysis: Analysis) -> dict[str, dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = {
        path: {"type": kind, "args": analysis.module_args.get(path, ""), "params": 0, "macs": 0, "flops": 0}
        for path, kind in analysis.modules.items()
    }
    for row in analysis.rows:
        for path in row.scope:
            entry = totals[path]
            entry["params"] += row.counted_params
            if not row.training_only:
                entry["macs"] += row.macs
                entry["flops"] += row.flops
    return totals


def to_json_dict(analysis: Analysis) -> dict[str, Any]:
    conventions = analysis.conventions
    t = analysis.totals
    return {
        "schema": SCHEMA,
        "name": analysis.name,
        "file": analysis.file,
        "input_shape": list(analysis.input_shape),
        "convention": conventions.flops,
        "conventions": {
            "output_size": conventions.rounding.value,
            "params": conventions.params,
            "params_counted": PARAM_CONVENTIONS[conventions.params],
            "flops": conventions.flops,
            "dtype": conventions.dtype,
            "batch": conventions.batch,
            "notes": conventions.describe(),
        },
        "layers": [_layer(row) for row in analysis.rows],
        "modules": _modules(analysis),
        "outputs": list(analysis.outputs),
        "totals": {
            "params": t.params,
            "trainable_params": t.trainable_params,
            "non_trainable_params": t.non_trainable_params,
            "param_bytes": t.param_bytes,
            "buffers": t.buffers,
            "params_inference": t.params_inference,
            "macs": t.macs,
            "flops": t.flops,
            "activation_elems": t.activation_elems,
            "activation_bytes": t.activation_bytes,
            "macs_with_training_only": t.macs_with_training_only,
            "flops_with_training_only": t.flops_with_training_only,
        },
        "warnings": list(analysis.warnings),
    }


def to_json(analysis: Analysis) -> str:
    import json  # only for --format json: not on a text summary's path

    return json.dumps(to_json_dict(analysis), indent=2, ensure_ascii=False) + "\n"
