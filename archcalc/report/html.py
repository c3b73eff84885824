"""The HTML report (``archcalc report``) and the rich display of an Analysis in notebooks.

One self-contained page: the CSS, the script and the data are inlined, the diagram is inline
SVG, and nothing is fetched, so the file works offline and can be mailed or attached to a
submission. The page is written from a Jinja2 template with autoescaping on, so every name
and description from a spec reaches it as text, never as markup; the data the script needs
is one JSON block with ``<``, ``>`` and ``&`` written as ``\\u`` escapes, so no name can close
the block. The table is written by the template (the page reads without its script, and a
parser can count its rows); the script only sorts, filters, collapses, switches the FLOP
convention and draws the charts from numbers archcalc computed: it does no arithmetic of its
own beyond sums for shares.

Jinja2, not string concatenation: autoescaping by default is the point (a report is a page
built from untrusted names), and templates keep the markup readable.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import __version__
from ..analysis import Analysis, LayerRow
from ..conventions import FLOP_PRESETS, Layout
from ..layers.base import numel
from ..metrics import format_bytes
from .rows import DisplayRow, counted_rows, module_members, module_rows

TEMPLATES = Path(__file__).parent / "templates"

_LAYER_NAME = re.compile(r"layer '([^']+)'")


@dataclass(frozen=True)
class ReportOptions:
    layout: Layout = Layout.CHW
    diagram: bool = True  # inline the SVG diagram (Graphviz lays it out)
    warn: Callable[[str], None] | None = None  # told when the diagram is left out, or collapsed to stay legible
    depth: int | None = None  # the diagram's --depth (None: every layer, or collapsed to stay legible)
    only: str | None = None  # the diagram's --only: the layers whose names start with it


@dataclass(frozen=True)
class TableRow:
    """One row of the page's table: a layer or a module instance, its numbers and display text."""

    kind: str  # 'layer' or 'module'
    index: int  # in the network's layers or modules
    name: str
    type: str
    hparams: str
    shape: str
    elements: int  # values in the output (what the shape column sorts by)
    params: int
    macs: int
    flops: int
    memory: int
    memory_text: str
    rf: str
    rf_size: int | float
    level: int  # how many modules enclose it
    scope: tuple[int, ...]  # the enclosing module instances, outermost first (indices)
    training_only: bool
    inexact: str
    node: str  # the SVG id of the diagram node that shows it ('' without a diagram)
    line: int | None


def _rf_text(row: LayerRow | DisplayRow) -> str:
    h, w = row.rf.h.size, row.rf.w.size
    return str(h) if h == w else f"{h}×{w}"


def _rf_size(row: LayerRow | DisplayRow) -> int | float:
    size = row.rf.h.size
    return size if isinstance(size, int) else float(size)


@dataclass(frozen=True)
class NetworkPage:
    """Everything the template shows of one network."""

    prefix: str  # keeps element ids of several networks on one page apart
    label: str  # what the user named (a file or a built-in name)
    analysis: Analysis
    input_shape: str
    rows: list[TableRow]  # topological order, each module before its first layer
    diagram: str  # inline SVG markup, or ''
    diagram_note: str
    warnings: list[tuple[str, list[tuple[str, int]]]]  # text, and the layers it names (name, row index)
    data: dict[str, Any]  # for the script (flops per preset, chart series)

    @property
    def totals(self):
        return self.analysis.totals

    @property
    def inexact(self) -> list[TableRow]:
        """The layers whose window does not tile its input (warned or not), with the formula."""
        return [row for row in self.rows if row.inexact]

    @property
    def max_depth(self) -> int:
        """How deeply modules nest (the depth choices: 0 .. max_depth - 1, or every layer)."""
        return max((len(row.scope) for row in self.analysis.rows), default=0)


def _module_index(analysis: Analysis) -> dict[str, int]:
    return {path: index for index, path in enumerate(analysis.modules)}


