"""Spec expansion: modules, repeat, names, scopes, DAG order; a hand-checked branched network."""

from __future__ import annotations

import pytest

from archcalc import ArchcalcError, build_graph, load, load_spec_text
from archcalc.layers import layer_types
from archcalc.conventions import OpKind
from archcalc.layers.base import RULES, Layer
from archcalc.zoo import zoo_entries
from conftest import SPECS, from_text, row_map

MINI = SPECS / "mini_inception_resnet.yaml"


def test_mini_network_by_hand():
    analysis = from_text(MINI.read_text())
    rows = row_map(analysis)
    # stem: 3*3*3*16 + 16 = 448; (32 + 2 - 3)/2 + 1 = 16.5 -> 16 (warned)
    assert rows["stem"].params.total == 448 and rows["stem"].output_shape == (16, 16, 16)
    # module 'mixed' with b1=8, b2red=4, b2=8 on 16 channels:
    # b1 16*8+8 = 136; b2_reduce 16*4+4 = 68; b2 (1x3) 1*3*4*8+8 = 104; concat 8 + 8 + 16 = 32
    assert [rows[f"mix/{n}"].params.total for n in ("b1", "b2_reduce", "b2")] == [136, 68, 104]
    assert rows["mix/b2"].output_shape == (8, 16, 16)  # 'same' padding keeps 16x16
    assert rows["mix/out"].output_shape == (32, 16, 16)
    assert rows["squeeze"].params.total == 32 * 16 + 16  # 528
    # residual block, twice: two 3x3 convs without bias 9*16*16 = 2,304 each; BN 2*16 + 2*16
    for block in ("stage/1", "stage/2"):
        assert rows[f"{block}/conv1"].params.total == 2_304
        assert rows[f"{block}/bn1"].params == (32, 32, 0)  # γ, β trainable; running stats; no bias
    assert rows["stage/2/add"].inputs == ("stage/2/bn2", "stage/1/add_silu")
    assert rows["avg"].output_shape == (16, 8, 8)
    assert rows["amax"].output_shape == (16, 2, 2)
    assert rows["fc"].params.total == 16 * 20 + 20  # classes * 2 = 20 outputs
    assert rows["head"].params.total == 20 * 10  # no bias
    # trainable: 448 + 136 + 68 + 104 + 528 + 2*(2*2,304 + 2*32) + 340 + 200 = 11,168; running stats 4*32
    assert analysis.totals.trainable_params == 11_168
    assert analysis.totals.buffers == 128 and analysis.totals.non_trainable_params == 0  # torch's convention
    assert analysis.totals.params == sum(row.params.trainable for row in analysis.rows)


def test_scopes_and_modules():
    graph = build_graph(load(str(MINI)))
    assert graph.node("stage/2/conv1").scope == ("stage", "stage/2")
    assert graph.node("mix/b1").scope == ("mix",)
    assert graph.modules == {"mix": "mixed", "stage": "residual ×2", "stage/1": "residual", "stage/2": "residual"}
    # the module instance name refers to its last layer
    assert graph.node("squeeze").inputs == ("mix/out",)


def test_unused_layers_are_reported():
    graph = build_graph(load(str(MINI)))
    assert any("'unused_check'" in w and "no output depends on it" in w for w in graph.warnings)
    assert any("'head_sigmoid'" in w for w in graph.warnings)


def test_forward_references_are_sorted_topologically():
    text = """
name: fwd
input: [4, 8, 8]
layers:
  - add: {name: sum, inputs: [a, b]}
  - relu: {name: a, inputs: [input]}
  - relu: {name: b, inputs: [input]}
  - flatten: {inputs: [sum]}
"""
    graph = build_graph(load_spec_text(text))
    order = [node.name for node in graph.nodes]
    assert order == ["input", "a", "b", "sum", "b_flatten"]  # auto name from the last named entry


def test_auto_names():
    text = "name: n\ninput: [1, 8, 8]\nlayers:\n  - relu\n  - conv2d: {name: c, out: 2, kernel: 1}\n  - relu\n  - relu\n"
    names = [node.name for node in build_graph(load_spec_text(text)).nodes]
    assert names == ["input", "relu", "c", "c_relu", "c_relu_2"]


