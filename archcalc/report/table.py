"""Tables: text, Markdown, CSV and LaTeX renderings of an Analysis (tabulate lays out Markdown and
LaTeX; the plain text table, on every summary's path, is :mod:`.plain`)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import NamedTuple

from .plain import simple_table

from ..analysis import Analysis
from ..zoo import display_name
from ..metrics import si_count
from .columns import COLUMNS, DEFAULT_COLUMNS, Layout, format_bytes, format_shape
from .json_report import to_json
from .rows import DisplayRow, display_rows

TRAINING_MARK = " †"


class TableOptions(NamedTuple):
    columns: Sequence[str] = DEFAULT_COLUMNS
    layout: Layout = Layout.CHW
    depth: int | None = None
    module_totals: bool = True
    footer: bool = True  # totals and conventions under the table (text and Markdown)
    units: str = "exact"  # text and Markdown counts: 'exact' (34,944) or 'human' (34.9 K)
    width: int | None = None  # text: shorten the widest text columns to fit (a terminal's width); None: as wide as needed


def _cells(rows: Sequence[DisplayRow], options: TableOptions, human: bool) -> list[list[object]]:
    """The table's values, raw, or (``human``) as text and Markdown print them."""
    columns = [COLUMNS[key] for key in options.columns]
    layout, si = options.layout, options.units == "human"
    table = []
    for row in rows:
        cells: list[object] = []
        for column in columns:
            value = column.value(row, layout)
            if human:
                if column.human is not None:
                    value = column.human(value)
                elif column.numeric:
                    value = si_count(value) if si else f"{value:,}"
                if column.key == "name" and row.training_only:
                    value = f"{value}{TRAINING_MARK}"
            cells.append(value)
        table.append(cells)
    return table


def _footer(analysis: Analysis, layout: Layout) -> list[str]:
    t = analysis.totals
    c = analysis.conventions
    lines = [
        f"Total params:         {t.params:,}  ({si_count(t.params)}; {format_bytes(t.param_bytes)} as {c.dtype})",
        f"Trainable params:     {t.trainable_params:,}",
        f"Non-trainable params: {t.non_trainable_params:,}"
        + ("  (BatchNorm moving mean and variance, as Keras counts)" if t.non_trainable_params else ""),
    ]
    if t.buffers and c.params == "torch":
        lines.append(f"Buffers:              {t.buffers:,}  (BatchNorm running mean and variance; --params keras "
                     "counts them as non-trainable params)")
    if t.params_inference != t.params:
        lines.append(f"Params at inference:  {t.params_inference:,}  (without the training-only{TRAINING_MARK} layers)")
    lines += [
        f"MACs:                 {t.macs:,}  ({si_count(t.macs)})",
        f"{'FLOPs (' + c.flops + '):':<22}{t.flops:,}  ({si_count(t.flops)})",
        f"Activations:          {format_bytes(t.activation_bytes)}  ({t.activation_elems:,} values per input)",
    ]
    if t.macs_with_training_only != t.macs:
        lines.append(
            f"With training-only{TRAINING_MARK} layers: MACs {t.macs_with_training_only:,}, "
            f"FLOPs {t.flops_with_training_only:,} (the totals above are inference only)"
        )
    lines += _torchinfo_block(analysis)
    lines += [f"Shapes are {layout.label}, batch axis omitted.", "Conventions:"]
    return lines + [f"  {line}" for line in c.describe()]


def _torchinfo_block(analysis: Analysis) -> list[str]:
    """torchinfo's closing lines, as it would print them for this network (MB = 10^6 bytes, its unit)."""
    sizes = analysis.torchinfo_sizes()
    mult_adds = analysis.flops_under("torchinfo")
    unit, scale = next((u, s) for u, s in (("T", 1e12), ("G", 1e9), ("M", 1e6)) if mult_adds >= s or u == "M")
    rows = [(f"Total mult-adds ({unit})", mult_adds / scale),
            ("Input size (MB)", sizes["input"] / 1e6), ("Forward/backward pass size (MB)", sizes["forward_backward"] / 1e6),
            ("Params size (MB)", sizes["params"] / 1e6), ("Estimated Total Size (MB)", sizes["total"] / 1e6)]
    return ["As torchinfo reports it (MB = 10^6 bytes):"] + [f"  {label + ':':<33}{value:.2f}" for label, value in rows]


def _title(analysis: Analysis, layout: Layout) -> str:
    return f"{analysis.name} — input {format_shape(analysis.input_shape, layout)} ({display_name(analysis.file)})"


def _headers(analysis: Analysis, options: TableOptions) -> tuple[list[str], list[str]]:
    headers = [COLUMNS[key].header(analysis.conventions) for key in options.columns]
    align = ["right" if COLUMNS[key].numeric else "left" for key in options.columns]
    return headers, align


def render_text(analysis: Analysis, options: TableOptions) -> str:
    headers, align = _headers(analysis, options)
    rows = display_rows(analysis, options.depth, options.module_totals)
    cells = _cells(rows, options, True)
    if options.width is not None:
        cells = _fit(cells, headers, options.columns, options.width)
    table = simple_table(cells, headers, align)
    footer = ["", *_footer(analysis, options.layout)] if options.footer else []
    return "\n".join([_title(analysis, options.layout), "", table, *footer]) + "\n"


