"""Speed of archcalc: a whole `archcalc summary` process, and in-process analysis of
generated sequential specs of growing size (the passes must stay linear).

    python benchmarks/bench_summary.py            # prints a table of timings

Not a test: timings depend on the machine. Record results in the issue's closing note.
"""

from __future__ import annotations

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


def time_in_process(n_layers: int, repeats: int = 3) -> float:
    text = generated_spec(n_layers)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        analyze(build_graph(load_spec_text(text)))
        samples.append(time.perf_counter() - start)
    return min(samples)


def time_process(args: list[str], repeats: int = 5) -> tuple[float, float]:
    """Median wall time of a whole process, and its peak RSS in MB."""
    samples = []
    peak = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "archcalc", *args], check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return statistics.median(samples), peak


def main() -> None:
    wall, rss = time_process(["summary", "vgg16"])
    print(f"archcalc summary vgg16 (whole process): {wall * 1000:.0f} ms wall, {rss:.0f} MB peak RSS")
    for n in (100, 1_000, 10_000):
        seconds = time_in_process(n)
        print(f"{n:>6} layers in process: {seconds * 1000:8.1f} ms  ({seconds / n * 1e6:.1f} µs/layer)")


if __name__ == "__main__":
    main()