def test_repeat_plain_layer_and_expression_args():
    text = """
name: r
input: [3, 16, 16]
args: {base: 4}
layers:
  - conv2d: {name: c, out: $(base * 2), kernel: 3, padding: 1, repeat: 3}
"""
    rows = row_map(from_text(text))
    # first: 3*3*3*8 + 8 = 224; then 3*3*8*8 + 8 = 584 twice
    assert [rows[f"c/{i}"].params.total for i in (1, 2, 3)] == [224, 584, 584]


def test_overrides_change_input_and_args():
    spec = load("lenet5", input_shape=(1, 36, 36), args={"classes": 5})
    rows = row_map(from_text_spec(spec))
    assert rows["C1"].output_shape == (6, 32, 32)  # 36 - 5 + 1
    assert rows["output"].output_shape == (5,)


def from_text_spec(spec):
    from archcalc import analyze

    return analyze(build_graph(spec))


def test_module_cannot_instantiate_itself():
    text = """
name: loop
input: [1, 4, 4]
modules:
  m:
    layers:
      - m: {name: inner}
layers:
  - m: {name: outer}
"""
    with pytest.raises(ArchcalcError, match="instantiates itself"):
        build_graph(load_spec_text(text))


def test_yaml_alias_bomb_is_refused_quickly():
    # "Billion laughs": nine levels of ten aliases each expand to 10**9 values if walked.
    lines = ["name: bomb", "input: [1, 4, 4]", "layers: [relu]", "args:", "  l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, 10):
        lines.append(f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    with pytest.raises(ArchcalcError, match="expands to more than"):
        load_spec_text("\n".join(lines) + "\n")


def test_every_registered_type_implements_every_rule():
    for tag, cls in layer_types().items():
        for rule in RULES:
            assert getattr(cls, rule) is not getattr(Layer, rule), f"{tag} does not implement {rule}"
        assert isinstance(getattr(cls, "op_kind", None), OpKind), f"{tag} names no OpKind"  # no default on Layer


def test_types_registered_later_are_found_by_tag_alias_and_listing():
    """volume and resample register on first need (register_later): a fresh interpreter finds their
    types by tag, by alias, in the listing and in the import table, and a ResNet summary never imports
    them (the point of deferring: a start-up cost, so a regression guard, not a timing)."""
    import subprocess
    import sys

    probe = ("import sys; from archcalc.layers import base as b, lookup;"
             "later = ('archcalc.layers.volume', 'archcalc.layers.resample');"
             "assert not any(m in sys.modules for m in later);"
             "{check}")
    checks = ["assert lookup('conv3d').type_name == 'conv3d'",
              "assert lookup('interpolate').type_name == 'upsample'",
              "assert {'conv1d', 'center_crop'} <= set(b.layer_types()) and 'crop' in b.known_tags()",
              "assert b.torch_imports()['Conv3d'].type_name == 'conv3d'",
              "from archcalc import summarize; summarize('resnet50'); assert not any(m in sys.modules for m in later)"]
    for check in checks:
        subprocess.run([sys.executable, "-c", probe.format(check=check)], check=True)


def test_zoo_and_test_specs_use_every_layer_type():
    used = set()
    for path in [entry.path for entry in zoo_entries()] + sorted(MINI.parent.glob("*.yaml")):
        used.update(node.type for node in build_graph(load(str(path))).nodes)
    assert set(layer_types()) - used == set()


def test_docs_list_every_layer_type():
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "spec.md").read_text()
    missing = [tag for tag in layer_types() if f"`{tag}`" not in text]
    assert missing == []


def test_validated_layers_are_reused_only_for_values_of_the_same_type():
    """Each layer configuration is validated once (a cache keyed by field values), with every value
    keyed by its type too: `true` is refused right after a `1` validated the same field, though
    True == 1 in Python; and the cached layer is the same frozen object."""
    from archcalc.errors import ArchcalcError

    ok = "name: t\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {name: a, out: 1, kernel: 1}\n  - conv2d: {name: b, out: 1, kernel: 1}\n"
    analysis = from_text(ok)
    graph = build_graph(load_spec_text(ok, "t.yaml"))
    assert graph.node("a").layer is graph.node("b").layer
    assert analysis.row("b").params.trainable == 2  # 1·1·1·1 weight + 1 bias
    with pytest.raises(ArchcalcError, match="expected an integer"):
        from_text(ok + "  - conv2d: {out: true, kernel: 1}\n")