_SHORTENED = ("hparams", "inputs", "name", "type")
"""The text columns that give way, in order, when a table is wider than the terminal."""


def _fit(cells: list[list[object]], headers: list[str], columns: Sequence[str], width: int) -> list[list[object]]:
    """Shorten the widest text columns (hyper-parameters first, then names) with '…' until the
    table fits ``width`` characters; numbers are never cut."""
    # tabulate's 'simple' format keeps two spaces beside each header (its MIN_PADDING)
    widths = [max([len(h) + 2, *(len(str(row[i])) for row in cells)]) for i, h in enumerate(headers)]
    excess = sum(widths) + 2 * (len(widths) - 1) - width
    for key in _SHORTENED:
        if excess <= 0:
            break
        if key not in columns:
            continue
        i = list(columns).index(key)
        floor = max(len(headers[i]), 12)
        target = max(widths[i] - excess, floor)
        excess -= widths[i] - target
        widths[i] = target
        for row in cells:
            text = str(row[i])
            row[i] = text if len(text) <= target else text[: target - 1] + "…"
    return cells


def render_markdown(analysis: Analysis, options: TableOptions) -> str:
    headers, align = _headers(analysis, options)
    rows = display_rows(analysis, options.depth, options.module_totals)
    cells = [[str(c).replace("|", "\\|") for c in row] for row in _cells(rows, options, True)]
    from tabulate import tabulate

    table = tabulate(cells, headers, tablefmt="github", colalign=align, disable_numparse=True)
    if not options.footer:
        return "\n".join([f"### {_title(analysis, options.layout)}", "", table]) + "\n"
    footer = _footer(analysis, options.layout)
    split = footer.index("Conventions:")
    body = [f"**{line.strip()}**  " for line in footer[: split - 1]] + [footer[split - 1]]
    notes = [f"- {line.strip()}" for line in footer[split + 1:]]
    return "\n".join([f"### {_title(analysis, options.layout)}", "", table, "", *body, "", "Conventions:", *notes]) + "\n"


_CSV_UNITS = {"params": "params", "macs": "macs", "flops": "flops", "memory": "memory_bytes", "rf": "rf_pixels",
              "rf_stride": "rf_stride_pixels", "rf_padding": "rf_padding_pixels"}
"""CSV headers name their units where the column has one: memory_bytes, rf_pixels."""


def render_csv(analysis: Analysis, options: TableOptions) -> str:
    """One row per layer (or module, with --depth), raw integers, then a 'total' row (inference
    totals, as in the text footer; parameters of every layer)."""
    import csv  # only for --format csv: not on a text summary's path

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_CSV_UNITS.get(key, key) for key in options.columns])
    writer.writerows(_cells(display_rows(analysis, options.depth, module_totals=False), options, False))
    t = analysis.totals
    totals = {"name": "total", "params": t.params, "macs": t.macs, "flops": t.flops, "memory": t.activation_bytes}
    writer.writerow([totals.get(key, "") for key in options.columns])
    return buffer.getvalue()


_LATEX_SYMBOLS = {"×": r"\ensuremath{\times}", "→": r"\ensuremath{\rightarrow}", "↑": r"\ensuremath{\uparrow}",
                  "†": r"\ensuremath{^\dagger}", "γ": r"\ensuremath{\gamma}", "β": r"\ensuremath{\beta}"}


def render_latex(analysis: Analysis, options: TableOptions) -> str:
    """A booktabs table for papers (needs \\usepackage{booktabs}); totals as the last rows."""
    headers, align = _headers(analysis, options)
    rows = display_rows(analysis, options.depth, options.module_totals)
    t = analysis.totals
    totals = {"name": "Total", "params": f"{t.params:,}", "macs": f"{t.macs:,}", "flops": f"{t.flops:,}",
              "memory": format_bytes(t.activation_bytes)}
    cells = _cells(rows, options, True) + [[totals.get(key, "") for key in options.columns]]
    from tabulate import tabulate

    table = tabulate(cells, headers, tablefmt="latex_booktabs", colalign=align, disable_numparse=True)
    lines = table.splitlines()
    lines.insert(len(lines) - 3, r"\midrule")  # before the totals row (then \bottomrule, \end{tabular})
    caption = f"% {analysis.name}: " + "; ".join(analysis.conventions.describe()[2:4])
    text = caption + "\n" + "\n".join(lines) + "\n"
    for symbol, command in _LATEX_SYMBOLS.items():
        text = text.replace(symbol, command)
    return text


def render_json(analysis: Analysis, options: TableOptions) -> str:
    return to_json(analysis)


FORMATS: dict[str, Callable[[Analysis, TableOptions], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "csv": render_csv,
    "json": render_json,
    "latex": render_latex,
}


def render(analysis: Analysis, fmt: str = "text", options: TableOptions | None = None) -> str:
    """The analysis as text in one of :data:`FORMATS`."""
    return FORMATS[fmt](analysis, options or TableOptions())
