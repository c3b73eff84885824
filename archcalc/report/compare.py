"""Side-by-side totals: one network under every FLOP convention, or several networks."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ..analysis import Analysis
from ..conventions import FLOP_PRESETS
from .columns import format_bytes


def _emit(title: str, headers: list[str], rows: list[list[Any]], records: list[dict[str, Any]], fmt: str,
          notes: Sequence[str] = ()) -> str:
    """Render plain rows in a table format, or the records as JSON."""
    if fmt == "json":
        import json  # only for --format json: not on a text summary's path

        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        import csv

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(list(records[0]))
        writer.writerows([list(record.values()) for record in records])
        return buffer.getvalue()
    tablefmt = {"text": "simple", "markdown": "github", "latex": "latex_booktabs"}[fmt]
    from tabulate import tabulate  # only here: importing it costs about 45 ms

    table = tabulate(rows, headers, tablefmt=tablefmt, disable_numparse=True)
    if fmt == "latex":
        return f"% {title}\n{table}\n".replace("×", r"\ensuremath{\times}")
    return "\n".join([title, "", table, *([""] + list(notes) if notes else [])]) + "\n"


def render_conventions(analysis: Analysis, fmt: str) -> str:
    """The network's inference total under every preset, and what each one counts."""
    macs = analysis.totals.macs
    records, rows = [], []
    for preset in FLOP_PRESETS.values():
        total = analysis.flops_under(preset.name)
        ratio = total / macs if macs else 0.0
        records.append({"convention": preset.name, "unit": preset.unit, "total": total,
                        "ratio_to_macs": round(ratio, 6), "counts": preset.counts})
        rows.append([preset.name, preset.unit, f"{total:,}", f"{ratio:.4f}", preset.counts])
    notes = ["Hook-based tools (thop, ptflops, torchinfo) see only torch.nn modules: where a model calls "
             "an activation or pooling functionally, the tool reports less than these totals."]
    title = f"{analysis.name}: total under each convention (inference, batch 1)"
    return _emit(title, ["convention", "unit", "total", "× MACs", "what it counts"], rows, records, fmt, notes)


def render_compare(analyses: Sequence[Analysis], names: Sequence[str], fmt: str) -> str:
    """Totals side by side, each with its ratio to the first network."""
    base = analyses[0].totals
    convention = analyses[0].conventions.flops
    records, rows = [], []
    for name, analysis in zip(names, analyses):
        t = analysis.totals
        last = analysis.rows[-1].rf
        record = {
            "spec": name, "network": analysis.name, "params": t.params, "macs": t.macs, "flops": t.flops,
            "activation_bytes": t.activation_bytes,
            "params_ratio": round(t.params / base.params, 6) if base.params else None,
            "macs_ratio": round(t.macs / base.macs, 6) if base.macs else None,
        }
        records.append(record)
        rows.append([
            name, f"{t.params:,}", _ratio(t.params, base.params), f"{t.macs:,}", _ratio(t.macs, base.macs),
            f"{t.flops:,}", format_bytes(t.activation_bytes), f"{last.h.size}×{last.w.size}",
        ])
    headers = ["spec", "params", "× params", "MACs", "× MACs", f"FLOPs ({convention})", "activations", "output RF"]
    return _emit("Totals (inference, batch 1); ratios are to the first spec", headers, rows, records, fmt)


def _ratio(value: int, base: int) -> str:
    return f"{value / base:.3f}" if base else "—"