def _table_rows(analysis: Analysis, layout: Layout, owners: dict[str, str], ids: dict[str, str]) -> list[TableRow]:
    module_at = _module_index(analysis)
    aggregates = module_rows(analysis)
    rows: list[TableRow] = []
    opened: set[str] = set()
    for index, row in enumerate(analysis.rows):
        for level, path in enumerate(row.scope):
            if path not in opened:
                opened.add(path)
                rows.append(_module_row(aggregates[path], module_at, level, row.scope[:level], layout,
                                        ids.get(path, "") if owners.get(row.name) == path else ""))
        rows.append(TableRow(
            "layer", index, row.name, row.type, row.hparams, layout.format(row.output_shape), numel(row.output_shape),
            row.counted_params,
            row.macs, row.flops, row.activation_bytes, format_bytes(row.activation_bytes), _rf_text(row),
            _rf_size(row), len(row.scope), tuple(module_at[path] for path in row.scope), row.training_only,
            row.inexact, ids.get(owners.get(row.name, ""), ""), row.line))
    return rows


def _module_row(row: DisplayRow, module_at: dict[str, int], level: int, scope: tuple[str, ...], layout: Layout,
                node: str) -> TableRow:
    return TableRow("module", module_at[row.name], row.name, row.type, row.hparams, layout.format(row.output_shape),
                    numel(row.output_shape), row.params, row.macs, row.flops, row.activation_bytes, format_bytes(row.activation_bytes),
                    _rf_text(row), _rf_size(row), level, tuple(module_at[path] for path in scope), row.training_only,
                    "", node, None)


def _flops_by_preset(analysis: Analysis) -> dict[str, dict[str, Any]]:
    """Per layer, per module and total FLOPs under every preset, for the convention switch."""
    members = module_members(analysis)
    presets = {}
    for name, preset in FLOP_PRESETS.items():
        formula = preset.formula
        presets[name] = {
            "unit": preset.unit,
            "counts": preset.counts,
            "layers": [formula(row.ops) for row in analysis.rows],
            "modules": [sum(formula(row.ops) for row in counted_rows(rows)) if rows else 0 for rows in members.values()],
            "total": analysis.flops_under(name),
            "total_training": analysis.flops_under(name, include_training_only=True),
        }
    return presets


def _script_data(analysis: Analysis, prefix: str, rows: list[TableRow]) -> dict[str, Any]:
    """The numbers the page's script reads, indexed as the rows' ``data-index`` (layers by their
    place in the analysis, modules by theirs in ``analysis.modules``)."""
    layers = [row for row in rows if row.kind == "layer"]
    by_index = {row.index: row for row in rows if row.kind == "module"}
    modules = [by_index.get(index) for index in range(len(analysis.modules))]
    return {
        "prefix": prefix,
        "name": analysis.name,
        "convention": analysis.conventions.flops,
        "presets": _flops_by_preset(analysis),
        "totals": {"params": analysis.totals.params, "macs": analysis.totals.macs},
        "layers": [{"name": row.name, "params": row.params, "macs": row.macs, "memory": row.memory,
                    "rf": row.rf_size, "resolution": _resolution(analysis.rows[row.index]), "node": row.node,
                    "scope": list(row.scope), "training_only": row.training_only} for row in layers],
        "modules": [{"name": row.name, "params": row.params, "macs": row.macs, "level": row.level,
                     "node": row.node, "scope": list(row.scope)} if row is not None else
                    {"name": path, "params": 0, "macs": 0, "level": path.count("/"), "node": "", "scope": []}
                    for path, row in zip(analysis.modules, modules)],  # a module left without layers has no row
    }


def _resolution(row: LayerRow) -> int | None:
    """The output's height, for maps (C×H×W or C×L or C×D×H×W); None for vectors."""
    return row.output_shape[-2] if len(row.output_shape) >= 3 else (row.output_shape[-1] if len(row.output_shape) == 2 else None)


