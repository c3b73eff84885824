"""Side by side: a whole `archcalc summary resnet152` process against torchinfo's summary of
torchvision's resnet152 (the same network), paired runs on a quiet machine, with peak memory.

    python benchmarks/vs_torchinfo.py --peer-python /path/to/venv/bin/python [--runs 7] [--spec resnet152]

The peer interpreter needs torch, torchvision and torchinfo (torch 2.14.1 + torchvision 0.29.1 +
torchinfo; see the README); archcalc runs from the interpreter that runs this script. Prints
min / median / max wall time of each and the ratio of the medians (the issue 14 goal: at least 25).
Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

TORCHINFO = ("import torchvision, torchinfo; m = torchvision.models.{model}(weights=None); "
             "torchinfo.summary(m, input_size=(1, 3, 224, 224), verbose=1)")


def run(command: list[str]) -> float:
    """Wall seconds of one process."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def peak_of(command: list[str]) -> float:
    """Peak RSS (MiB) of a process, measured alone (RUSAGE_CHILDREN keeps the largest child so far)."""
    with open(os.devnull, "wb") as null:
        process = subprocess.Popen(command, stdout=null, stderr=null)
        _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_maxrss / 1024


def describe(name: str, samples: list[float]) -> str:
    return (f"{name}: min {min(samples) * 1000:.0f} ms, median {statistics.median(samples) * 1000:.0f} ms, "
            f"max {max(samples) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-python", required=True, help="an interpreter with torch, torchvision, torchinfo")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--spec", default="resnet152", help="torchvision model name (archcalc: torchvision/NAME)")
    args = parser.parse_args()
    ours = [sys.executable, "-m", "archcalc", "summary", f"torchvision/{args.spec}"]
    theirs = [args.peer_python, "-c", TORCHINFO.format(model=args.spec)]
    # Bytecode as an installed package has it: pip compiles a wheel's modules at install, but an
    # editable install (or PYTHONDONTWRITEBYTECODE) would recompile archcalc's source in every run.
    import archcalc
    import compileall

    compileall.compile_dir(os.path.dirname(archcalc.__file__), quiet=1)
    subprocess.run(ours, check=True, capture_output=True)  # warm the file cache
    subprocess.run(theirs, check=True, capture_output=True)
    a, b = [], []
    for _ in range(args.runs):  # paired: each round runs both, so drift hits both alike
        a.append(run(ours))
        b.append(run(theirs))
    print(describe(f"archcalc summary torchvision/{args.spec}", a) + f", peak {peak_of(ours):.0f} MiB")
    print(describe(f"torchinfo on torchvision {args.spec}", b) + f", peak {peak_of(theirs):.0f} MiB")
    print(f"ratio of medians: {statistics.median(b) / statistics.median(a):.1f}x")


if __name__ == "__main__":
    main()
