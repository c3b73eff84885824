#!/usr/bin/env python3
"""A Markdown table of `archcalc bench --format json` results, for docs/benchmarks.md.

    python benchmarks/summarize_bench.py bench-results/*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def rows(path: Path) -> list[str]:
    report = json.loads(path.read_text())
    settings = report["settings"]
    setup = settings["dtype"] + (" channels-last" if settings["channels_last"] else "") + (
        " compiled" if settings["compile"] else " eager")
    lines = []
    for run in report["runs"]:
        if run["status"] != "ok":
            lines.append(f"| {report['spec']} | {setup} | {run['model']} | {run['batch']} | {run['status']} | | | | |")
            continue
        ratio = f"{run['vs_reference']:.3f}×" if run["vs_reference"] is not None else ""
        memory = f"{run['peak_memory_bytes'] / 2**30:.1f}" if run["peak_memory_bytes"] is not None else "—"
        lines.append(f"| {report['spec']} | {setup} | {run['model']} | {run['batch']} | {run['images_per_s']:,.0f} "
                     f"| {run['latency_ms']:.2f} ({run['latency_min_ms']:.2f}–{run['latency_max_ms']:.2f}) "
                     f"| {run['tflops']:.1f} ({run['peak_share']:.0%}) | {memory} | {ratio} |")
    return lines


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    first = json.loads(Path(paths[0]).read_text())
    env = first["environment"]
    print(f"{env['device']}, torch {env['torch']}" + (f", CUDA {env.get('cuda')}, cuDNN {env.get('cudnn')}"
                                                      if env.get("cuda") else "") + f"; {env['date']}")
    print(f"peak (dense matmul, each run's dtype): see each JSON; {first['settings']['dtype']}: "
          f"{first['peak_tflops']:.3g} TFLOP/s, copy bandwidth {first['bandwidth_gbs']:,.0f} GB/s\n")
    print("| spec | setup | model | batch | images/s | ms/batch (min–max) | TFLOP/s (of peak) | peak GiB | "
          "vs torchvision |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        for line in rows(Path(path)):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
