"""Every specs/torchvision/ spec against what torchvision says of its model, recorded by
tools/compare_torchvision.py --fixture in tests/fixtures/torchvision_facts.json (torchvision is
not a dependency; the versions are in the file): the parameter count exactly as its weights
metadata's num_params, MACs to the printed precision of its _ops (torchvision's "GFLOPS", which
are conv and linear MACs), FlopCounterMode's total on torchvision's model equal to 2 × MACs, the
output shape, and, where torch is installed, the state_dict keys and shapes of the lowered module
(a digest of them) equal to torchvision's."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from archcalc.zoo import zoo_entries
from conftest import zoo

FACTS = json.loads((Path(__file__).parent / "fixtures" / "torchvision_facts.json").read_text())["models"]
TORCHVISION_SPECS = sorted(entry.name for entry in zoo_entries() if entry.name.startswith("torchvision/"))


def test_every_torchvision_spec_has_facts():
    assert sorted(FACTS) == TORCHVISION_SPECS


@pytest.mark.parametrize("name", TORCHVISION_SPECS)
def test_counts_equal_torchvisions(name):
    facts, analysis = FACTS[name], zoo(name)
    assert list(analysis.input_shape) == facts["input"]
    assert analysis.totals.trainable_params == facts["num_params"]
    # torchvision's segmentation models run their auxiliary head in eval mode (aux_loss=True), and
    # their _ops count it; the specs mark it training-only, so it is in the with-training total
    macs = analysis.totals.macs_with_training_only if facts["aux_in_eval"] else analysis.totals.macs
    digits = len(str(facts["_ops"]).partition(".")[2])
    assert round(macs / 1e9, digits) == facts["_ops"]
    assert 2 * macs == facts["flop_counter"]
    assert list(analysis.rows[-1].output_shape) == facts["output_shape"]


@pytest.mark.parametrize("name", TORCHVISION_SPECS)
def test_state_dict_keys_and_shapes_equal_torchvisions(name):
    pytest.importorskip("torch")
    from archcalc.backends.torch import to_module

    model = to_module(name, device="meta")
    lines = "".join(f"{key} {tuple(value.shape)}\n" for key, value in model.state_dict().items())
    assert len(model.state_dict()) == FACTS[name]["state_dict_keys"]
    assert hashlib.sha256(lines.encode()).hexdigest() == FACTS[name]["state_dict_digest"]
