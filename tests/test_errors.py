"""Bad input: a located message (file:line: layer 'x': ...), a hint, exit 1, no traceback."""

from __future__ import annotations

import json
import textwrap

import pytest

HEADER = "name: broken\ninput: [3, 32, 32]\n"


def write(tmp_path, body: str, header: str = HEADER):
    path = tmp_path / "net.yaml"
    path.write_text(header + textwrap.dedent(body))
    return path


CASES = {
    "malformed yaml": ("layers:\n  - conv2d: {out: 8, kernel: 3\n  - relu\n", 4, None, "invalid YAML"),
    "unknown layer type": ("layers:\n  - conv2d: {name: c1, out: 8, kernel: 3}\n  - maxpol: {kernel: 2}\n", 5, "c1_maxpol",
                           "unknown layer type 'maxpol'"),
    "unknown field": ("layers:\n  - conv2d: {name: conv1, out: 8, kernal: 3}\n", 4, "conv1", "unknown field 'kernal'"),
    "missing field": ("layers:\n  - conv2d: {name: conv1, out: 8}\n", 4, "conv1", "missing required field 'kernel'"),
    "bad field value": ("layers:\n  - conv2d: {name: conv1, out: 8, kernel: [3, 3, 3]}\n", 4, "conv1", "field 'kernel'"),
    "undefined input": ("layers:\n  - conv2d: {name: a, out: 8, kernel: 3}\n  - add: {name: sum, inputs: [a, b]}\n",
                        5, "sum", "input 'b' is not defined"),
    "cycle": ("layers:\n  - conv2d: {name: a, out: 8, kernel: 1, inputs: [c]}\n  - relu: {name: b}\n"
              "  - relu: {name: c}\n", 4, "a", "cycle"),
    "kernel larger than input": ("layers:\n  - conv2d: {name: big, out: 8, kernel: 40}\n", 4, "big",
                                 "kernel 40 does not fit an input of 32"),
    "concat mismatch": ("layers:\n  - conv2d: {name: a, out: 8, kernel: 3}\n  - conv2d: {name: b, out: 8, kernel: 1, inputs: [input]}\n"
                        "  - concat: {name: cat, inputs: [a, b]}\n", 6, "cat", "cannot concatenate"),
    "add mismatch": ("layers:\n  - conv2d: {name: a, out: 8, kernel: 1}\n  - add: {name: res, inputs: [a, input]}\n", 5, "res",
                     "cannot add tensors of shapes 8×32×32, 3×32×32"),
    "groups do not divide": ("layers:\n  - conv2d: {name: g, out: 8, kernel: 3, groups: 2}\n", 4, "g",
                             "groups=2 does not divide the 3 input channels"),
    "linear on a feature map": ("layers:\n  - linear: {name: fc, out: 10}\n", 4, "fc", "expects a vector"),
    "concat with one input": ("layers:\n  - concat: {name: cat}\n", 4, "cat", "concat takes at least 2 inputs, got 1"),
    "duplicate name": ("layers:\n  - relu: {name: x}\n  - relu: {name: x}\n", 5, "x", "duplicate layer name 'x'"),
    "unknown argument": ("layers:\n  - conv2d: {name: c, out: $width, kernel: 3}\n", 4, "c", "unknown argument '$width'"),
    "python tag": ("layers:\n  - !!python/object/apply:os.system ['echo hi']\n", 4, None, "invalid YAML"),
    "bad entry": ("layers:\n  - {conv2d: {out: 1, kernel: 1}, relu: {}}\n", 4, None, "a layer entry is"),
    "huge repeat": ("layers:\n  - relu: {name: r, repeat: 100000000}\n", 4, "r", "exceeds the limit"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_spec_is_a_located_error(case, tmp_path, cli):
    body, line, layer, fragment = CASES[case]
    path = write(tmp_path, body)
    result = cli("summary", str(path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stdout == ""
    message = result.stderr
    assert message.startswith(f"error: {path}:{line}: "), message
    if layer is not None:
        assert f"layer '{layer}'" in message
    assert fragment in message


def test_unknown_type_suggests(tmp_path, cli):
    path = write(tmp_path, "layers:\n  - maxpol: {kernel: 2}\n")
    assert "did you mean 'maxpool'?" in cli("summary", str(path)).stderr


def test_unknown_field_suggests(tmp_path, cli):
    path = write(tmp_path, "layers:\n  - conv2d: {out: 8, kernal: 3}\n")
    assert "did you mean 'kernel'?" in cli("summary", str(path)).stderr


def test_flatten_hint(tmp_path, cli):
    path = write(tmp_path, "layers:\n  - linear: {out: 10}\n")
    assert "insert '- flatten'" in cli("summary", str(path)).stderr


def test_undefined_input_suggests(tmp_path, cli):
    path = write(tmp_path, "layers:\n  - conv2d: {name: conv_a, out: 3, kernel: 1}\n  - add: {inputs: [conv_b, input]}\n")
    assert "did you mean 'conv_a'?" in cli("summary", str(path)).stderr


def test_top_level_typo(tmp_path, cli):
    path = write(tmp_path, "layer:\n  - relu\n")
    result = cli("summary", str(path))
    assert result.exit_code == 1
    assert f"{path}:3: unknown field 'layer'" in result.stderr
    assert "did you mean 'layers'?" in result.stderr


def test_missing_input_shape(tmp_path, cli):
    path = write(tmp_path, "layers:\n  - relu\n", header="name: x\n")
    result = cli("summary", str(path))
    assert result.exit_code == 1 and "missing required field 'input'" in result.stderr


def test_error_inside_module_names_the_instance(tmp_path, cli):
    body = """\
    modules:
      block:
        args: [c]
        layers:
          - conv2d: {name: conv, out: $c, kernel: 3, groups: 5}
    layers:
      - block: {name: stage1, args: [10]}
    """
    path = write(tmp_path, body)
    result = cli("summary", str(path))
    assert result.exit_code == 1
    assert f"{path}:7: layer 'stage1/conv': groups=5 does not divide the 3 input channels" in result.stderr


def test_module_argument_errors(tmp_path, cli):
    body = "modules:\n  block:\n    args: [c]\n    layers:\n      - conv2d: {out: $c, kernel: 1}\nlayers:\n  - block: {name: b, args: {d: 1}}\n"
    result = cli("summary", str(write(tmp_path, body)))
    assert "module 'block' has no argument 'd'" in result.stderr
    body = body.replace("args: {d: 1}", "args: []")
    assert "module 'block' needs argument 'c'" in cli("summary", str(write(tmp_path, body))).stderr


def test_not_a_mapping(tmp_path, cli):
    path = tmp_path / "list.yaml"
    path.write_text("- relu\n")
    result = cli("summary", str(path))
    assert result.exit_code == 1 and "a spec must be a mapping" in result.stderr


def test_duplicate_yaml_key(tmp_path, cli):
    path = write(tmp_path, "layers:\n  - conv2d: {out: 3, kernel: 1, kernel: 3}\n")
    result = cli("summary", str(path))
    assert result.exit_code == 1 and "duplicate key 'kernel'" in result.stderr


def test_missing_file_and_unknown_zoo_name(cli):
    assert "error: nope.yaml: no such file" in cli("summary", "nope.yaml").stderr
    result = cli("summary", "alexnett")
    assert result.exit_code == 1 and "did you mean 'alexnet'" in result.stderr


def test_unknown_set_argument(cli):
    result = cli("summary", "vgg16", "--set", "clases=2")
    assert result.exit_code == 1
    assert "declares no argument 'clases' (declared: classes)" in result.stderr


def test_bad_input_option(cli):
    result = cli("summary", "alexnet", "--input", "3,abc")
    assert result.exit_code == 2 and "expected C,H,W" in result.output


def test_nothing_written_on_error(tmp_path, cli):
    out = tmp_path / "out.json"
    path = write(tmp_path, "layers:\n  - linear: {out: 10}\n")
    assert cli("summary", str(path), "--format", "json", "-o", str(out)).exit_code == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]


def test_strict_turns_the_warning_into_an_error(cli):
    result = cli("summary", "alexnet", "--input", "3,224,224", "--strict")
    assert result.exit_code == 1
    assert "layer 'conv1': the window does not tile its input: H and W: (224 − 11 + 2·0)/4 + 1 = 54.25" in result.stderr


def test_a_bug_in_a_rule_says_where_it_happened(tmp_path, cli, monkeypatch):
    """An exception from a rule that is not an input error is a bug: the walk names the layer and
    where it was written (as torch.fx's Interpreter does), and the CLI says it is a bug (exit 70)."""
    from archcalc.layers.activations import ReLU

    def broken(self, inputs, ctx):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(ReLU, "output_shape", broken)
    path = write(tmp_path, "layers:\n  - conv2d: {name: c, out: 3, kernel: 1}\n  - relu: {name: r}\n")
    result = cli("summary", str(path))
    assert result.exit_code == 70
    assert f"ShapePass failed at {path}:5: layer 'r' (relu): ZeroDivisionError: division by zero" in result.stderr
    assert "a bug in archcalc" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("fields, hint", [
    ("{filters: 8, kernel: 3}", "archcalc calls it 'out'"),
    ("{out: 8, kernel_size: 3}", "archcalc calls it 'kernel'"),
    ("{out: 8, kernel: 3, strides: 2}", "archcalc calls it 'stride'"),
    ("{out: 8, kernel: 3, activation: relu}", "write the activation as its own layer below"),
    ("{out: 8, kernel: 3, in_channels: 3}", "archcalc reads the input channels from the layer above"),
])
def test_torch_and_keras_field_names_get_a_mapping_hint(tmp_path, cli, fields, hint):
    result = cli("summary", str(write(tmp_path, f"layers:\n  - conv2d: {fields}\n")))
    assert result.exit_code == 1 and f"hint: {hint}" in result.stderr


def test_messages_are_archcalcs_own_words(tmp_path, cli):
    for fields, expected in (("{out: 8, kernel: 3, bias: 1}", "field 'bias': expected true or false (got 1)"),
                             ("{out: 8, kernel: [3, 3, 3]}", "field 'kernel': expected an integer or a pair")):
        stderr = cli("summary", str(write(tmp_path, f"layers:\n  - conv2d: {fields}\n"))).stderr
        assert expected in stderr and "Input should" not in stderr


def test_padding_words_in_any_case(tmp_path, cli):
    """Keras and TensorFlow write 'SAME' and 'VALID'."""
    result = cli("summary", str(write(tmp_path, "layers:\n  - conv2d: {name: c, out: 8, kernel: 3, padding: SAME}\n"
                                                "  - conv2d: {name: d, out: 8, kernel: 3, padding: Valid}\n")),
                 "--format", "json")
    layers = {layer["name"]: layer for layer in json.loads(result.stdout)["layers"]}
    assert layers["c"]["output_shape"] == [8, 32, 32] and layers["d"]["output_shape"] == [8, 30, 30]


def test_every_independent_error_in_a_file_is_reported(tmp_path, cli):
    """Three layers with their own mistakes give three located errors in one run; the
    mistake inside a module used three times is one error, at the module's line."""
    body = """\
    modules:
      block:
        layers:
          - conv2d: {out: 4, kernal: 3}
    layers:
      - conv2d: {filters: 8, kernel: 3}
      - batchnorm: {eps: -1}
      - block: {repeat: 3}
      - maxpol: {kernel: 2}
    """
    path = write(tmp_path, body)
    result = cli("summary", str(path))
    assert result.exit_code == 1 and result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert [line.split(": ")[1] for line in lines[:-1]] == [f"{path}:{n}" for n in (8, 9, 6, 11)]
    assert "unknown field 'filters'" in lines[0] and "missing" not in result.stderr  # 'out' is what 'filters' meant
    assert "must be more than 0" in lines[1] and "'kernal'" in lines[2] and "'maxpol'" in lines[3]
    assert lines[-1] == "error: 4 errors; fix them and run again"


def test_reported_errors_stop_at_the_limit_and_count_the_rest(tmp_path, cli):
    from archcalc.limits import MAX_REPORTED_ERRORS

    count = MAX_REPORTED_ERRORS + 5
    body = "layers:\n" + "".join(f"  - conv2d: {{out: 4, kernel: 1, bogus{i}: 1}}\n" for i in range(count))
    stderr = cli("summary", str(write(tmp_path, body))).stderr
    assert stderr.count("unknown field 'bogus") == MAX_REPORTED_ERRORS
    assert stderr.rstrip().endswith(f"{count} errors (5 more not shown); fix them and run again")


def test_errors_between_layers_wait_for_the_layers_to_be_valid(tmp_path, cli):
    """An undefined input may only be the skipped layer's name: with a bad layer, only the
    layer's own error is reported."""
    body = "layers:\n  - conv2d: {name: a, out: 4, kernal: 1}\n  - add: {inputs: [a, nowhere]}\n"
    stderr = cli("summary", str(write(tmp_path, body))).stderr
    assert "'kernal'" in stderr and "nowhere" not in stderr


def test_several_frame_errors_are_reported(tmp_path, cli):
    stderr = cli("summary", str(write(tmp_path, "layers: []\nouputs: [x]\n", header="name: x\n"))).stderr
    assert "unknown field 'ouputs'" in stderr and "missing required field 'input'" in stderr


MISINDENTED = {
    # a field indented less than its neighbours: the line itself, not where its mapping starts
    "field outdented": ("layers:\n  - conv2d:\n      out: 16\n     kernel: 3\n", 6, "in the block mapping that starts on line"),
    # a list entry indented less than its neighbours
    "entry outdented": ("layers:\n  - relu\n - relu\n  - relu\n", 5, "in the block mapping that starts on line 1"),
    # a field indented more than its neighbours
    "field indented": ("layers:\n  - conv2d:\n      out: 16\n        kernel: 3\n", 6, "mapping values are not allowed"),
}


@pytest.mark.parametrize("case", MISINDENTED)
def test_misindented_line_is_the_line_reported(case, tmp_path, cli):
    body, line, fragment = MISINDENTED[case]
    path = write(tmp_path, body)
    stderr = cli("summary", str(path)).stderr
    assert stderr.startswith(f"error: {path}:{line}: invalid YAML") and fragment in stderr
    assert "hint: check this line's indentation" in stderr


def test_fields_not_indented_under_their_layer(tmp_path, cli):
    path = write(tmp_path, "layers:\n  - conv2d:\n    out: 16\n    kernel: 3\n")
    stderr = cli("summary", str(path)).stderr
    assert stderr.startswith(f"error: {path}:4: layer #1 of 'layers': a layer entry is")
    assert "'out, kernel' line up with 'conv2d' instead of under it" in stderr
