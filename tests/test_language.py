"""The spec language's composition features: modules with several inputs, conditionals, numbered
repeats, expressions with comparisons and rounding functions, cutting a network with --until, and
training-only branches that do not fit the input. Numbers are worked out by hand in each test."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from archcalc.expressions import ExpressionError, divisible, evaluate

from conftest import from_text, row_map, zoo

LANGUAGE = (Path(__file__).parent / "specs" / "language.yaml").read_text()


@pytest.mark.parametrize("text, value", [
    ("stride == 1 and cin == cout", True),
    ("stride == 1 and cin != cout", False),
    ("not (stride > 1) or cin < 0", True),
    ("1 <= stride < 2", True),
    ("2 if stride == 1 else 1", 2),
    ("ceil(3 * 1.4)", 5),  # 4.2 -> 5 (EfficientNet-B4's depth multiplier on 3 layers)
    ("floor(7 / 2)", 3),
    ("max(8, cin * 2, 3)", 8),
    ("norm == 'batch'", True),
])
def test_expressions(text, value):
    assert evaluate(text, {"stride": 1, "cin": 4, "cout": 4, "norm": "batch"}) == value


def test_divisible_is_torchvisions_make_divisible():
    """_make_divisible(v, 8): round to the nearest multiple of 8, at least 8, and go up one step
    when rounding lost more than 10 %: 32·1.1 = 35.2 -> 32 (-9 %); 16·0.75 = 12 -> 16 (12 + 4 = 16);
    24·0.5 = 12 -> 16; 40·1.4 = 56 -> 56; 20·1.1 = 22 -> 24; 3 -> 8 (the minimum); 92·0.5 = 46 ->
    48; 11 -> 8, which is 27 % below 11, so 16."""
    cases = {35.2: 32, 12: 16, 56: 56, 22: 24, 3: 8, 46: 48, 11: 16}
    assert {v: divisible(v, 8) for v in cases} == cases


@pytest.mark.parametrize("text, fragment", [
    ("'a' * 2000000000", "expected a number"),
    ("__import__('os')", "only numbers"),
    ("ceil(1e300)", "beyond the limit"),
    ("min()", "does not take 0"),
    ("1 < 'a'", "cannot compare"),
])
def test_hostile_expressions_are_errors(text, fragment):
    with pytest.raises(ExpressionError, match=fragment):
        evaluate(text, {})


def test_language_features_by_hand():
    """stem 1×1 8->8 (72 params); stage: three 3×3 blocks, the first with stride 2 and no add
    (its condition is false), the others with the add; widen 8->16 has no add (cin != cout); the
    decoder takes widen and stage/0/conv: 1×1 16->4 (68), concat 4+8 = 12 channels, 3×3 12->4 (436)."""
    rows = row_map(from_text(LANGUAGE))
    assert [name for name in rows if name.startswith("stage/")] == [
        "stage/0/conv", "stage/1/conv", "stage/1/add", "stage/2/conv", "stage/2/add"]
    assert rows["stage/0/conv"].output_shape == (8, 8, 8)
    assert rows["stage/1/add"].inputs == ("stage/1/conv", "stage/0/conv")
    assert "widen/add" not in rows and rows["widen/conv"].params.total == 16 * 8 * 9 + 16
    assert rows["decoder/reduce"].inputs == ("widen/conv",) and rows["decoder/reduce"].params.total == 16 * 4 + 4
    assert rows["decoder/cat"].inputs == ("decoder/reduce", "stage/0/conv")
    assert rows["decoder/cat"].output_shape == (12, 8, 8)
    assert rows["decoder/conv"].params.total == 12 * 4 * 9 + 4


def test_arguments_change_the_structure():
    """width 1.4: the stem has divisible(11.2, 8) = 16 channels, the stage ceil(4.2) = 5 blocks."""
    text = LANGUAGE.replace("args: {width: 1.0}", "args: {width: 1.4}")
    rows = row_map(from_text(text))
    assert rows["stem"].output_shape == (16, 16, 16)
    assert [name for name in rows if name.endswith("/conv") and name.startswith("stage/")][-1] == "stage/4/conv"


def spec(body: str) -> str:
    return "name: t\ninput: [4, 8, 8]\n" + textwrap.dedent(body)


@pytest.mark.parametrize("body, fragment", [
    ("modules:\n  m:\n    inputs: [x, skip]\n    layers:\n      - concat: {inputs: [x, skip]}\nlayers:\n  - m\n",
     "module 'm' takes 2 inputs (x, skip), got 1"),
    ("modules:\n  m:\n    inputs: [x, skip]\n    layers:\n      - concat: {inputs: [x, skip]}\nlayers:\n"
     "  - relu: {name: a}\n  - m: {inputs: [a, a, input]}\n", "takes 2 inputs (x, skip), got 3"),
    ("layers:\n  - relu: {if: $(1 + 1)}\n", "if must be true or false, got 2"),
    ("layers:\n  - relu: {repeat: 2, repeat_from: -1}\n", "repeat_from must be a whole number from 0"),
    ("layers:\n  - relu: {repeat: 2, repeat_prefix: a/b}\n", "repeat_prefix cannot contain '/'"),
    ("modules:\n  m:\n    inputs: [x, x]\n    layers:\n      - relu\nlayers:\n  - m\n", "the names under 'inputs' must differ"),
    ("variants: {v: {args: {nope: 1}}}\nlayers:\n  - relu\n", "variant 'v' sets 'nope', which is not declared"),
    ("args: {a: $(b + 1), b: 1}\nlayers:\n  - relu\n", "argument 'a': unknown argument '$b'"),
    ("until: relu_2\nlayers:\n  - relu\n", "until: relu_2: no layer or module of that name"),
    ("layers:\n  - relu: {name: a, if: $(1 == 1)}\n  - relu: {name: a, if: $(2 == 2)}\n", "duplicate layer name 'a'"),
])
def test_language_errors(tmp_path, cli, body, fragment):
    path = tmp_path / "t.yaml"
    path.write_text(spec(body))
    result = cli("summary", str(path))
    assert result.exit_code == 1 and fragment in result.stderr and "Traceback" not in result.output


def test_until_cuts_the_network(cli):
    """VGG-16 up to pool5: the 13 convolutions' 14,714,688 parameters (138,357,544 in all, less the
    three fully connected layers' 102,764,544 + 16,781,312 + 4,097,000)."""
    analysis = zoo("vgg16", until="pool5")
    assert analysis.outputs == ("pool5",) and analysis.rows[-1].name == "pool5"
    assert analysis.totals.params == 138_357_544 - 102_764_544 - 16_781_312 - 4_097_000
    assert "(up to pool5)" in analysis.name
    result = cli("summary", "vgg16", "--until", "pool5", "--format", "json")
    assert result.exit_code == 0 and '"fc6"' not in result.stdout
    result = cli("summary", "resnet50", "--until", "conv9")
    assert result.exit_code == 1 and "--until conv9: no layer or module of that name" in result.stderr


