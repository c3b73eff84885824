"""What a whole `archcalc summary` process costs beyond the libraries it is built on.

    python benchmarks/startup_floor.py [--runs 21] [--spec torchvision/resnet152]

Times, as whole processes of this interpreter (min / median / max of paired rounds):

- the bare interpreter (``python -c pass``);
- the floor of the chosen stack: importing click, PyYAML and pydantic, and validating one
  pydantic model (which makes pydantic import its plugin loader, and with it ``importlib.metadata``,
  and scan the installed distributions for plugins), as any command that validates its input
  with pydantic pays;
- ``archcalc summary SPEC``.

The difference between the last two is what archcalc itself costs (its modules, creating its layer
classes, building the validators it uses, loading, analysing and printing). Issue 14's whole-process
goal (25× torchinfo) is a time budget; this says how much of it the stack takes before archcalc
does anything. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

FLOOR = """
import click, yaml
from pydantic import BaseModel, ConfigDict

class Model(BaseModel):
    model_config = ConfigDict(defer_build=True, strict=True, frozen=True)
    value: int = 1

Model.model_validate({"value": 2})
"""


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--spec", default="torchvision/resnet152")
    args = parser.parse_args()
    import compileall

    import archcalc

    compileall.compile_dir(os.path.dirname(archcalc.__file__), quiet=1)  # as an installed wheel has it
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "click + PyYAML + pydantic, one model validated": [sys.executable, "-c", FLOOR],
        f"archcalc summary {args.spec}": [sys.executable, "-m", "archcalc", "summary", args.spec],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        wall(command)  # warm the file cache
    for _ in range(args.runs):  # paired rounds: drift hits every command alike
        for name, command in commands.items():
            samples[name].append(wall(command))
    for name, times in samples.items():
        print(f"{name:>50}: min {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms, "
              f"max {max(times) * 1000:.0f} ms")
    floor, ours = (statistics.median(samples[name]) for name in list(commands)[1:])
    print(f"archcalc beyond the floor: {(ours - floor) * 1000:.0f} ms of {ours * 1000:.0f} ms (medians)")


if __name__ == "__main__":
    main()
