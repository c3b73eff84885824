"""archcalc sweep, measured: points per second on one and on every core, against one process per
point; peak memory from 10k to 1M points streamed to Parquet; the overhead of Dask and Ray.

    python benchmarks/bench_sweep.py            # everything (1M points: a few minutes)
    python benchmarks/bench_sweep.py --quick    # up to 100k points, no clusters

The ResNet-style space is torchvision/resnet50 with its four stage depths b1..b4 each 1..4 (256
networks of 11 to 50 blocks). The memory runs use a five-layer spec (benchmarks/tiny_sweep.yaml)
so that a million points take minutes, not hours. Peak memory is the maximum resident set of the
command, from /usr/bin/time. Figures vary by about 10% on a busy machine: compare within one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
ARCHCALC = [sys.executable, "-m", "archcalc"]
RESNET = ["torchvision/resnet50", "--grid", "b1=1..4", "--grid", "b2=1..4", "--grid", "b3=1..4", "--grid", "b4=1..4"]


def timed(command: list[str]) -> tuple[float, int]:
    """(seconds, peak resident KiB) of one command."""
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stderr[-2000:]}")
    return seconds, int(result.stderr.strip().splitlines()[-1])


def rate(points: int, command: list[str], runs: int = 3) -> tuple[float, float, float]:
    """Points per second: (min, median, max) over ``runs``."""
    rates = [points / timed(command)[0] for _ in range(runs)]
    return min(rates), statistics.median(rates), max(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    folder = Path(tempfile.mkdtemp(prefix="archcalc-sweep-"))
    print(f"machine: {cores} cores, Python {sys.version.split()[0]}")

    one = rate(256, [*ARCHCALC, "sweep", *RESNET, "--jobs", "1", "-o", str(folder / "r.csv"), "--no-progress"])
    every = rate(256, [*ARCHCALC, "sweep", *RESNET, "--jobs", str(cores), "-o", str(folder / "r.csv"), "--no-progress"])
    singles = [timed([*ARCHCALC, "summary", "torchvision/resnet50", "--set", f"b3={b3}", "--set", f"b4={b4}",
                      "--format", "json", "-o", str(folder / "s.json")])[0] for b3 in (2, 4) for b4 in (1, 2, 3, 4)]
    per_point = 1 / statistics.median(singles)
    print("\nResNet-style space (256 points, whole command, min/median/max points/s):")
    print(f"  sweep --jobs 1:       {one[0]:7.0f} / {one[1]:7.0f} / {one[2]:7.0f}   {one[1] / per_point:5.1f}× one process per point")
    print(f"  sweep --jobs {cores}:       {every[0]:7.0f} / {every[1]:7.0f} / {every[2]:7.0f}   {every[1] / per_point:5.1f}× one process per point")
    print(f"  one `archcalc summary` process per point: {per_point:.1f} points/s (median of {len(singles)})")

    print("\nStreaming to Parquet (benchmarks/tiny_sweep.yaml, --jobs 1): points, seconds, points/s, peak memory")
    sizes = [(100, 100), (316, 316)] if args.quick else [(100, 100), (316, 316), (1000, 1000)]
    for a, b in sizes:
        seconds, kib = timed([*ARCHCALC, "sweep", str(HERE / "tiny_sweep.yaml"), "--grid", f"a=1..{a}", "--grid",
                              f"b=1..{b}", "--jobs", "1", "-o", str(folder / "t.parquet"), "--no-progress"])
        print(f"  {a * b:>9,}  {seconds:7.1f} s  {a * b / seconds:7.0f}/s  {kib / 1024:6.1f} MiB")

    if args.quick:
        return
    for executor in ("dask", "ray"):
        try:
            seconds, _ = timed([*ARCHCALC, "sweep", *RESNET, "--executor", executor, "--jobs", str(cores),
                                "-o", str(folder / "r.csv"), "--no-progress"])
        except SystemExit as err:
            print(f"\n{executor}: not measured ({str(err).splitlines()[0]})")
            continue
        print(f"\n{executor} (a local cluster of {cores} workers, started and stopped by the command): "
              f"256 points in {seconds:.1f} s ({256 / seconds:.0f} points/s; the local pool: {256 / every[1]:.1f} s)")


if __name__ == "__main__":
    main()
