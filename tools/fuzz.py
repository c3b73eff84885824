#!/usr/bin/env python3
"""Fuzz archcalc's command line with hostile specs, answer keys, answer files and options.

Cases are generated from a seed: the built-in specs, the test specs and the homework examples,
mutated (a value replaced by a hostile one, a key dropped, an entry duplicated, bytes inserted,
the text cut), plus the defect classes found by hand (alias bombs, deep nesting, huge numbers,
expression bombs, FIFOs, /dev/zero, names DOT misreads, output paths that do not exist).

Each case runs in a forked child with its own process group, a memory limit (the parent's
address space + 1 GiB) and a wall-clock alarm. A case fails when it
- prints a traceback or reports an internal error (exit 70): ``traceback``;
- is killed by the alarm or takes longer than 5 s: ``hang``;
- exceeds 1 GiB of memory (or hits the limit): ``blowup``;
- exits with an error but leaves an output file behind: ``half-written``;
- (answers) does not grade the one good submission among the bad ones: ``batch-stopped``.
Errors (exit 1) are classified by where they point: ``file:line``, the file alone (a problem
with the whole file: its size, type or encoding), or nowhere.

    python tools/fuzz.py --n 10000 --seed 1      # the long run; prints figures per kind
    python tools/fuzz.py --n 300 --json          # what tests/test_fuzz.py runs
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import random
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIME_LIMIT = 5.0
MEMORY_LIMIT = 2**30
EXIT_INTERNAL = 70

# ---- hostile material -----------------------------------------------------------------------

HOSTILE_VALUES: list[Any] = [
    0, -1, 1, 3, 2**31 - 1, 2**31, 2**48, 2**63, 10**400, 10**19, True, False, None, "8", "", " ", "x" * 3000,
    1e308, -1e-308, 0.5, float("nan"), float("inf"), [], [1], [1, 2, 3], [0, 0], [[1, 2], [3, 4]], [[-1, 0], [0, 0]],
    {}, {"a": 1}, "same", "valid", "$(" + "1+" * 20000 + "1)", "$(" + "-" * 100000 + "1)", "$(1/0)", "$(c/3)",
    "$undefined", "$(99999999999999999999 * 99999999999999999999)", "$(1e308*10)", "${x}", "$", "$(", "a\x01b",
    "conv:1", "<a>b>", "x\\", "²", "٣", "1e99999", "3:3", "\u202eevil", "名前", "a/b", "input", "-1", [2**31, 1],
    [1, True], {"nested": {"deep": [1, [2, [3]]]}}, "!!python/object/apply:os.system ['echo pwned']",
]

ANSWER_VALUES: list[Any] = [
    "1.0000000000000000000000000000001", "1e99999999999", "1e-999999", "²", "9" * 5000, "120 Mil", "3.49×10^4",
    "3.49 x 10**4", "7×7", "14 × 14", "", "-", "NaN", "inf", "-inf", "0x10", "1,2,3", "1,2", "62,3M", "1e308",
    "invalid", "None", "55x55x96", "(96, 55, 55)", "[55, 55, 96]", "0", "-34944", "34 944", "1_000", "٣٤", "3.",
    ".5", "5e", "e5", "1e+0060", "1" * 40 + ".5", "1" * 41, "x" * 300, "\u202e55", "55x55x", "x55", "55xx55",
    ["55", "55", "96"], ["²"], [["1"]], ["1"] * 500, {"a": "b"}, ["None", "55", "55", "96"], "12.5%", "1/2",
    "1.16 MB", "1.16 MiB", "1e6 B", "1.16×10^6 B", "3.49·10⁴", "10^4", "×10^4", "1.2.3", "+-1", "1e-61",
]

ANSWER_FILES: dict[str, Callable[[Path], None]] = {}


def _answer_file(name: str) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    def register(make: Callable[[Path], None]) -> Callable[[Path], None]:
        ANSWER_FILES[name] = make
        return make
    return register


@_answer_file("fifo")
def _fifo(path: Path) -> None:
    os.mkfifo(path)


@_answer_file("dev_zero")
def _dev_zero(path: Path) -> None:
    os.symlink("/dev/zero", path)


@_answer_file("directory")
def _directory(path: Path) -> None:
    path.mkdir()


@_answer_file("dangling_link")
def _dangling(path: Path) -> None:
    os.symlink(path.parent / "nowhere", path)


@_answer_file("binary")
def _binary(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 8)


@_answer_file("huge")
def _huge(path: Path) -> None:
    path.write_bytes(b"q1: " + b"9" * 1_100_000 + b"\n")


@_answer_file("bomb")
def _bomb(path: Path) -> None:
    path.write_text(alias_bomb("q1"))


@_answer_file("deep")
def _deep(path: Path) -> None:
    path.write_text("q1: " + "[" * 5000 + "]" * 5000 + "\n")


@_answer_file("duplicate")
def _duplicate(path: Path) -> None:
    path.write_text("q1: 55x55x96\nq1: 96x55x55\n")


@_answer_file("latin1")
def _latin1(path: Path) -> None:
    path.write_bytes("q1: 55×55×96\n".encode("latin-1", "replace") + b"\xff\xfe\n")


@_answer_file("nul")
def _nul(path: Path) -> None:
    path.write_bytes(b"q1: 55\x00x55\n")


@_answer_file("control")
def _control(path: Path) -> None:
    path.write_bytes(b"q1: 55x55x96\nq2: 3\x07\n")


@_answer_file("tag")
def _tag(path: Path) -> None:
    path.write_text("q1: !!python/object/apply:os.system ['echo pwned']\n")


@_answer_file("list")
def _list(path: Path) -> None:
    path.write_text("- 55x55x96\n")


@_answer_file("empty")
def _empty(path: Path) -> None:
    path.write_text("")


def alias_bomb(key: str, levels: int = 9) -> str:
    letters = "abcdefghijklmnop"
    lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, levels):
        lines.append(f"{letters[i]}: &{letters[i]} [" + ", ".join([f"*{letters[i - 1]}"] * 10) + "]")
    return "\n".join(lines) + f"\n{key}: *{letters[levels - 1]}\n"


# ---- cases ----------------------------------------------------------------------------------

@dataclass
class Case:
    kind: str
    label: str
    argv: list[str]
    files: dict[str, Any] = field(default_factory=dict)  # relative path -> bytes, str, or a maker(path)
    outputs: tuple[str, ...] = ()  # files that must not exist when the command fails
    good_student: str | None = None  # answers: this student must be graded whatever the others hold


@dataclass
class Seeds:
    specs: list[tuple[str, Any]]
    keys: list[tuple[str, Any]]
    answers: list[Any]

    @classmethod
    def load(cls) -> Seeds:
        specs = [(p.stem, yaml.safe_load(p.read_text())) for p in sorted((ROOT / "specs").rglob("*.yaml"))]
        specs += [(p.stem, yaml.safe_load(p.read_text())) for p in sorted((ROOT / "tests" / "specs").glob("*.yaml"))]
        homework = ROOT / "examples" / "homework"
        keys = [(p.stem, yaml.safe_load(p.read_text())) for p in sorted(homework.glob("*_key.yaml"))]
        answers = []
        for path in sorted(homework.glob("*/*.yaml")):
            try:
                answers.append(yaml.load(path.read_text(), Loader=yaml.BaseLoader))
            except yaml.YAMLError:
                continue  # a deliberately broken example
        return cls(specs, keys, [a for a in answers if isinstance(a, dict)])


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (key/index sequence) into a nested YAML value."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _get(value: Any, path: tuple) -> Any:
    for part in path:
        value = value[part]
    return value


def mutate_structure(document: Any, rng: random.Random, pool: list[Any]) -> Any:
    """A copy of ``document`` with one to three nodes replaced, deleted or duplicated."""
    document = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(document) if p]
        if not paths:
            return rng.choice(pool)
        path = rng.choice(paths)
        parent = _get(document, path[:-1])
        last = path[-1]
        action = rng.random()
        if action < 0.7:
            parent[last] = copy.deepcopy(rng.choice(pool))
        elif action < 0.85:
            del parent[last]
        elif isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        else:
            parent[f"{last}_extra"] = copy.deepcopy(parent[last])
    return document


def mutate_text(text: str, rng: random.Random) -> bytes:
    """Byte-level damage: cut, insert junk, duplicate or drop lines, retab."""
    data = text.encode("utf-8")
    action = rng.randrange(7)
    at = rng.randrange(len(data) + 1)
    if action == 0:
        return data[:at]
    if action == 1:
        junk = rng.choice([b"\xff\xfe", b"\x00", b"\x07", b"\x1b[31m", b"{", b"]", b":", b"&a", b"*a", b"- ", b"\t",
                           b"\r", "\u2028".encode(), b"!!binary", b"'", b'"', b"%YAML 1.1\n---\n", b"..."])
        return data[:at] + junk + data[at:]
    lines = data.split(b"\n")
    index = rng.randrange(len(lines))
    if action == 2:
        lines.insert(index, lines[index])
    elif action == 3:
        del lines[index]
    elif action == 4:
        lines[index] = b"  " + lines[index]
    elif action == 5:
        lines[index] = re.sub(rb"\d+", lambda m: b"9" * rng.choice([25, 400, 5000]), lines[index], count=1)
    else:
        return b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")
    return b"\n".join(lines)


def dump(document: Any) -> str:
    try:
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=4096)
    except (yaml.YAMLError, ValueError):
        return "name: x\n"


SPECIAL_SPECS: dict[str, str] = {
    "alias_bomb": alias_bomb("layers"),
    "deep_flow": "name: d\ninput: [3, 8, 8]\nlayers: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep_60": "name: d\ninput: [3, 8, 8]\nargs: {x: " + "[" * 60 + "]" * 60 + "}\nlayers:\n  - relu\n",
    "int_5000_digits": "name: d\ninput: [3, " + "9" * 5000 + ", 8]\nlayers:\n  - relu\n",
    "int_400_digits": "name: d\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: " + "9" * 400 + ", kernel: 3}\n",
    "bare_relu_12000": "name: d\ninput: [3, 8, 8]\nlayers:\n" + "  - relu\n" * 12000,
    "repeat_huge": "name: d\ninput: [3, 8, 8]\nlayers:\n  - relu: {repeat: 100000000}\n",
    "repeat_limit": "name: d\ninput: [3, 8, 8]\nlayers:\n  - relu: {name: r, repeat: 19999}\n",
    "repeat_over": "name: d\ninput: [3, 8, 8]\nlayers:\n  - relu: {name: r, repeat: 131072}\n",
    "adaptive_huge": "name: d\ninput: [1, 8, 8]\nlayers:\n  - adaptive_avg_pool2d: {output: [100000000, 1]}\n",
    "adaptive_large": "name: d\ninput: [1, 8, 8]\nlayers:\n  - adaptive_max_pool2d: {output: [10000000, 10000000]}\n",
    "expression_sum": "name: d\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: $(" + "1+" * 20000 + "1), kernel: 1}\n",
    "expression_minus": "name: d\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: $(" + "-" * 100000 + "1), kernel: 1}\n",
    "expression_parens": "name: d\ninput: [3, 8, 8]\nargs: {c: 2}\nlayers:\n  - conv2d: {out: $(" + "(" * 90 + "c"
                         + ")" * 90 + "), kernel: 1}\n",
    "expression_overflow": "name: d\ninput: [3, 8, 8]\nargs: {c: 99999999999999999999}\nlayers:\n"
                           "  - conv2d: {out: $(c*c*c*c*c*c*c*c*c*c*c*c*c*c*c*c / 3), kernel: 1}\n",
    "module_self": "name: d\ninput: [3, 8, 8]\nmodules:\n  m:\n    layers:\n      - m\nlayers:\n  - m\n",
    "module_chain": "name: d\ninput: [3, 8, 8]\nmodules:\n" + "".join(
        f"  m{i}:\n    layers:\n      - m{i + 1}\n" for i in range(40)) + "  m40:\n    layers:\n      - relu\n"
        "layers:\n  - m0\n",
    "module_fanout": "name: d\ninput: [3, 8, 8]\nmodules:\n" + "".join(
        f"  m{i}:\n    layers:\n      - m{i + 1}: {{repeat: 10}}\n" for i in range(8)) + "  m8:\n    layers:\n"
        "      - relu\nlayers:\n  - m0\n",
    "transposed_stride": "name: d\ninput: [3, 8, 8]\nlayers:\n  - conv_transpose2d: {out: 3, kernel: 3, stride: 2147483647}\n",
    "strides_multiply": "name: d\ninput: [3, 8, 8]\nlayers:\n" + "  - conv2d: {out: 3, kernel: 1, stride: 2147483647}\n" * 40,
    "transposed_fractions": "name: d\ninput: [3, 8, 8]\nlayers:\n" + "  - conv_transpose2d: {out: 3, kernel: 1, stride: 1}\n"
                            "  - conv2d: {out: 3, kernel: 2, stride: 1, padding: 1}\n" * 40,
    "sexagesimal": "name: d\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: 3, kernel: 3:3}\n",
    "coercion_true": "name: d\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: true, kernel: 3, groups: true}\n",
    "coercion_string": "name: d\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: '8', kernel: 3}\n",
    "name_control": 'name: "net\\x01"\ninput: [3, 8, 8]\nlayers:\n  - relu: {name: "r\\x07"}\n',
    "name_long": "name: d\ninput: [3, 8, 8]\nlayers:\n  - relu: {name: " + "n" * 3000 + "}\n",
    "name_dot": "name: d\ninput: [3, 8, 8]\nlayers:\n  - relu: {name: 'conv:1'}\n  - relu: {name: '<a>b>'}\n"
                "  - relu: {name: 'a>b'}\n  - relu: {name: 'x\\'}\n  - add: {inputs: ['conv:1', 'a>b']}\n",
    "outputs_many": "name: d\ninput: [3, 8, 8]\nlayers:\n" + "".join(f"  - relu: {{name: r{i}, inputs: input}}\n"
                                                                  for i in range(3000))
                    + "outputs: [" + ", ".join(f"r{i}" for i in range(3000)) + "]\n",
    "concat_many": "name: d\ninput: [3, 8, 8]\nlayers:\n  - relu: {name: r}\n  - concat: {inputs: [" + ", ".join(
        ["r"] * 20000) + "]}\n",
    "values_limit": "name: d\ninput: [3, 8, 8]\nlayers:\n  - relu\nargs: {x: [" + ",".join(["1"] * 260000) + "]}\n",
    "empty": "",
    "null": "null\n",
    "scalar": "42\n",
    "list": "- relu\n",
    "bom_crlf": "\ufeffname: d\r\ninput: [3, 8, 8]\r\nlayers:\r\n  - relu\r\n",
    "control_char": "name: d\ninput: [3, 8, 8]\nlayers:\n  - relu\x07\n",
    "undecodable": "name: d\ninput: [3, 8, 8]\nlayers:\n  - relu  # \udcff\n",
}

SPECIAL_FILES: dict[str, Callable[[Path], None]] = {
    "fifo": _fifo, "dev_zero": _dev_zero, "directory": _directory, "huge": lambda p: p.write_bytes(
        b"name: d\ninput: [3, 8, 8]\nlayers:\n" + b"  - relu\n" * 200_000),
}


def _special_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


SUMMARY_FORMATS = ["text", "markdown", "csv", "json", "latex"]


def _spec_command(rng: random.Random, spec: str) -> tuple[list[str], tuple[str, ...]]:
    choice = rng.randrange(11)
    extra: list[str] = []
    if rng.random() < 0.3:
        extra += rng.choice([["--strict"], ["--layout", "hwc"], ["--batch", "7"], ["--depth", "1"],
                             ["--convention", "fvcore"], ["--input", "3,64,64"], ["--set", "classes=2"]])
    if choice < 4:
        return ["summary", spec, "--format", rng.choice(SUMMARY_FORMATS), *extra], ()
    if choice == 4:
        return ["summary", spec, "--conventions", "-o", "out.txt"], ("out.txt",)
    if choice == 5:
        return ["explain", spec], ()
    if choice == 6:
        return ["compare", spec, "lenet5"], ()
    if choice == 7:
        return ["render", spec, "-o", "out.dot"], ("out.dot",)
    if choice == 8:
        return ["render", spec, "-o", "out.svg", "--depth", "1"], ("out.svg",)
    if choice == 9:
        return ["report", spec, "-o", "out.html"], ("out.html",)
    return ["export", spec, "-o", "model.py"], ("model.py",)


def spec_case(rng: random.Random, seeds: Seeds, index: int) -> Case:
    roll = rng.random()
    if roll < 0.25:
        label = rng.choice(list(SPECIAL_SPECS))
        content: Any = _special_bytes(SPECIAL_SPECS[label])
        label = f"special:{label}"
    elif roll < 0.3:
        label = rng.choice(list(SPECIAL_FILES))
        content = SPECIAL_FILES[label]
        label = f"file:{label}"
    else:
        name, document = rng.choice(seeds.specs)
        if rng.random() < 0.6:
            content = dump(mutate_structure(document, rng, HOSTILE_VALUES)).encode("utf-8", "surrogateescape")
            label = f"mutated:{name}"
        else:
            content = mutate_text(dump(document), rng)
            label = f"damaged:{name}"
    argv, outputs = _spec_command(rng, "spec.yaml")
    return Case("spec", label, argv, {"spec.yaml": content}, outputs)


def key_case(rng: random.Random, seeds: Seeds, index: int) -> Case:
    name, key = rng.choice(seeds.keys)
    pool = HOSTILE_VALUES + ANSWER_VALUES + ["alexnet", "nonexistent", "spec.yaml", {"name": "x", "layers": ["relu"]},
                                             {"name": "x", "input": [3, 8, 8], "layers": [{"conv2d": {"out": -1}}]}]
    if rng.random() < 0.8:
        document = mutate_structure(key, rng, pool)
        content = dump(document).encode("utf-8", "surrogateescape")
        label = f"mutated:{name}"
    else:
        content = mutate_text(dump(key), rng)
        label = f"damaged:{name}"
    files: dict[str, Any] = {"key.yaml": content, "answers/alice.yaml": dump(seeds.answers[0]),
                             "spec.yaml": dump(seeds.specs[0][1])}
    if rng.random() < 0.5:
        return Case("key", label, ["key", "lint", "key.yaml"], files)
    return Case("key", label, ["check", "key.yaml", "answers", "--csv", "grades.csv", "-o", "report.txt"], files,
                ("grades.csv", "report.txt"))


def answers_case(rng: random.Random, seeds: Seeds, index: int) -> Case:
    files: dict[str, Any] = {"answers/zz_good.yaml": (ROOT / "examples/homework/alexnet/alice.yaml").read_text()}
    labels = []
    for i in range(rng.randint(1, 4)):
        if rng.random() < 0.35:
            kind = rng.choice(list(ANSWER_FILES))
            files[f"answers/s{i}.yaml"] = ANSWER_FILES[kind]
        else:
            kind = "mutated"
            document = mutate_structure(rng.choice(seeds.answers), rng, ANSWER_VALUES)
            files[f"answers/s{i}.yaml"] = dump(document)
        labels.append(kind)
    fmt = rng.choice(["text", "json", "gradescope", "prairielearn"])
    argv = ["check", str(ROOT / "examples/homework/alexnet_key.yaml"), "answers", "--format", fmt,
            "--csv", "grades.csv", "-o", "report.out"]
    return Case("answers", "+".join(labels), argv, files, ("grades.csv", "report.out"), good_student="zz_good")


OPTION_VALUES = {
    "--input": ["3,abc", "3," + "9" * 5000, "3,99999999999,8", "3,9999999,9999999", "0,1,1", "-3,224,224", "3x224",
                "", ",", "3,224,224,1", "²,1,1", "3, 224 , 224"],
    "--set": ["classes=" + "9" * 5000, "classes=true", "classes='8'", "classes=[1,2]", "classes=&a [*a]", "=1",
              "classes", "classes=1e999", "clases=2", "classes=" + "[" * 100 + "]" * 100, "classes=!!python/none"],
    "-o": ["/missing/dir/x.txt", "/dev/null", "-", ".", "a" * 5000, "out/", "/proc/version"],
    "--batch": ["0", "-1", "9" * 400, "1048577", "1.5"],
    "--depth": ["-1", "9" * 30, "x"],
    "--columns": ["name,nope", ",", "", "name," * 1000],
    "--format": ["yaml", ""],
    "--convention": ["nope"],
}


def options_case(rng: random.Random, seeds: Seeds, index: int) -> Case:
    option = rng.choice(list(OPTION_VALUES))
    value = rng.choice(OPTION_VALUES[option])
    spec = rng.choice(["lenet5", "vgg16", "alexnet"])
    argv = ["summary", spec, option, value]
    if option == "-o" and rng.random() < 0.5:
        argv = rng.choice([["render", spec, "-o", value, "--format", "dot"], ["export", spec, "-o", value]])
    return Case("options", f"{option} {value[:30]!r}", argv)


KINDS: dict[str, Callable[[random.Random, Seeds, int], Case]] = {
    "spec": spec_case, "key": key_case, "answers": answers_case, "options": options_case,
}
WEIGHTS = {"spec": 0.5, "key": 0.2, "answers": 0.2, "options": 0.1}


# ---- running one case -----------------------------------------------------------------------

@dataclass
class Outcome:
    kind: str
    label: str
    argv: list[str]
    code: int
    seconds: float
    max_rss: int  # bytes
    stderr: str
    verdict: str  # 'ok', 'error', 'usage', 'traceback', 'hang', 'blowup', 'half-written', 'batch-stopped'
    location: str = ""  # for errors: 'line', 'file' or 'none'


def _address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _write_files(folder: Path, files: dict[str, Any]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _child(case: Case, folder: Path, memory: int) -> None:
    """In the forked child: limits, redirected output, the command; never returns."""
    code = 99
    try:
        os.setpgid(0, 0)
        os.chdir(folder)
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(int(TIME_LIMIT) + 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, name in ((1, ".stdout"), (2, ".stderr")):
            target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
        from archcalc.cli import main

        try:
            main.main(args=case.argv, prog_name="archcalc", standalone_mode=True)
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: BLE001 - whatever escapes is the finding
        import traceback

        traceback.print_exc()
        code = 98
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


_LINE = re.compile(r"^(?:error: )?[^\s:][^:\n]*:\d+: ")
_NAMED = re.compile(r"^error: (?:cannot write )?'?([^':\n]+?)…?'?: ")


def _location(case: Case, text: str) -> str:
    """'line' when the first error names a file and a line, 'file' when it names one of the case's
    files or paths (a problem with the whole file), else 'none'."""
    first = next((line for line in text.splitlines() if line.startswith("error: ") or ": error: " in line), "")
    if _LINE.match(first):
        return "line"
    match = _NAMED.match(first)
    named = match.group(1) if match else ""
    candidates = [*case.argv, *case.files]
    return "file" if named and any(c.startswith(named) or c.endswith(named) for c in candidates) else "none"


def run_case(case: Case, memory_limit: int = MEMORY_LIMIT) -> Outcome:
    folder = Path(tempfile.mkdtemp(prefix="archcalc-fuzz-"))
    try:
        _write_files(folder, case.files)
        memory = _address_space() + memory_limit
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(case, folder, memory)
        _, status, usage = os.wait4(pid, 0)
        seconds = time.monotonic() - start
        try:
            os.killpg(pid, signal.SIGKILL)  # a renderer the child started
        except OSError:
            pass
        stderr = (folder / ".stderr").read_text("utf-8", "replace") if (folder / ".stderr").exists() else ""
        stdout = (folder / ".stdout").read_text("utf-8", "replace") if (folder / ".stdout").exists() else ""
        code = os.waitstatus_to_exitcode(status)
        outcome = Outcome(case.kind, case.label, case.argv, code, seconds, usage.ru_maxrss * 1024, stderr[:2000], "ok")
        outcome.verdict, outcome.location = _judge(case, outcome, folder, stdout, memory_limit)
        return outcome
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _judge(case: Case, outcome: Outcome, folder: Path, stdout: str, memory_limit: int) -> tuple[str, str]:
    text = outcome.stderr
    if "MemoryError" in text or outcome.max_rss > memory_limit:
        return "blowup", ""
    if outcome.code < 0 or outcome.seconds > TIME_LIMIT:
        return "hang", ""
    if "Traceback" in text or outcome.code in (EXIT_INTERNAL, 98, 99) or "internal error" in text:
        return "traceback", ""
    if outcome.code == 2:
        return "usage", ""
    if outcome.code == 1:
        if any((folder / name).exists() for name in case.outputs):
            return "half-written", ""
        return "error", _location(case, text + "\n" + stdout)
    if case.good_student is not None and not _graded(stdout, folder, case.good_student):
        return "batch-stopped", ""
    return "ok", ""


def _graded(stdout: str, folder: Path, student: str) -> bool:
    """The good student has a score in the report and a row in the CSV."""
    report = next((p for p in (folder / "report.out", folder / ".stdout") if p.exists()), None)
    text = report.read_text("utf-8", "replace") if report else stdout
    csv_path = folder / "grades.csv"
    in_csv = csv_path.exists() and any(line.startswith(f"{student},True,14,") for line in csv_path.read_text().splitlines())
    return in_csv and student in text


# ---- the run --------------------------------------------------------------------------------

def _warm_up() -> None:
    """Import and build in the parent what every child needs, so each fork starts warm."""
    from archcalc import analyze, build_graph, load
    from archcalc.cli import main  # noqa: F401 - registers every command
    from archcalc.cli import analysis, backend, diagram, grading  # noqa: F401
    from archcalc.grading.key import load_key
    from archcalc.layers import layer_types

    for cls in layer_types().values():
        cls.model_rebuild()
    analyze(build_graph(load("torchvision/inception_v3")))
    load_key(ROOT / "examples/homework/alexnet_key.yaml")
    gc.collect()


def known_cases() -> list[Case]:
    """Every hand-made hostile input once: the defect classes, deterministically."""
    cases = [Case("spec", f"special:{label}", ["summary", "spec.yaml"], {"spec.yaml": _special_bytes(text)})
             for label, text in SPECIAL_SPECS.items()]
    cases += [Case("spec", f"file:{label}", ["summary", "spec.yaml"], {"spec.yaml": make})
              for label, make in SPECIAL_FILES.items()]
    cases += [Case("spec", "render:name_dot", ["render", "spec.yaml", "-o", "out.svg"],
                   {"spec.yaml": _special_bytes(SPECIAL_SPECS["name_dot"])}, ("out.svg",))]
    good = (ROOT / "examples/homework/alexnet/alice.yaml").read_text()
    key = str(ROOT / "examples/homework/alexnet_key.yaml")
    for label, make in ANSWER_FILES.items():
        cases.append(Case("answers", label, ["check", key, "answers", "--csv", "grades.csv", "-o", "report.out"],
                          {"answers/zz_good.yaml": good, f"answers/{label}.yaml": make}, ("grades.csv", "report.out"),
                          good_student="zz_good"))
    values = "\n".join(f"q{i + 1}: {json.dumps(value, ensure_ascii=False)}" for i, value in enumerate(ANSWER_VALUES[:10]))
    cases.append(Case("answers", "values", ["check", key, "answers", "--csv", "grades.csv", "-o", "report.out"],
                      {"answers/zz_good.yaml": good, "answers/values.yaml": values}, ("grades.csv", "report.out"),
                      good_student="zz_good"))
    for option, values_ in OPTION_VALUES.items():
        cases += [Case("options", f"{option} {value[:30]!r}", ["summary", "lenet5", option, value]) for value in values_]
    return cases


def generate(n: int, seed: int, kinds: list[str]) -> list[Case]:
    """The known hostile inputs, then ``n`` random mutations."""
    rng = random.Random(seed)
    seeds = Seeds.load()
    weights = [WEIGHTS[k] for k in kinds]
    known = [case for case in known_cases() if case.kind in kinds]
    return known + [KINDS[rng.choices(kinds, weights)[0]](rng, seeds, i) for i in range(n)]


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    per_kind: dict[str, Counter] = defaultdict(Counter)
    for outcome in outcomes:
        per_kind[outcome.kind][outcome.verdict] += 1
        if outcome.verdict == "error":
            per_kind[outcome.kind][f"error@{outcome.location}"] += 1
    errors = [o for o in outcomes if o.verdict == "error"]
    located = sum(o.location in ("line", "file") for o in errors)
    failures = [o for o in outcomes if o.verdict not in ("ok", "error", "usage")]
    return {
        "cases": len(outcomes),
        "per_kind": {kind: dict(counts) for kind, counts in sorted(per_kind.items())},
        "errors": len(errors),
        "errors_with_line": sum(o.location == "line" for o in errors),
        "errors_with_file_only": sum(o.location == "file" for o in errors),
        "located_share": located / len(errors) if errors else 1.0,
        "unlocated": [{"label": o.label, "argv": o.argv[:3], "stderr": o.stderr[:300]} for o in errors
                      if o.location == "none"][:20],
        "failures": [{"verdict": o.verdict, "kind": o.kind, "label": o.label, "argv": [a[:80] for a in o.argv],
                      "seconds": round(o.seconds, 2), "max_rss_mb": o.max_rss // 2**20, "stderr": o.stderr[-1500:]}
                     for o in failures],
        "slowest_seconds": round(max((o.seconds for o in outcomes), default=0.0), 2),
        "largest_rss_mb": max((o.max_rss for o in outcomes), default=0) // 2**20,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="number of cases")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: " + ", ".join(KINDS))
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    cases = generate(args.n, args.seed, kinds)
    _warm_up()
    gc.disable()
    start = time.monotonic()
    outcomes = [run_case(case) for case in cases]
    summary = summarize(outcomes)
    summary["wall_seconds"] = round(time.monotonic() - start, 1)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print(summary)
    return 1 if summary["failures"] else 0


def _print(summary: dict[str, Any]) -> None:
    print(f"{summary['cases']} cases in {summary['wall_seconds']} s "
          f"(slowest {summary['slowest_seconds']} s, largest {summary['largest_rss_mb']} MiB)")
    for kind, counts in summary["per_kind"].items():
        print(f"  {kind:8} " + ", ".join(f"{name} {count}" for name, count in sorted(counts.items())))
    print(f"errors: {summary['errors']}, with file:line {summary['errors_with_line']}, with the file only "
          f"{summary['errors_with_file_only']}: located {summary['located_share']:.1%}")
    for item in summary["unlocated"]:
        print(f"  unlocated: {item['label']}: {item['stderr'].splitlines()[0] if item['stderr'] else ''}")
    for failure in summary["failures"]:
        print(f"FAIL {failure['verdict']}: {failure['kind']} {failure['label']} {failure['argv']}\n{failure['stderr']}")


if __name__ == "__main__":
    sys.exit(main())