def _warnings(analysis: Analysis) -> list[tuple[str, list[tuple[str, int]]]]:
    """Each warning with the layers it names that the network has, to link them to their rows."""
    at = {row.name: index for index, row in enumerate(analysis.rows)}
    return [(text, [(name, at[name]) for name in dict.fromkeys(_LAYER_NAME.findall(text)) if name in at])
            for text in analysis.warnings]


def _diagram(analysis: Analysis, prefix: str, options: ReportOptions) -> tuple[str, str, dict[str, str], dict[str, str]]:
    """The inline diagram, or none with the reason: the page is worth having without it."""
    from ..diagram.inline import inline_diagram
    from ..errors import ArchcalcError

    if not options.diagram:
        return "", "left out (--no-diagram)", {}, {}
    try:
        svg, note, owners, ids = inline_diagram(analysis, prefix, options.layout, options.depth, options.only)
    except ArchcalcError as err:
        svg, note, owners, ids = "", f"left out: {err.message}", {}, {}
    if note and options.warn is not None:
        options.warn(f"{analysis.name}: diagram {note}" if not svg else f"{analysis.name}: {note}")
    return svg, note, owners, ids


def network_page(analysis: Analysis, label: str, prefix: str, options: ReportOptions) -> NetworkPage:
    diagram, note, owners, ids = _diagram(analysis, prefix, options)
    rows = _table_rows(analysis, options.layout, owners, ids)
    return NetworkPage(prefix, label, analysis, options.layout.format(analysis.input_shape), rows, diagram, note,
                       _warnings(analysis), _script_data(analysis, prefix, rows))


def json_for_script(data: Any) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' (so no '</script>' nor '<!--'),
    and no line separators, which old JavaScript parsers reject."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["count"] = lambda value: f"{value:,}"
    env.filters["bytes"] = format_bytes
    return env


def _asset(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def render_report(analyses: Sequence[Analysis], labels: Sequence[str], options: ReportOptions | None = None) -> str:
    """The page: one network, or several side by side (``archcalc report A B``)."""
    options = options or ReportOptions()
    pages = [network_page(analysis, label, f"n{index}_", options)
             for index, (analysis, label) in enumerate(zip(analyses, labels))]
    template = _environment().get_template("report.html.j2")
    return template.render(
        nonce=secrets.token_urlsafe(18), version=__version__, rf=_rf_text,
        pages=pages, presets=FLOP_PRESETS, convention=analyses[0].conventions.flops,
        css=jinja2_markup(_asset("report.css")),
        script=jinja2_markup(_asset("report.js")),
        data=jinja2_markup(json_for_script([page.data for page in pages])),
        layout=options.layout,
    )


def notebook_html(analysis: Analysis, diagram: bool = True) -> str:
    """An HTML fragment for Jupyter (``Analysis._repr_html_``): totals, the table and, where
    Graphviz can lay it out, the diagram. No script: notebooks do not run it in untrusted output.
    A large network's table collapses modules to the depth its diagram would (``legible``)."""
    from ..diagram.dot import DiagramOptions, legible
    from ..diagram.inline import inline_diagram
    from ..errors import ArchcalcError
    from .rows import display_rows

    depth = legible(analysis, DiagramOptions())[0].depth
    svg = ""
    if diagram:
        try:
            svg = inline_diagram(analysis, "nb_", Layout.CHW)[0]
        except ArchcalcError:  # no renderer, or over the diagram limits: the table still shows
            svg = ""
    rows = display_rows(analysis, depth, module_totals=False)
    return _environment().get_template("notebook.html.j2").render(
        analysis=analysis, rows=rows, depth=depth, diagram=svg, layout=Layout.CHW,
        flops_unit=analysis.conventions.preset.unit, rf=_rf_text,
        css=jinja2_markup(_asset("notebook.css")))


def jinja2_markup(text: str):
    """Our own CSS or script, inlined as is (it is not user input)."""
    from markupsafe import Markup

    return Markup(text)
