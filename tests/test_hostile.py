"""Regression tests, through the command line, for each class of hostile input found by fuzzing
(issue 9): a clean located error or a right answer, never a traceback, a hang or a silent guess.
The bounded random run is tests/test_fuzz.py; the limits are docs/limits.md."""

from __future__ import annotations

import json
import os
import stat
import textwrap
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from archcalc.errors import SpecError
from archcalc.layers.pooling import adaptive_window_max, adaptive_window_total
from conftest import from_text

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples" / "homework"
KEY = str(EXAMPLES / "alexnet_key.yaml")
GOOD = (EXAMPLES / "alexnet" / "alice.yaml").read_text()


def spec(tmp_path: Path, body: str, name: str = "net.yaml") -> str:
    path = tmp_path / name
    path.write_text("name: t\ninput: [3, 32, 32]\n" + textwrap.dedent(body))
    return str(path)


def failed(result, fragment: str, where: str | None = None) -> str:
    """The command failed cleanly (exit 1, one located message) with ``fragment`` in it."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert fragment in result.stderr, result.stderr
    if where is not None:
        assert result.stderr.startswith(f"error: {where}: "), result.stderr
    return result.stderr


# ---- huge numbers, and the limits that refuse them ----------------------------------------------

@pytest.mark.parametrize("body, line, fragment", [
    ("layers:\n  - conv2d: {out: " + "9" * 400 + ", kernel: 3}\n", 4, "an integer of 400 digits is over the limit of 20"),
    ("layers:\n  - conv2d: {out: " + "9" * 5000 + ", kernel: 3}\n", 4, "an integer of 5,000 digits"),
    ("layers:\n  - conv2d: {out: 8, kernel: 3, padding: 99999999999}\n", 4, "must be at most 2,147,483,647 (MAX_DIM"),
    ("layers:\n  - conv_transpose2d: {out: 3, kernel: 3, stride: 2000000000}\n", 4,
     "an output size of 62,000,000,003 is over the limit"),  # (32 − 1)·2e9 + 3
    ("layers:\n  - adaptive_avg_pool2d: {output: 100000000}\n", 4, "is 30,000,000,000,000,000 values, over the limit"),
    ("layers:\n" + "  - conv2d: {out: 3, kernel: 1, stride: 2147483647}\n" * 3, 6, "over the limit of "
     "4,611,686,018,427,387,904 (MAX_RF)"),  # jumps multiply: (2^31 − 1)^3 > 2^62
    ("layers:\n  - relu: {name: r, repeat: 100000000}\n", 4, "exceeds the limit of 20,000 layers"),
    ("layers:\n  - conv2d: {out: $(" + "1+" * 20000 + "1), kernel: 1}\n", 4,
     "an expression of 40,001 characters is over the limit of 200 (MAX_EXPRESSION_CHARS)"),
    ("layers:\n  - conv2d: {out: $(" + "-" * 100000 + "1), kernel: 1}\n", 4, "over the limit of 200"),
    ("args: {c: 99999999999}\nlayers:\n  - conv2d: {out: $(c*c / 3), kernel: 1}\n", 5, "beyond the limit of 2,147,483,647"),
    ("layers:\n  - conv2d: {out: 3, kernel: 3:3}\n", 4, "'3:3' is a base-60 number in YAML 1.1"),
])
def test_huge_values_are_located_errors(tmp_path, cli, body, line, fragment):
    path = spec(tmp_path, body)
    failed(cli("summary", path), fragment, f"{path}:{line}")


def test_huge_input_sizes(tmp_path, cli):
    path = tmp_path / "n.yaml"
    path.write_text("name: t\ninput: [3, " + "9" * 5000 + ", 8]\nlayers:\n  - relu\n")
    failed(cli("summary", str(path)), "an integer of 5,000 digits", f"{path}:2")
    result = cli("summary", "alexnet", "--input", "3," + "9" * 5000)
    assert result.exit_code == 2 and "expected C,H,W" in result.output
    result = cli("summary", "vgg16", "--set", "classes=" + "9" * 5000)
    assert result.exit_code == 2 and "an integer of 5,000 digits is over the limit of 20 digits" in result.output
    result = cli("summary", "alexnet", "--input", "3,9999999,9999999")
    assert result.exit_code == 2 and "over the limit of 281,474,976,710,656" in result.output  # 3·(10^7 − 1)^2 > 2^48


def test_work_within_the_limits_is_linear(tmp_path, cli):
    """12,000 bare '- relu' lines (quadratic auto-naming took 10 s) and an adaptive pool to
    10^8 × 1 positions (a Python list per window took gigabytes) are answered, with the right
    numbers."""
    path = spec(tmp_path, "layers:\n" + "  - relu\n" * 12000)
    result = cli("summary", path, "--format", "json")
    assert result.exit_code == 0
    layers = json.loads(result.stdout)["layers"]
    assert [layer["name"] for layer in layers[1:4]] == ["relu", "relu_2", "relu_3"] and layers[-1]["name"] == "relu_12000"
    path = spec(tmp_path, "layers:\n  - adaptive_avg_pool2d: {output: [100000000, 1]}\n")
    result = cli("summary", path, "--convention", "full", "--format", "json")
    # full count: every window's input positions summed, per channel: (32 + 10^8 − gcd(32, 10^8)) · (32 + 1 − 1)
    assert json.loads(result.stdout)["layers"][1]["flops"] == 3 * (32 + 100_000_000 - 32) * 32


@given(st.integers(1, 300), st.integers(1, 300))
def test_adaptive_windows_in_closed_form(length, out):
    """The closed forms against PyTorch's definition of the windows, enumerated:
    window i covers [floor(i·L/o), ceil((i+1)·L/o))."""
    windows = [(i * length) // out - -((i + 1) * length // -out) for i in range(out)]  # −(size of window i)
    assert adaptive_window_total(length, out) == -sum(windows)
    assert adaptive_window_max(length, out) == -min(windows)


def test_big_files_are_refused_before_reading(tmp_path, cli):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"name: t\ninput: [3, 8, 8]\nlayers:\n" + b"  - relu\n" * 1_200_000)  # 10.8 MB
    failed(cli("summary", str(path)), "larger than the limit of 1,048,576 bytes", str(path))


def test_alias_bomb_and_deep_nesting_are_located(tmp_path, cli):
    bomb = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"] + [
        f"{x}: &{x} [" + ", ".join([f"*{p}"] * 10) + "]" for p, x in zip("abcdefg", "bcdefgh")]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(bomb) + "\nname: t\n")
    message = failed(cli("summary", str(path)), "expands to more than 250,000 values", f"{path}:6")
    assert "aliases" in message  # 10^6 values from 8 short lines: line 6 holds the node that crosses 250,000
    path.write_text("name: t\nargs: {x: " + "[" * 60 + "]" * 60 + "}\n")
    failed(cli("summary", str(path)), "nested more than 50 levels deep", f"{path}:2")


def test_undecodable_bytes_and_control_characters_are_located(tmp_path, cli):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"name: t\ninput: [3, 8, 8]\nlayers:\n  - relu  # caf\xe9\n")
    failed(cli("summary", str(path)), "not UTF-8 text: byte 0xe9 at column 16", f"{path}:4")
    path.write_bytes(b"name: t\ninput: [3, 8, 8]\nlayers:\n  - r\xc3\xa9lu\x07\n")
    failed(cli("summary", str(path)), "the character U+0007 is not allowed", f"{path}:4")
    path.write_text('name: "net\\x01"\ninput: [3, 8, 8]\nlayers:\n  - relu\n')
    failed(cli("summary", str(path)), "contains the control character U+0001", f"{path}:1")
    path.write_text("name: t\ninput: [3, 8, 8]\nlayers:\n  - relu: {name: " + "n" * 3000 + "}\n")
    failed(cli("summary", str(path)), "a name of 3,000 characters is over the limit of 200", f"{path}:4")


def test_a_bad_entry_names_its_position(tmp_path, cli):
    path = spec(tmp_path, """\
    modules:
      block:
        layers:
          - relu
          - [not, an, entry]
    layers:
      - block: {name: b1}
    """)
    failed(cli("summary", path), "layer #2 of module instance 'b1': a layer entry is", f"{path}:7")


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "directory"])
def test_files_that_are_not_regular_are_refused_at_once(tmp_path, cli, kind):
    path = tmp_path / "spec.yaml"
    {"fifo": lambda: os.mkfifo(path), "dev_zero": lambda: path.symlink_to("/dev/zero"),
     "directory": path.mkdir}[kind]()
    failed(cli("summary", str(path)), "directory" if kind == "directory" else "not a regular file", str(path))


# ---- silent coercion ---------------------------------------------------------------------------

@pytest.mark.parametrize("fields, fragment", [
    ("{out: true, kernel: 3}", "field 'out': expected an integer (got True)"),
    ("{out: 8, kernel: 3, groups: true}", "field 'groups': expected an integer (got True)"),
    ("{out: '8', kernel: 3}", "field 'out': expected an integer (got '8')"),
    ("{out: 8, kernel: 3, bias: 1}", "field 'bias': expected true or false (got 1)"),
    ("{out: 8, kernel: [3, true]}", "field 'kernel': expected an integer or a pair"),
])
def test_wrong_types_are_not_coerced(tmp_path, cli, fields, fragment):
    path = spec(tmp_path, f"layers:\n  - conv2d: {fields}\n")
    failed(cli("summary", path), fragment, f"{path}:4")


def test_non_finite_floats_are_refused(tmp_path, cli):
    path = spec(tmp_path, "layers:\n  - dropout: {p: .nan}\n")
    failed(cli("summary", path), "expected a finite number", f"{path}:4")


# ---- output paths ------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["summary", "lenet5"], ["render", "lenet5"], ["export", "lenet5"],
                                     ["check", KEY, str(EXAMPLES / "alexnet")]])
def test_missing_output_folder(tmp_path, cli, command):
    target = tmp_path / "missing" / "out.txt"
    extra = ["--format", "dot"] if command[0] == "render" else []
    result = cli(*command, "-o", str(target), *extra)
    failed(result, "the folder")
    assert "does not exist" in result.stderr and not (tmp_path / "missing").exists()


def test_check_writes_nothing_when_one_output_cannot_be_written(tmp_path, cli):
    report = tmp_path / "report.json"
    result = cli("check", KEY, str(EXAMPLES / "alexnet"), "--csv", str(tmp_path / "missing" / "g.csv"), "-o", str(report))
    failed(result, "does not exist")
    assert not report.exists()


def test_dash_is_standard_output(cli):
    result = cli("summary", "lenet5", "--format", "csv", "-o", "-")
    assert result.exit_code == 0 and result.stdout.startswith("name,type,")
    result = cli("render", "lenet5", "-o", "-", "--format", "dot")
    assert result.exit_code == 0 and result.stdout.startswith('digraph "LeNet-5"')


def test_devices_are_written_in_place(cli):
    """Renaming a temporary file over /dev/null would replace the device with a file (as root)."""
    assert cli("summary", "lenet5", "-o", "/dev/null").exit_code == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_fifo_nobody_reads_is_an_error_not_a_hang(tmp_path, cli):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    failed(cli("summary", "lenet5", "-o", str(fifo)), "no process is reading the pipe")


# ---- answer keys -------------------------------------------------------------------------------

def key(tmp_path: Path, body: str) -> str:
    path = tmp_path / "key.yaml"
    path.write_text("title: t\nnetwork: alexnet\nconvention: {rounding: floor}\n" + textwrap.dedent(body))
    return str(path)


def test_expected_as_a_yaml_number(tmp_path, cli):
    """docs/grading.md writes `expected: 447897600`: a number, not text."""
    path = key(tmp_path, "questions:\n  - {id: q1, quantity: macs, layer: conv2, expected: 447897600}\n")
    answers = tmp_path / "s.yaml"
    answers.write_text("q1: 447,897,600\n")
    result = cli("check", path, str(answers), "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["questions"][0]["verdict"] == "correct"


@pytest.mark.parametrize("value", [".nan", "true", "{a: 1}", "[55, true]"])
def test_bad_expected_values_are_located(tmp_path, cli, value):
    path = key(tmp_path, f"questions:\n  - id: q7\n    quantity: macs\n    expected: {value}\n")
    failed(cli("check", path, str(EXAMPLES / "alexnet")), "question 'q7': field 'questions.0.expected'", f"{path}:7")


def test_unreadable_expected_value_is_located(tmp_path, cli):
    path = key(tmp_path, "questions:\n  - {id: q1, quantity: params}\n  - {id: q2, quantity: macs, expected: lots}\n")
    failed(cli("check", path, str(EXAMPLES / "alexnet")), "question 'q2': expected value 'lots'", f"{path}:6")


@pytest.mark.parametrize("field, line, fragment", [
    ("network: no_such_net", 2, "'no_such_net' is neither a file nor a built-in spec"),
    ("network: 5", 2, "field 'network': expected a built-in spec name"),
    ("network: alexnet\ninput: [3, '224', 224]", 3, "field 'input': expected [channels, height, width]"),
    ("network: alexnet\nset: {clases: 2}", 3, "set clases: the spec declares no argument 'clases'"),
])
def test_key_fields_are_located(tmp_path, cli, field, line, fragment):
    path = tmp_path / "key.yaml"
    path.write_text(f"title: t\n{field}\nquestions:\n  - {{id: q1, quantity: params}}\n")
    failed(cli("check", str(path), str(EXAMPLES / "alexnet")), fragment, f"{path}:{line}")


def test_inline_network_errors_point_into_the_key(tmp_path, cli):
    path = tmp_path / "key.yaml"
    path.write_text("title: t\nnetwork:\n  name: n\n  input: [3, 8, 8]\n  layers:\n    - conv2d: {out: 8, kernel: 9}\n"
                    "questions:\n  - {id: q1, quantity: params}\n")
    failed(cli("check", str(path), str(EXAMPLES / "alexnet")), "kernel 9 does not fit an input of 8", f"{path}:6")


# ---- students' answers -------------------------------------------------------------------------

HOSTILE_ANSWERS = {
    "q2: 1.0000000000000000000000000000001": "wrong",  # 32 digits: more precision than Decimal's default 28
    "q2: 1e99999999999": "unreadable",
    "q2: 1e-999999": "unreadable",
    "q1: '²'": "unreadable",  # str.isdigit() says yes, int() says no
    "q1: " + "9" * 5000: "unreadable",
    "q1: [55, 55, ²]": "unreadable",
}


def test_hostile_numbers_make_one_answer_unreadable_not_the_batch(tmp_path, cli):
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "zz_good.yaml").write_text(GOOD)
    for i, line in enumerate(HOSTILE_ANSWERS):
        (folder / f"s{i}.yaml").write_text(line + "\n")
    os.mkfifo(folder / "pipe.yaml")
    (folder / "zero.yaml").symlink_to("/dev/zero")
    result = cli("check", KEY, str(folder), "--format", "json", "--csv", str(tmp_path / "g.csv"))
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert reports["zz_good"]["score"] == 14
    for i, (line, verdict) in enumerate(HOSTILE_ANSWERS.items()):
        question = line.split(":")[0]
        graded = {q["id"]: q["verdict"] for q in reports[f"s{i}"]["questions"]}
        assert graded[question] == verdict, (line, graded[question])
    assert not reports["pipe"]["gradable"] and "not a regular file" in reports["pipe"]["error"]
    assert not reports["zero"]["gradable"] and "not a regular file" in reports["zero"]["error"]
    assert "zz_good,True,14," in (tmp_path / "g.csv").read_text()


def test_a_question_answered_twice_is_ungradable_with_its_line(tmp_path, cli):
    answers = tmp_path / "twice.yaml"
    answers.write_text("q1: 55x55x96\nq2: 1\nq1: 96x55x55\n")
    result = cli("check", KEY, str(answers), "--format", "json")
    report = json.loads(result.stdout)
    assert not report["gradable"] and report["error"] == "line 3: 'q1' is answered twice (first on line 1)"


@pytest.mark.parametrize("answer, verdict", [
    ("195", "correct"), ("195×195", "correct"), ("195 x 195", "correct"), ("[195, 195]", "correct"),
    ("195×194", "wrong"),
])
def test_a_square_receptive_field(tmp_path, cli, answer, verdict):
    """maxpool5's field is 195×195 (AlexNet, tests/test_receptive_field.py): 195 or 195×195."""
    answers = tmp_path / "rf.yaml"
    answers.write_text(f"q8: {answer}\n")
    report = json.loads(cli("check", KEY, str(answers), "--format", "json").stdout)
    assert {q["id"]: q["verdict"] for q in report["questions"]}["q8"] == verdict


