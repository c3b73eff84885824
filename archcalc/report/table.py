"""Tables: text, Markdown and CSV renderings of an Analysis (tabulate does the layout)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

from tabulate import tabulate

from ..analysis import Analysis
from ..zoo import display_name
from .columns import COLUMNS, DEFAULT_COLUMNS, Layout, format_shape
from .json_report import to_json


def _cells(analysis: Analysis, columns: Sequence[str], layout: Layout, thousands: bool) -> list[list[object]]:
    rows = []
    for row in analysis.rows:
        cells: list[object] = []
        for key in columns:
            value = COLUMNS[key].value(row, layout)
            cells.append(f"{value:,}" if thousands and COLUMNS[key].numeric else value)
        rows.append(cells)
    return rows


def _footer(analysis: Analysis, layout: Layout) -> list[str]:
    t = analysis.totals
    lines = [
        f"Total params:         {t.params:,}",
        f"Trainable params:     {t.trainable_params:,}",
        f"Non-trainable params: {t.non_trainable_params:,}",
        f"Shapes are {layout.label}, batch axis omitted.",
        "Conventions:",
    ]
    return lines + [f"  {line}" for line in analysis.conventions.describe()]


def _title(analysis: Analysis, layout: Layout) -> str:
    return f"{analysis.name} — input {format_shape(analysis.input_shape, layout)} ({display_name(analysis.file)})"


def render_text(analysis: Analysis, columns: Sequence[str], layout: Layout) -> str:
    headers = [COLUMNS[key].header for key in columns]
    align = ["right" if COLUMNS[key].numeric else "left" for key in columns]
    table = tabulate(_cells(analysis, columns, layout, True), headers, tablefmt="simple", colalign=align, disable_numparse=True)
    return "\n".join([_title(analysis, layout), "", table, "", *_footer(analysis, layout)]) + "\n"


def render_markdown(analysis: Analysis, columns: Sequence[str], layout: Layout) -> str:
    headers = [COLUMNS[key].header for key in columns]
    align = ["right" if COLUMNS[key].numeric else "left" for key in columns]
    cells = [[str(c).replace("|", "\\|") for c in row] for row in _cells(analysis, columns, layout, True)]
    table = tabulate(cells, headers, tablefmt="github", colalign=align, disable_numparse=True)
    footer = _footer(analysis, layout)
    body = [f"**{line.strip()}**" if i < 3 else line for i, line in enumerate(footer[:4])]
    notes = [f"- {line.strip()}" for line in footer[5:]]
    return "\n".join([f"### {_title(analysis, layout)}", "", table, "", *(f"{b}  " for b in body), "", "Conventions:", *notes]) + "\n"


def render_csv(analysis: Analysis, columns: Sequence[str], layout: Layout) -> str:
    """One row per layer, raw integers; totals are in the text and JSON outputs."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(_cells(analysis, columns, layout, False))
    return buffer.getvalue()


def render_json(analysis: Analysis, columns: Sequence[str], layout: Layout) -> str:
    return to_json(analysis)


FORMATS: dict[str, Callable[[Analysis, Sequence[str], Layout], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "csv": render_csv,
    "json": render_json,
}


def render(analysis: Analysis, fmt: str = "text", columns: Sequence[str] = DEFAULT_COLUMNS, layout: Layout = Layout.CHW) -> str:
    """The analysis as text in one of :data:`FORMATS`."""
    return FORMATS[fmt](analysis, columns, layout)
