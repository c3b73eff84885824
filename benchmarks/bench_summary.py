"""Speed of archcalc: a whole `archcalc summary resnet152` process (wall time and peak
memory), and the in-process analysis (load, graph, every pass) of generated sequential specs
of 100, 1,000 and 10,000 layers, which must grow linearly.

    python benchmarks/bench_summary.py

Goals (issue 14; figures in docs/performance.md): in-process at most 25 µs per layer at 10,000
layers with the caller's GC setting, and time(10k)/time(1k) at most 11; the whole process within
60 MB (benchmarks/vs_torchinfo.py gives the ratio to torchinfo). Not a test: timings depend on the
machine.
"""

from __future__ import annotations

import gc
import resource
import statistics
import subprocess
import sys
import time

from archcalc import analyze, build_graph, load_spec_text


def generated_spec(n_layers: int) -> str:
    """A sequential conv/relu stack of n_layers layers on a small input."""
    lines = ["name: generated", "input: [16, 32, 32]", "layers:"]
    for i in range(n_layers // 2):
        lines.append(f"  - conv2d: {{name: c{i}, out: 16, kernel: 3, padding: 1}}")
        lines.append("  - relu")
    return "\n".join(lines) + "\n"


def time_in_process(n_layers: int, collect: bool, repeats: int = 3) -> float:
    """Best time to load, build and analyze; ``collect=False`` runs as the CLI does (no cyclic GC)."""
    text = generated_spec(n_layers)
    samples = []
    for _ in range(repeats):
        gc.collect()
        if not collect:
            gc.disable()
        start = time.perf_counter()
        analyze(build_graph(load_spec_text(text)))
        samples.append(time.perf_counter() - start)
        gc.enable()
    return min(samples)


def time_process(args: list[str], repeats: int = 7) -> tuple[float, float, float]:
    """Median and best wall time of a whole `archcalc` process, and its peak RSS in MB."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "archcalc", *args], check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # largest child so far
    return statistics.median(samples), min(samples), peak


def main() -> None:
    median, best, rss = time_process(["summary", "resnet152"])
    print(f"archcalc summary resnet152 (whole process): median {median * 1000:.0f} ms, best {best * 1000:.0f} ms "
          f"wall; {rss:.0f} MB peak RSS")
    for collect in (True, False):
        label = "library (GC on)" if collect else "as the CLI (GC off)"
        for n in (100, 1_000, 10_000):
            seconds = time_in_process(n, collect)
            print(f"{label:>20}: {n:>6} layers {seconds * 1000:8.1f} ms  ({seconds / n * 1e6:.1f} µs/layer)")


if __name__ == "__main__":
    main()