@pytest.mark.parametrize("answer", ["62.4 Mil", "62.4 mln", "6.24×10^7", "6.24 x 10^7", "6.24·10⁷", "6.24*10**7"])
def test_how_people_write_large_numbers(tmp_path, cli, answer):
    """62,378,344 parameters (AlexNet, seed 000 table), as people write it by hand."""
    answers = tmp_path / "n.yaml"
    answers.write_text(f"q5: {answer}\n")
    report = json.loads(cli("check", KEY, str(answers), "--format", "json").stdout)
    assert {q["id"]: q["verdict"] for q in report["questions"]}["q5"] == "correct"


def test_hints_and_working_speak_the_keys_order(tmp_path, cli):
    answers = tmp_path / "s.yaml"
    answers.write_text("q1: fifty-five\n")
    report = json.loads(cli("check", KEY, str(answers), "--format", "json").stdout)
    q1 = report["questions"][0]
    assert q1["expected"] == "55×55×96" and q1["formula"].endswith("→ 55×55×96")  # the key is H×W×C
    assert q1["feedback"] == "not a shape archcalc can read (try 55x55x96 or [55, 55, 96])"


def test_every_inexact_layer_is_invalid_under_cs231n(tmp_path, cli):
    """Two independent branches whose windows do not tile the input: (32 − 3)/2 + 1 = 15.5 and
    (32 − 5)/2 + 1 = 14.5. Both are invalid, not only the first one a strict analysis stops at;
    the 1×1 branch divides exactly: (32 − 1)/1 + 1 = 32."""
    network = ("network:\n  name: n\n  input: [3, 32, 32]\n  layers:\n"
               "    - conv2d: {name: a, out: 4, kernel: 3, stride: 2}\n"
               "    - conv2d: {name: b, out: 4, kernel: 5, stride: 2, inputs: input}\n"
               "    - conv2d: {name: c, out: 4, kernel: 1, inputs: input}\n"
               "  outputs: [a, b, c]\n")
    path = tmp_path / "key.yaml"
    path.write_text("title: t\n" + network + "convention: {rounding: error}\nquestions:\n"
                    "  - {id: q1, quantity: output_shape, layer: a}\n  - {id: q2, quantity: output_shape, layer: b}\n"
                    "  - {id: q3, quantity: output_shape, layer: c}\n")
    answers = tmp_path / "s.yaml"
    answers.write_text("q1: invalid\nq2: invalid\nq3: 32x32x4\n")
    report = json.loads(cli("check", str(path), str(answers), "--format", "json").stdout)
    results = {q["id"]: q for q in report["questions"]}
    assert [results[q]["verdict"] for q in ("q1", "q2", "q3")] == ["correct", "correct", "correct"]
    assert "(32 − 5 + 2·0)/2 + 1 = 14.5 is not an integer" in results["q2"]["formula"]


