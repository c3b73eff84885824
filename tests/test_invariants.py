"""Invariants over every built-in spec: each metric's rows sum to its total (inference rows for
costs and memory, every row for parameters and for the with-training-branches figures), under
every FLOP convention, and the JSON totals are the same numbers."""

from __future__ import annotations

import json

import pytest

from archcalc import Conventions, analyze, build_graph, load
from archcalc.conventions import FLOP_PRESETS
from archcalc.report import to_json
from archcalc.zoo import zoo_entries

ZOO = [entry.name for entry in zoo_entries()]


@pytest.mark.parametrize("name", ZOO)
def test_rows_sum_to_totals(name):
    graph = build_graph(load(name))
    for preset, params in zip(FLOP_PRESETS, ["torch", "keras"] * len(FLOP_PRESETS)):
        analysis = analyze(graph, Conventions(flops=preset, dtype="float16", batch=3, params=params))
        rows, totals = analysis.rows, analysis.totals
        inference = [row for row in rows if not row.training_only]
        assert totals.trainable_params == sum(row.params.trainable for row in rows)
        assert totals.buffers == sum(row.params.non_trainable for row in rows)
        assert totals.non_trainable_params == (totals.buffers if params == "keras" else 0)
        assert totals.params == totals.trainable_params + totals.non_trainable_params == sum(r.counted_params for r in rows)
        assert totals.params_inference == sum(row.counted_params for row in inference)
        assert totals.param_bytes == 2 * totals.params  # float16
        assert totals.macs == sum(row.macs for row in inference)
        assert totals.flops == sum(row.flops for row in inference) == analysis.flops_under(preset)
        assert totals.macs_with_training_only == sum(row.macs for row in rows)
        assert totals.flops_with_training_only == sum(row.flops for row in rows)
        assert totals.activation_elems == sum(row.activation_elems for row in inference)
        assert totals.activation_bytes == sum(row.activation_bytes for row in inference) == 3 * 2 * totals.activation_elems
        assert all(row.flops == FLOP_PRESETS[preset].formula(row.ops) for row in rows)


@pytest.mark.parametrize("name", ZOO)
def test_json_totals_are_the_analysis(name):
    analysis = analyze(build_graph(load(name)))
    data = json.loads(to_json(analysis))
    assert data["totals"]["params"] == sum(layer["params"] for layer in data["layers"])
    assert data["totals"]["macs"] == sum(layer["macs"] for layer in data["layers"] if not layer["training_only"])