def test_until_as_a_spec_field_keeps_only_what_the_cut_needs():
    analysis = from_text(spec("until: b\nlayers:\n  - relu: {name: a}\n  - relu: {name: b}\n  - relu: {name: c}\n"))
    assert [row.name for row in analysis.rows] == ["input", "a", "b"]


def test_a_training_only_branch_that_does_not_fit_is_left_out_with_a_warning():
    """torchvision runs Inception v3 at 224×224 in eval mode. The auxiliary classifier (training
    only) sees Mixed_6e's 768×12×12 (at 299: 17×17), pools it 5×5/3 to 3×3 and cannot apply its
    5×5 convolution; the inference network is whole: 1000 classes out."""
    analysis = zoo("torchvision/inception_v3", input_shape=(3, 224, 224))
    rows = row_map(analysis)
    assert rows["Mixed_6e/branch_pool/conv"].output_shape == (192, 12, 12)
    assert rows["AuxLogits/pool"].output_shape == (768, 3, 3) and "AuxLogits/conv1/conv" not in rows
    assert analysis.rows[-1].output_shape == (1000,)
    assert any("'AuxLogits/conv1/conv' (conv2d): training-only, and it does not fit" in w for w in analysis.warnings)


def test_an_inference_layer_that_does_not_fit_is_still_an_error():
    with pytest.raises(Exception, match="does not fit"):
        zoo("torchvision/inception_v3", input_shape=(3, 64, 64))


def test_a_left_out_entry_keeps_the_chain_and_names_its_input():
    """Alternatives (ShuffleNet v2's two 'cat's): the layer after them takes the one that holds,
    not the input of the one left out; a left-out layer's name stands for its input, so a left-out
    projection (downsample.0 from 'input', then downsample.1 from it) leaves the shortcut the identity."""
    rows = row_map(from_text(spec("""\
        args: {stride: 1}
        layers:
          - relu: {name: a}
          - relu: {name: b, inputs: input}
          - concat: {name: cat, inputs: [a, b], if: $(stride == 1)}
          - concat: {name: cat, inputs: [b, a], if: $(stride == 2)}
          - conv2d: {name: after, out: 4, kernel: 1}
          - conv2d: {name: down0, out: 8, kernel: 1, inputs: input, if: $(stride == 2)}
          - batch_norm: {name: down1, inputs: down0, if: $(stride == 2)}
          - add: {name: res, inputs: [after, down1]}
        """)))
    assert rows["cat"].inputs == ("a", "b") and rows["after"].inputs == ("cat",)
    assert rows["res"].inputs == ("after", "input") and "down0" not in rows


def test_an_inference_output_may_not_depend_on_a_training_only_layer():
    """check_inference_outputs: the error names the output and the first training-only layer on its
    path; marking the output's branch training-only, or no training-only layer at all, is accepted."""
    from archcalc import ArchcalcError

    text = textwrap.dedent("""\
        name: t
        input: [3, 8, 8]
        layers:
          - conv2d: {name: a, out: 4, kernel: 3}
          - relu: {name: aux, training_only: true}
          - relu: {name: b, inputs: aux}
        outputs: [a, b]
        """)
    with pytest.raises(ArchcalcError, match="output 'b' is used at inference but depends on training-only layer 'aux'"):
        from_text(text)
    assert [row.training_only for row in from_text(text.replace("{name: b,", "{name: b, training_only: true,")).rows] \
        == [False, False, True, True]
    assert not any(row.training_only for row in from_text(text.replace(", training_only: true", "")).rows)