def test_grading_rows_record_inexact_windows():
    analysis = from_text("name: n\ninput: [3, 32, 32]\nlayers:\n  - conv2d: {name: a, out: 4, kernel: 3, stride: 2}\n"
                         "  - conv2d: {name: b, out: 4, kernel: 1}\n")
    rows = {row.name: row for row in analysis.rows}
    assert rows["a"].inexact == "H and W: (32 − 3 + 2·0)/2 + 1 = 15.5" and rows["b"].inexact == ""


def test_fast_scalar_construction_equals_pyyaml():
    """yaml_source builds text and plain decimal integers itself; every other scalar (signs,
    underscores, base prefixes, YAML 1.1 octal '010', explicit tags, floats, booleans, nulls) keeps
    PyYAML's safe constructor: the loaded values equal PyYAML's own on all of them."""
    import yaml

    from archcalc.yaml_source import _built_plain, _Loader, load_yaml_text

    plain = ("a: 010\nb: 0\nc: 12\nd: -3\ne: 1_000\nf: 0x1F\ng: '12'\ni: 1.5\nj: true\nk: null\n"
             "l: [1, 02, x, 0o7, +5, .inf, ~, \"7\", '', 00]\nm: 2026-11-29\n")
    assert _built_plain(plain, _Loader, 100, 10) == yaml.load(plain, Loader=yaml.SafeLoader)  # built from events
    text = plain + "h: !!int '12'\nn: !!str 12\n"  # written tags: composed
    assert load_yaml_text(text, "t") == yaml.load(text, Loader=yaml.SafeLoader)


