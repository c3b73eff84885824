"""The bounded fuzz run (tools/fuzz.py): hostile specs, keys, answers and options never end in a
traceback, a hang, a blow-up or a half-written file, and their errors name where they are.

The harness itself is checked first: each way a case can fail is injected once and must be
reported, so that a clean fuzz run means something.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from archcalc.limits import markdown_table

ROOT = Path(__file__).parent.parent
FUZZ = ROOT / "tools" / "fuzz.py"


def run_python(code: str, timeout: float = 120) -> str:
    """Run code in a fresh interpreter (no torch loaded, nothing forked from pytest)."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT, env={"PYTHONPATH": f"{ROOT / 'tools'}:{ROOT}", "PATH": ""})
    assert result.returncode == 0, result.stderr
    return result.stdout


INJECT = """
import fuzz, time, archcalc.layers.activations as acts
fuzz.TIME_LIMIT = 1.5
fuzz._warm_up()

def verdict(patch, argv=("summary", "alexnet"), **case):
    original = acts.ReLU.output_shape
    acts.ReLU.output_shape = patch
    try:
        return fuzz.run_case(fuzz.Case("spec", "injected", list(argv), **case), memory_limit=256 * 2**20).verdict
    finally:
        acts.ReLU.output_shape = original

def crash(self, inputs, ctx):
    raise ZeroDivisionError("injected")

def hang(self, inputs, ctx):
    time.sleep(30)

def hog(self, inputs, ctx):
    return bytearray(600 * 2**20) and None

def half_written(self, inputs, ctx):
    open("out.txt", "w").write("half")
    from archcalc.errors import LayerError
    raise LayerError("injected")

good = open("examples/homework/alexnet/alice.yaml").read()
print(verdict(crash), verdict(hang), verdict(hog),
      verdict(half_written, ("summary", "alexnet", "-o", "out.txt"), outputs=("out.txt",)),
      verdict(acts.ReLU.output_shape, ("check", str(fuzz.ROOT / "examples/homework/alexnet_key.yaml"), "answers",
                                       "--csv", "grades.csv"),
              files={"answers/zz_good.yaml": good.replace("q1: 55x55x96", "q1: 1")}, good_student="zz_good"),
      verdict(acts.ReLU.output_shape))
"""


def test_the_harness_reports_every_kind_of_failure():
    verdicts = run_python(INJECT).split()
    assert verdicts == ["traceback", "hang", "blowup", "half-written", "batch-stopped", "ok"]


def test_fuzz_run_is_clean():
    """Every known hostile input, then 250 random mutations (seeded, so a failure reproduces with
    `python tools/fuzz.py --n 250 --seed 9`)."""
    result = subprocess.run([sys.executable, str(FUZZ), "--n", "250", "--seed", "9", "--json"], capture_output=True,
                            text=True, timeout=300, cwd=ROOT)
    summary = json.loads(result.stdout)
    assert summary["failures"] == [], json.dumps(summary["failures"], indent=2)
    assert result.returncode == 0
    assert summary["cases"] >= 350 and set(summary["per_kind"]) == {"spec", "key", "answers", "options"}
    assert summary["errors"] > 100  # mutations do reach the error paths
    assert summary["located_share"] >= 0.99, summary["unlocated"]


@pytest.mark.parametrize("name", ["docs/limits.md"])
def test_limits_table_is_the_code(name):
    """docs/limits.md shows archcalc/limits.py's table, unchanged."""
    assert markdown_table() in (ROOT / name).read_text(encoding="utf-8")
