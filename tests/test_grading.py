"""Homework checking: the example keys and submissions, answer parsing, untrusted files, the
Gradescope and PrairieLearn formats, key lint, exit codes."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from archcalc.grading.answers import parse_answer, read_submission
from archcalc.grading.grade import Grader
from archcalc.grading.key import load_key

EXAMPLES = Path(__file__).parent.parent / "examples" / "homework"


def grade(key: str, student: str):
    return Grader(load_key(EXAMPLES / key)).grade(read_submission(EXAMPLES / student))


def verdicts(report) -> dict[str, tuple[str, float, str | None]]:
    return {r.id: (r.verdict, r.points, r.mistake) for r in report.results}


# ---- the AlexNet key (examples/homework/alexnet_key.yaml) --------------------------------------

def test_alice_is_right_in_every_notation():
    report = grade("alexnet_key.yaml", "alexnet/alice.yaml")
    assert all(v == "correct" for v, _, _ in verdicts(report).values())
    assert (report.score, report.max_score) == (14, 14)


def test_bob_is_wrong_without_a_known_mistake():
    report = grade("alexnet_key.yaml", "alexnet/bob.yaml")
    assert {v for v, _, m in verdicts(report).values()} == {"wrong"}
    assert all(m is None for _, _, m in verdicts(report).values())
    assert report.score == 0


def test_carol_makes_every_known_mistake():
    report = grade("alexnet_key.yaml", "alexnet/carol.yaml")
    # partial credit as the key gives it: shape order 0.75, bias 0.5, truncation 0.5, MACs-for-FLOPs 0.5
    assert verdicts(report) == {
        "q1": ("partial", 1.5, "shape_order_swapped"),
        "q2": ("partial", 1.0, "bias_omitted"),  # 34,944 - 96
        "q3": ("wrong", 0.0, "batch_included"),
        "q4": ("partial", 0.5, "bias_omitted"),  # 37,752,832 - 4,096
        "q5": ("partial", 1.0, "truncated"),  # 62,378,344 is 62.4M rounded
        "q6": ("wrong", 0.0, "input_depth_ignored"),  # 105,415,200 / 3
        "q7": ("partial", 0.5, "macs_for_flops"),  # 895,795,200 / 2
        "q8": ("wrong", 0.0, "rf_k_not_k_minus_1"),  # 195 + (1 + 4 + 8 + 8 + 16·4)
        "q9": ("wrong", 0.0, "mb_vs_mib"),  # 1,161,600 / 2^20 = 1.108 MiB
        "q10": ("wrong", 0.0, "total_vs_per_side"),  # 2 in total, 1 per side
    }
    feedback = {r.id: r.feedback for r in report.results}
    assert feedback["q2"] == "the biases are missing (96: one per output channel)"
    assert feedback["q5"] == "62.3M is the true value cut, not rounded; rounded it is 62.4M"
    assert feedback["q7"].startswith("MACs given for FLOPs")
    assert feedback["q9"] == "MiB instead of MB: 1 MB = 1,000,000 bytes"
    assert report.score == 4.5


def test_dave_is_unreadable_not_guessed():
    report = grade("alexnet_key.yaml", "alexnet/dave.yaml")
    v = verdicts(report)
    assert v["q1"][0] == v["q2"][0] == v["q5"][0] == v["q8"][0] == "unreadable"
    assert v["q3"][0] == "missing"
    messages = {r.id: r.feedback for r in report.results}
    assert messages["q2"] == "'34,9K' has a decimal comma, which is ambiguous: write 34.9K for a decimal point"
    assert messages["q8"] == "expected one value, found a mapping"
    assert report.unknown == ("q11",) and report.score == 0


def test_worked_formulas_in_reports():
    results = {r.id: r for r in grade("alexnet_key.yaml", "alexnet/alice.yaml").results}
    assert results["q1"].formula == "(227 − 11 + 2·0)/4 + 1 = 55 → 55×55×96"  # in the key's H×W×C order
    assert results["q2"].formula == "96 filters × (3·11·11 + 1 bias) = 34,944"
    assert results["q7"].formula.endswith("= 447,897,600; FLOPs = 2 × MACs = 895,795,200")
    assert results["q9"].formula == "290,400 values × 4 bytes = 1,161,600 bytes = 1.162 MB"


# ---- the GoogLeNet key (bias: false, flops: macs, as Table 1) ----------------------------------

def test_googlenet_key():
    assert grade("googlenet_key.yaml", "googlenet/erin.yaml").score == 12
    assert grade("googlenet_key.yaml", "googlenet/frank.yaml").score == 0
    report = grade("googlenet_key.yaml", "googlenet/grace.yaml")
    assert verdicts(report) == {
        "q1": ("partial", 0.5, "floor_vs_ceil"),  # (224 + 6 - 7)/2 + 1 = 112.5: floor 112, ceil 113
        "q2": ("partial", 0.5, "shape_order_swapped"),
        "q3": ("partial", 1.0, "bias_counted"),  # 163,328 weights + 368 biases
        "q4": ("wrong", 0.0, "macs_for_flops"),
        "q5": ("wrong", 0.0, "macs_for_flops"),  # 2 x 1,582,671,872 = 3.165G
        "q6": ("wrong", 0.0, "rf_k_not_k_minus_1"),
        "q7": ("correct", 1.0, None),
        "q8": ("partial", 0.5, "bias_counted"),  # 65,536 + 2,097,152 + 1,024,000 weights; + 2,152 biases
    }
    frank = {r.id: r.feedback for r in grade("googlenet_key.yaml", "googlenet/frank.yaml").results}
    assert frank["q5"] == "2G has 1 significant figure; give at least 3"


def test_googlenet_heidi_ungradable():
    report = grade("googlenet_key.yaml", "googlenet/heidi.yaml")
    assert not report.gradable and report.error == (
        "line 1: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence that starts here; "
        "the parser gave up on line 2)")
    assert (report.score, report.max_score) == (0, 12)


def test_cs231n_invalid_key():
    ivan = grade("alexnet_224_key.yaml", "alexnet_224/ivan.yaml")
    assert ivan.score == 3
    judy = {r.id: r for r in grade("alexnet_224_key.yaml", "alexnet_224/judy.yaml").results}
    assert judy["q1"].mistake == "rounded_invalid" and judy["q1"].expected == "invalid"
    assert "(224 − 11 + 2·0)/4 + 1 = 54.25 is not an integer" in judy["q1"].feedback
    # conv1's parameters do not depend on its output size: they have an answer
    assert judy["q2"].expected == "34,944" and judy["q2"].verdict == "wrong"
    assert judy["q3"].expected == "invalid"  # its MACs do depend on it


# ---- answers as students write them --------------------------------------------------------------

@pytest.mark.parametrize("raw, quantity, kind, value", [
    ("34,944", "params", "number", Decimal(34944)),
    ("34 944", "params", "number", Decimal(34944)),
    ("3.4944e4", "params", "number", Decimal(34944)),
    ("62.3M", "params", "number", Decimal(62_300_000)),
    ("0.72 GMACs", "macs", "number", Decimal(720_000_000)),
    ("105.4 million", "macs", "number", Decimal(105_400_000)),
    ("55x55x96", "output_shape", "shape", (55, 55, 96)),
    ("55 × 55 × 96", "output_shape", "shape", (55, 55, 96)),
    ("(96, 55, 55)", "output_shape", "shape", (96, 55, 55)),
    (["96", "55", "55"], "output_shape", "shape", (96, 55, 55)),
    ("(None, 55, 55, 96)", "output_shape", "shape", (1, 55, 55, 96)),
    ("invalid", "output_shape", "invalid", None),
    ("1.16 MB", "activation_memory", "number", Decimal(1_160_000)),
    ("1.1 MiB", "activation_memory", "number", Decimal("1153433.6")),
    ("195x195", "rf", "shape", (195, 195)),
])
def test_parse_answer(raw, quantity, kind, value):
    answer = parse_answer(raw, quantity, "MB")
    assert (answer.kind, answer.value) == (kind, value)


@pytest.mark.parametrize("raw", ["62,3M", "0,72", "1,5 GMACs", "fifty-five", "12 apples", "", "x" * 500])
def test_unreadable_answers(raw):
    assert parse_answer(raw, "params", "MB").kind == "unreadable"


def test_significant_figures_and_rounding():
    key = load_key(EXAMPLES / "alexnet_key.yaml")
    grader = Grader(key)
    q5 = next(q for q in key.model.questions if q.id == "q5")
    from archcalc.grading.grade import grade_question

    target = grader.targets["q5"]  # 62,378,344
    assert grade_question(q5, target, "62.4M", key).verdict == "correct"  # rounds to it, 3 figures
    assert grade_question(q5, target, "62.38M", key).verdict == "correct"
    assert grade_question(q5, target, "62M", key).feedback == "62M has 2 significant figures; give at least 3"
    assert grade_question(q5, target, "62378344", key).verdict == "correct"
    assert grade_question(q5, target, "62378345", key).verdict == "wrong"  # an integer is exact


# ---- untrusted submissions ---------------------------------------------------------------------

def _bomb() -> str:
    lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, 9):
        lines.append(f"{'abcdefghij'[i]}: &{'abcdefghij'[i]} [" + ", ".join([f"*{'abcdefghij'[i - 1]}"] * 10) + "]")
    return "\n".join(lines) + "\nq1: 55x55x96\n"


HOSTILE = {
    "bomb.yaml": (_bomb().encode(), "more than 10,000 values"),
    "deep.yaml": (("q1: " + "[" * 5000 + "]" * 5000 + "\n").encode(), "invalid YAML"),
    "binary.yaml": (bytes(range(256)) * 8, "not UTF-8 text"),
    "nul.yaml": (b"q1: 55\x00x55\n", "NUL"),
    "huge.yaml": (b"q1: " + b"9" * 10_000_000 + b"\n", "larger than the limit of 1,000,000 bytes"),
    "list.yaml": (b"- 55x55x96\n", "expected a mapping"),
    "tags.yaml": (b"q1: !!python/object/apply:os.system ['echo pwned']\n", None),
}


def test_hostile_submissions_never_stop_grading(tmp_path, cli):
    for name, (content, _) in HOSTILE.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "zz_good.yaml").write_text((EXAMPLES / "alexnet" / "alice.yaml").read_text())
    start = time.perf_counter()
    result = cli("check", str(EXAMPLES / "alexnet_key.yaml"), str(tmp_path), "--format", "json")
    assert time.perf_counter() - start < 20
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    for name, (_, message) in HOSTILE.items():
        report = reports[Path(name).stem]
        if message is None:  # a tag is kept as text by the safe reader: an unreadable answer, nothing run
            assert report["gradable"] and report["questions"][0]["verdict"] == "unreadable"
        else:
            assert not report["gradable"] and message in report["error"], (name, report["error"])
    assert reports["zz_good"]["score"] == 14


# ---- output formats ---------------------------------------------------------------------------

def test_gradescope_results_json(cli):
    data = json.loads(cli("check", str(EXAMPLES / "alexnet_key.yaml"), str(EXAMPLES / "alexnet" / "carol.yaml"),
                          "--format", "gradescope").stdout)
    assert set(data) >= {"score", "tests"} and data["score"] == 4.5
    for test in data["tests"]:
        assert set(test) >= {"name", "number", "score", "max_score", "status", "output", "output_format", "visibility"}
        assert test["status"] in ("passed", "failed") and test["output_format"] == "text"
        assert test["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
        assert 0 <= test["score"] <= test["max_score"]
    assert sum(t["score"] for t in data["tests"]) == data["score"]
    broken = json.loads(cli("check", str(EXAMPLES / "googlenet_key.yaml"), str(EXAMPLES / "googlenet" / "heidi.yaml"),
                            "--format", "gradescope").stdout)
    assert broken["score"] == 0 and broken["tests"] == [] and "could not be graded" in broken["output"]


def test_prairielearn_results(cli):
    data = json.loads(cli("check", str(EXAMPLES / "alexnet_key.yaml"), str(EXAMPLES / "alexnet" / "carol.yaml"),
                          "--format", "prairielearn").stdout)
    assert data["gradable"] is True and 0 <= data["score"] <= 1
    assert data["score"] == pytest.approx(4.5 / 14)
    for test in data["tests"]:
        assert set(test) >= {"name", "points", "max_points"}
    broken = json.loads(cli("check", str(EXAMPLES / "googlenet_key.yaml"), str(EXAMPLES / "googlenet" / "heidi.yaml"),
                            "--format", "prairielearn").stdout)
    assert broken["gradable"] is False and broken["format_errors"] and "invalid YAML" in broken["format_errors"][0]


def test_summary_csv_and_exit_codes(tmp_path, cli):
    out = tmp_path / "summary.csv"
    result = cli("check", str(EXAMPLES / "googlenet_key.yaml"), str(EXAMPLES / "googlenet"), "--csv", str(out))
    assert result.exit_code == 0  # wrong answers are a result, not an error
    lines = out.read_text().splitlines()
    assert lines[0] == "student,gradable,score,max_score,q1,q2,q3,q4,q5,q6,q7,q8,error"
    assert lines[1] == "erin,True,12,12,1,1,2,2,2,2,1,1,"
    assert lines[4].startswith("heidi,False,0,12,")
    assert cli("check", str(EXAMPLES / "googlenet_key.yaml"), str(EXAMPLES / "googlenet"), "--strict").exit_code == 3
    assert cli("check", str(EXAMPLES / "googlenet_key.yaml"), str(EXAMPLES / "googlenet" / "erin.yaml"),
               "--strict").exit_code == 0


# ---- keys ---------------------------------------------------------------------------------------

def test_key_errors_are_located(tmp_path, cli):
    bad = tmp_path / "key.yaml"
    bad.write_text("title: t\nnetwork: alexnet\nquestions:\n  - {id: q1, quantity: param, layer: conv1}\n")
    result = cli("check", str(bad), str(EXAMPLES / "alexnet" / "alice.yaml"))
    assert result.exit_code == 1 and f"{bad}:4:" in result.stderr and "quantity" in result.stderr
    bad.write_text("title: t\nnetwork: alexnet\nquestions:\n  - {id: q1, quantity: params, layer: conv9}\n")
    result = cli("check", str(bad), str(EXAMPLES / "alexnet" / "alice.yaml"))
    assert result.exit_code == 1 and "no layer or module 'conv9'" in result.stderr


def test_key_lint(tmp_path, cli):
    key = tmp_path / "key.yaml"
    key.write_text("title: t\nnetwork: alexnet\nquestions:\n"
                   "  - {id: q1, quantity: params, layer: conv1}\n"
                   "  - {id: q2, quantity: output_shape, layer: conv1}\n"
                   "  - {id: q3, quantity: flops, layer: conv1}\n"
                   "  - {id: q4, quantity: params, layer: nope}\n")
    result = cli("key", "lint", str(key))
    assert result.exit_code == 1  # q4 names no layer
    out = result.stdout
    assert f"{key}:7: error: question 'q4': no layer or module 'nope'" in out
    assert f"{key}:4: warning: question 'q1': the answer depends on 'bias', which the key does not state: 34,944 " \
           "with bias: true (the default), 34,848 with bias: false" in out
    assert f"{key}:5: warning: question 'q2': the answer depends on 'shape_order'" in out
    assert f"{key}:6: warning: question 'q3': the answer depends on 'flops'" in out
    assert cli("key", "lint", str(EXAMPLES / "alexnet_key.yaml")).exit_code == 0
    assert cli("key", "lint", str(EXAMPLES / "alexnet_key.yaml")).stdout == ""


def test_same_padding_questions(tmp_path, cli):
    """'same' padding TensorFlow's way, per side: conv1 (227, 11×11/4): ⌈227/4⌉ = 57 outputs need
    (57 − 1)·4 + 11 − 227 = 8 pixels, 4 per side; maxpool1 (55, 3×3/2): ⌈55/2⌉ = 28 outputs need
    (28 − 1)·2 + 3 − 55 = 2, 1 per side. A ReLU has no window to pad."""
    key = tmp_path / "key.yaml"
    key.write_text("title: t\nnetwork: alexnet\nconvention: {padding: per_side}\nquestions:\n"
                   "  - {id: q1, quantity: same_padding, layer: conv1}\n"
                   "  - {id: q2, quantity: same_padding, layer: maxpool1}\n")
    answers = tmp_path / "s.yaml"
    answers.write_text("q1: 8\nq2: 1\n")
    report = json.loads(cli("check", str(key), str(answers), "--format", "json").stdout)
    q1, q2 = report["questions"]
    assert (q1["expected"], q1["verdict"], q1["mistake"]) == ("4", "wrong", "total_vs_per_side")
    assert (q2["expected"], q2["verdict"]) == ("1", "correct")
    assert "(57 − 1)·4 + 11 − 227 = 8, 4 before and 4 after" in q1["formula"]
    key.write_text(key.read_text().replace("layer: maxpool1", "layer: conv1_relu"))
    result = cli("check", str(key), str(answers))
    assert result.exit_code == 1 and "'same_padding' needs a convolution or pooling layer" in result.stderr
