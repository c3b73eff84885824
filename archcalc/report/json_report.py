"""The JSON summary: a documented, stable schema (docs/json-schema.md).

Shapes are always [C, H, W] (or [F] for vectors) whatever ``--layout`` says, so scripts
never have to guess. New keys may be added; existing keys keep their meaning.
"""

from __future__ import annotations

import json
from typing import Any

from ..analysis import Analysis
from ..conventions import Rounding

SCHEMA = "archcalc.summary/1"


def to_json_dict(analysis: Analysis) -> dict[str, Any]:
    conventions = analysis.conventions
    return {
        "schema": SCHEMA,
        "name": analysis.name,
        "file": analysis.file,
        "input_shape": list(analysis.input_shape),
        "conventions": {
            "output_size": "floor" if conventions.rounding is Rounding.FLOOR else "exact",
            "params": "trainable = torch parameters(); non_trainable = BatchNorm running mean/var",
            "notes": conventions.describe(),
        },
        "layers": [
            {
                "name": row.name,
                "type": row.type,
                "inputs": list(row.inputs),
                "scope": list(row.scope),
                "output_shape": list(row.output_shape),
                "params": row.params.total,
                "trainable_params": row.params.trainable,
                "non_trainable_params": row.params.non_trainable,
                "hparams": row.hparams,
                "line": row.line,
            }
            for row in analysis.rows
        ],
        "modules": analysis.modules,
        "outputs": list(analysis.outputs),
        "totals": {
            "params": analysis.totals.params,
            "trainable_params": analysis.totals.trainable_params,
            "non_trainable_params": analysis.totals.non_trainable_params,
        },
        "warnings": list(analysis.warnings),
    }


def to_json(analysis: Analysis) -> str:
    return json.dumps(to_json_dict(analysis), indent=2, ensure_ascii=False) + "\n"