def test_fast_container_construction_equals_pyyaml():
    """A document with aliases (built once per use), merge keys or collection tags is composed and
    built with PyYAML's constructors and yaml_source's line-keeping containers: it loads as PyYAML
    loads it."""
    import yaml

    from archcalc.yaml_source import load_yaml_text

    text = ("base: &b {x: 1, y: [1, 2, &s s]}\nuse: *b\nmerged: {<<: *b, x: 2}\nmany: {<<: [*b, {x: 3, z: 3}]}\n"
            "deeper: &d {<<: *b, w: 4}\nlast: {<<: [{w: 0}, *d], y: 0}\ninline: {<<: {k: 1}, k: 2}\n"
            "again: [*s, *b, [*b]]\nset: !!set {a, b}\nomap: !!omap [{a: 1}, {b: 2}]\npairs: !!pairs [{a: 1}]\n"
            "tagged: !!map {k: !!seq [1]}\nempty: [{}, [], '']\nnested:\n  - - - deep\n")
    assert load_yaml_text(text, "t") == yaml.load(text, Loader=yaml.SafeLoader)


def test_merge_keys_override_and_duplicates_stay_errors(tmp_path, cli):
    """A key written beside '<<: *base' overrides the merged one (YAML's merge key), in a layer entry
    too; a key written twice in one mapping is still an error, and so is merging a non-mapping."""
    path = tmp_path / "net.yaml"
    path.write_text("name: t\ninput: [3, 32, 32]\nlayers:\n  - conv2d: &c {name: a, out: 8, kernel: 3}\n"
                    "  - conv2d: {<<: *c, name: b, out: 16}\n")
    rows = json.loads(cli("summary", str(path), "--format", "json").stdout)["layers"]
    assert [(row["name"], row["output_shape"]) for row in rows[1:]] == [("a", [8, 30, 30]), ("b", [16, 28, 28])]
    path.write_text("name: t\ninput: [3, 32, 32]\nlayers:\n  - conv2d: &c {out: 8, kernel: 3}\n"
                    "  - conv2d: {<<: *c, out: 16, out: 4}\n")
    failed(cli("summary", str(path)), "duplicate key 'out' (first on line 5)", f"{path}:5")
    path.write_text("name: t\ninput: [3, 32, 32]\nx: &x [1]\nlayers:\n  - conv2d: {<<: *x, out: 4, kernel: 3}\n")
    failed(cli("summary", str(path)), "'<<' merges a mapping or a list of mappings, found a list holding a single "
           "value", f"{path}:3")
    path.write_text("name: t\ninput: [3, 32, 32]\nlayers:\n  - conv2d: {<<: !!set {out, kernel}, out: 4, kernel: 3}\n")
    failed(cli("summary", str(path)), "'<<' merges a mapping or a list of mappings, found a set", f"{path}:4")


