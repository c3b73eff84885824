"""Side by side: a whole `archcalc summary resnet152` process against torchinfo's summary of
torchvision's resnet152 (the same network), paired runs on a quiet machine, with peak memory.

    python benchmarks/vs_torchinfo.py --peer-python /path/to/venv/bin/python [--runs 7] [--spec resnet152]

The peer interpreter needs torch, torchvision and torchinfo (torch 2.14.1 + torchvision 0.29.1 +
torchinfo; see the README); archcalc runs from the interpreter that runs this script. Prints
min / median / max wall time of each and the ratio of the medians (the issue 14 goal: at least 25).

Then, per layer and in-process, the network of benchmarks/bench_summary.py (``--layers`` conv/relu
layers on 16×32×32): archcalc's load, graph and analysis of the spec, against torchinfo's summary
of the same network built as an ``nn.Sequential`` (its construction not counted). Goal: at least 5×.
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


PER_LAYER = """
import sys, time, torch, torchinfo
n = int(sys.argv[1])
model = torch.nn.Sequential(*[m for _ in range(n // 2) for m in (torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.ReLU())])
samples = []
for _ in range(4):  # the first warms up
    start = time.perf_counter()
    torchinfo.summary(model, input_size=(1, 16, 32, 32), verbose=0)
    samples.append(time.perf_counter() - start)
print(min(samples[1:]))
"""


def per_layer(peer_python: str, n_layers: int) -> tuple[float, float]:
    """Best of three in-process times per layer (seconds): archcalc's, torchinfo's."""
    sys.path.insert(0, os.path.dirname(__file__))
    from bench_summary import time_in_process

    ours = time_in_process(n_layers, collect=True) / n_layers
    output = subprocess.run([peer_python, "-c", PER_LAYER, str(n_layers)], check=True, capture_output=True, text=True)
    return ours, float(output.stdout.split()[-1]) / n_layers


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
    parser.add_argument("--layers", type=int, default=1_000, help="layers of the per-layer comparison")
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
    ours_per, theirs_per = per_layer(args.peer_python, args.layers)
    print(f"per layer, in-process, {args.layers:,} conv/relu layers on 16×32×32 (best of 3): archcalc "
          f"{ours_per * 1e6:.1f} µs, torchinfo {theirs_per * 1e6:.1f} µs; ratio {theirs_per / ours_per:.1f}x")


if __name__ == "__main__":
    main()