_TREES = st.recursive(st.one_of(st.integers(-99, 10**25), st.text("ab:", max_size=3), st.just("1:2"), st.none(),
                                 st.booleans(), st.floats(allow_nan=False), st.sampled_from(["010", "0x1F", "1_0", "~"])),
                      lambda inner: st.one_of(st.lists(inner, max_size=4),
                                              st.dictionaries(st.text("abc", max_size=2), inner, max_size=4)),
                      max_leaves=30)


def _line_tables(value):
    """Every line table of a loaded document, nested as the document is, to compare two loads."""
    from archcalc.yaml_source import LineList, LineMap

    if isinstance(value, LineMap):
        return [value.line, value.key_lines, [_line_tables(item) for item in value.values()]]
    if isinstance(value, LineList):
        return [value.line, value.item_lines, [_line_tables(item) for item in value]]
    return None


@given(tree=_TREES, share=st.booleans(), max_values=st.integers(1, 60), max_depth=st.integers(1, 8),
       flow=st.sampled_from([None, False, True]))
@example(tree={"a": 1}, share=False, max_values=3, max_depth=1, flow=None)  # each limit, just crossed
@example(tree=[[1]], share=False, max_values=3, max_depth=2, flow=None)
@example(tree={"a": [1]}, share=False, max_values=3, max_depth=3, flow=True)
@example(tree={"a": 1, "b": 10**21}, share=False, max_values=5, max_depth=2, flow=False)
def test_the_plain_builder_agrees_with_the_composed_path(tree, share, max_values, max_depth, flow):
    """parse_yaml builds an alias-free document straight from the parser's events (_PlainBuilder) and
    leaves every other to the composed path, where check_nodes words the problems: the builder takes
    a document exactly when it is a plain tree that check_nodes passes, and then builds the same
    values with the same lines. ``share`` puts one container in twice, which PyYAML writes as an
    anchor and an alias; ``flow`` varies the layout, and with it the lines."""
    import yaml

    from archcalc.yaml_source import (
        _built_from_nodes,
        _built_plain,
        _Loader,
        _NotPlain,
        _TooMuch,
    )

    aliased = share and isinstance(tree, (list, dict))
    text = yaml.safe_dump([tree, tree] if aliased else tree, default_flow_style=flow)
    try:
        expected, passes = _built_from_nodes(text, _Loader, max_values, max_depth), True
    except _TooMuch:
        passes = False
    try:
        built, plain = _built_plain(text, _Loader, max_values, max_depth), True
    except _NotPlain:
        plain = False
    assert plain == (passes and not aliased)
    if plain:
        assert built == expected and _line_tables(built) == _line_tables(expected)


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: 2\n",  # an anchor, never used
    "a: !!float 1\n",  # a written tag
    "a: {<<: {k: 1}, k: 2}\n",  # a merge key without an alias
    "=: 1\n",  # YAML's value key
    "? [1, 2]\n: 3\n",  # a list as a key
])
def test_documents_the_plain_builder_leaves_load_as_pyyaml_loads_them(text):
    """Anything but a plain tree goes the composed way (tested against PyYAML here); a key written
    twice and a second document keep their errors, with their lines."""
    import yaml

    from archcalc.yaml_source import _built_plain, _Loader, _NotPlain, load_yaml_text

    with pytest.raises(_NotPlain):
        _built_plain(text, _Loader, 100, 10)
    if text.startswith("?"):
        with pytest.raises(SpecError, match="a mapping key must be a plain value"):
            load_yaml_text(text, "t")
    else:
        assert load_yaml_text(text, "t") == yaml.load(text, Loader=yaml.SafeLoader)


def test_a_key_twice_and_a_second_document_stay_located_errors():
    from archcalc.yaml_source import load_yaml_text

    with pytest.raises(SpecError, match="duplicate key 'a' \\(first on line 1\\)") as err:
        load_yaml_text("a: 1\nb: 2\na: 3\n", "t")
    assert err.value.source.line == 3
    with pytest.raises(SpecError, match="single document") as err:
        load_yaml_text("a: 1\n---\nb: 2\n", "t")


def test_name_check_fast_path_agrees_with_the_character_scan():
    """Printable ASCII names skip the per-character scan: none of them has a control or bidi
    character, and every ASCII control character is still refused."""
    import string

    from archcalc.spec import name_problem

    assert name_problem(string.printable.strip(string.whitespace) + " a b") is None
    for code in [*range(32), 127]:
        assert name_problem(f"conv{chr(code)}1") is not None, code
    assert name_problem("conv\u202e1") is not None and name_problem("caf\u00e9") is None
