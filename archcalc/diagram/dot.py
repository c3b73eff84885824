"""DOT source of an architecture.

Node ids are layer names (or module paths where ``--depth`` collapses a module), so the
output is deterministic and golden files can hold it. :mod:`.dotsyntax` writes every id and
value, so no name (``conv:1``, ``<a>b>``, quotes, backslashes, control characters) can break
DOT or SVG or merge with another. Labels are HTML-like; names longer than MAX_LABEL_CHARS are
shortened in labels (tooltips keep them whole), and a diagram of more than MAX_DIAGRAM_NODES
nodes or MAX_DIAGRAM_EDGES edges is refused with a hint, since Graphviz's layout would take
minutes. Module instances are drawn as nested clusters; merges as small shapes ('+' for
add, '×' for mul, 'concat'); training-only layers dashed; the network outputs with a double
border.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..analysis import Analysis, LayerRow
from ..errors import ArchcalcError, Source, short_text
from ..limits import MAX_DIAGRAM_EDGES, MAX_DIAGRAM_NODES, MAX_LABEL_CHARS
from ..metrics import METRICS, Metric
from ..report.columns import Layout, format_shape
from ..report.rows import DisplayRow, display_rows
from .colors import DARK_FROM, PALETTE, Scale
from .dotsyntax import DotWriter, Html, clip, html_text

# One font name: graphviz-pure knows Helvetica's glyph widths but falls back to Times for a
# list of names, and then the text overflows its boxes.
FONT = "Helvetica"
_MERGE_SYMBOL = {"add": "+", "mul": "×"}

LEGIBLE_NODES = 80
"""Nodes a whole-network diagram may have before modules are collapsed automatically: about
VGG-19-BN or ResNet-18 drawn in full; ResNet-50's 177 layers drawn top to bottom were a PNG
30,000 pixels tall, which no one reads."""


@dataclass(frozen=True)
class DiagramOptions:
    depth: int | None = None
    show: Sequence[str] = ()
    edge_labels: bool = False
    color_by: str | None = None
    rankdir: str = "TB"
    layout: Layout = Layout.CHW
    only: str | None = None  # a name prefix: draw only these layers (a module, a stage)
    elide: int | None = None  # draw only this many nodes at each end, the rest as one '…' node
    node_ids: str | None = None  # a prefix: give each node an SVG id (see node_ids), so a page can link to it


ELIDED = "/elided"
"""The id of the node that stands for elided layers (a layer name cannot contain '/')."""


def _metric(row: DisplayRow, key: str) -> int:
    return {Metric.PARAMS: row.params, Metric.MACS: row.macs, Metric.MEMORY: row.activation_bytes}[Metric(key)]


_ASCII = str.maketrans({"×": "x", "→": "->", "↑": "^", "–": "-", "—": "-", "…": "..."})


def _text(value: str) -> str:
    """Escaped for an HTML-like label. '×', '→', '↑', dashes and '…' become ASCII: graphviz-pure
    has no glyph widths for them and would let the text overflow its box."""
    return html_text(value.translate(_ASCII))


def _name(value: str) -> str:
    """A (possibly long) name as a label shows it."""
    return _text(clip(value, MAX_LABEL_CHARS))


def _is_compact(row: DisplayRow, inputs: list[LayerRow]) -> bool:
    """A layer that only transforms values in place (activation, dropout, LRN): no parameters,
    no MACs, one input of the same shape. Drawn small, so the layers that matter stand out."""
    return (row.kind == "layer" and row.params == 0 and row.macs == 0 and len(inputs) == 1
            and inputs[0].output_shape == row.output_shape)


def _label(row: DisplayRow, local: str, options: DiagramOptions) -> Html:
    lines = [f'<font point-size="12">{_name(local)}</font>']
    if row.kind != "layer":
        lines.append(_text(row.type))
        lines += [_text(part) for part in _wrap(row.hparams)]
    elif local != row.type or row.hparams:
        lines.append(_text(f"{row.type} {row.hparams}".strip()))
    lines.append(_text(format_shape(row.output_shape, options.layout)))
    for key in options.show:
        if key == "rf":
            h, w = row.rf.h.size, row.rf.w.size
            lines.append(_text(f"RF {h}" if h == w else f"RF {h}x{w}"))
        elif _metric(row, key):
            info = METRICS[Metric(key)]
            lines.append(_text(f"{info.label} {info.compact(_metric(row, key))}"))
    return Html("<br/>".join(lines))


def _wrap(text: str, width: int = 36, max_lines: int = 6) -> list[str]:
    """Module arguments on at most ``max_lines`` lines of at most ``width`` characters."""
    lines: list[str] = []
    for part in text.split(", ") if text else []:
        part = clip(part, width)
        if lines and len(lines[-1]) + len(part) + 2 <= width:
            lines[-1] += ", " + part
        else:
            lines.append(part)
    return lines if len(lines) <= max_lines else [*lines[: max_lines - 1], "…"]


def _node_attrs(row: DisplayRow, local: str, inputs: list[LayerRow], options: DiagramOptions, scale: Scale | None,
                outputs: set[str]) -> dict[str, str]:
    attrs: dict[str, str] = {"tooltip": row.name}
    if row.kind == "layer" and len(inputs) > 1:  # a merge: small, labelled with what it does
        attrs.update(shape="ellipse", label=Html(_text(row.type)), fontsize="10", margin="0.04,0.02", height="0.3")
    elif _is_compact(row, inputs):
        what = f"{row.type} {row.hparams}".strip()
        named = local != row.type and not local.endswith(f"_{row.type}")  # auto names repeat the type
        attrs.update(label=Html(f"{_name(local)}: {_text(what)}" if named else _text(what)), fontsize="9",
                     height="0.25", margin="0.08,0.02")
    else:
        attrs["label"] = _label(row, local, options)
        if row.kind == "module":
            attrs["shape"] = "box3d"
    style = ["filled"] + (["rounded"] if attrs.get("shape", "box") == "box" else [])
    if row.training_only:
        style.append("dashed")
    attrs["style"] = ",".join(style)
    fill, font = scale.colors(_metric(row, options.color_by)) if scale and options.color_by else ("#f4f6fb", "#000000")
    attrs.update(fillcolor=fill, fontcolor=font)
    if row.name in outputs:
        attrs["peripheries"] = "2"
    return attrs


def _title(title: str, scale: Scale | None, key: str | None) -> Html:
    """The graph's label: its name and, when nodes are coloured, the colour scale as one row of
    swatches under it. In the label rather than a node of its own, so it neither widens the
    first rank nor lands wherever the layout puts it."""
    if scale is None or key is None:
        return Html(_text(title))
    info = METRICS[Metric(key)]
    cells = []
    for step, color in enumerate(PALETTE):
        low, high = scale.bounds(step)
        font = "#ffffff" if step >= DARK_FROM else "#000000"
        cells.append(f'<td bgcolor="{color}"><font color="{font}" point-size="10">'
                     f'{_text(info.compact(low))} - {_text(info.compact(high))}</font></td>')
    unit = _text(f"{info.header} ({info.unit}), log scale")
    return Html(f'<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
                f'<tr><td border="0" colspan="{len(cells)}">{_text(title)}</td></tr>'
                f'<tr><td border="0" colspan="{len(cells)}"><font point-size="10">{unit}</font></td></tr>'
                f'<tr>{"".join(cells)}</tr></table>')


def node_ids(analysis: Analysis, prefix: str) -> dict[str, str]:
    """The SVG id of the node of each layer and module instance: ``{prefix}L{i}`` for the i-th
    layer, ``{prefix}M{j}`` for the j-th module instance, and ``{prefix}E`` for elided layers.
    Short and made of letters and digits, so they need no escaping and a page holding several
    diagrams keeps them apart by prefix."""
    ids = {row.name: f"{prefix}L{index}" for index, row in enumerate(analysis.rows)}
    ids.update((path, f"{prefix}M{index}") for index, path in enumerate(analysis.modules))
    ids[ELIDED] = f"{prefix}E"
    return ids


def node_owners(analysis: Analysis, options: DiagramOptions) -> dict[str, str]:
    """For every layer the diagram shows, the node that shows it: itself, its collapsed module, or
    ELIDED (layers that ``--only`` leaves out have none)."""
    rows, owner = _display(analysis, options)
    drawn = {row.name for row in rows} | {ELIDED}
    return {name: node for name, node in owner.items() if node in drawn}


def _display(analysis: Analysis, options: DiagramOptions) -> tuple[list[DisplayRow], dict[str, str]]:
    """Rows to draw, and for every layer the id of the node that shows it."""
    rows = display_rows(analysis, options.depth, module_totals=False)
    owner: dict[str, str] = {}
    for row in analysis.rows:
        collapsed = options.depth is not None and len(row.scope) > options.depth
        owner[row.name] = row.scope[options.depth] if collapsed else row.name
    if options.elide is not None and len(rows) > 2 * options.elide + 1:
        hidden = {row.name for row in rows[options.elide:len(rows) - options.elide]}
        owner = {name: ELIDED if node in hidden else node for name, node in owner.items()}
        rows = rows[:options.elide] + rows[len(rows) - options.elide:]
    if options.only is not None:
        rows = [row for row in rows if row.name.startswith(options.only)]
        if not rows:
            raise ArchcalcError(f"--only {short_text(repr(options.only))}: no layer name starts with it",
                                source=Source(analysis.file),
                                hint="layer names are as 'archcalc summary' lists them, e.g. inception_3a/")
    if len(rows) > MAX_DIAGRAM_NODES:
        raise ArchcalcError(f"the diagram would have {len(rows):,} nodes, over the limit of {MAX_DIAGRAM_NODES:,} "
                            f"(MAX_DIAGRAM_NODES): Graphviz would take minutes to lay it out",
                            source=Source(analysis.file),
                            hint="draw modules as single nodes with --depth N, or a part with --only PREFIX")
    return rows, owner


def legible(analysis: Analysis, options: DiagramOptions) -> tuple[DiagramOptions, str | None]:
    """``options`` with modules collapsed to the deepest ``--depth`` that keeps a whole-network
    diagram within LEGIBLE_NODES, and a note saying so; unchanged where the user chose a depth
    or a part (``--only``), or where the network fits."""
    if options.depth is not None or options.only is not None or len(analysis.rows) <= LEGIBLE_NODES:
        return options, None
    deepest = max(len(row.scope) for row in analysis.rows)
    counts = [len(display_rows(analysis, depth, module_totals=False)) for depth in range(deepest)]
    fitting = [depth for depth, count in enumerate(counts) if count <= LEGIBLE_NODES]
    ends = LEGIBLE_NODES // 2
    if not counts:  # no modules to collapse: the two ends of the network, the middle as one node
        return replace(options, elide=ends), (
            f"{len(analysis.rows):,} layers in a row: drawn as the first and the last {ends}, the rest as one node; "
            "--only PREFIX draws a part (the layers whose names start with PREFIX)")
    depth = fitting[-1] if fitting else 0
    elide = ends if counts[depth] > LEGIBLE_NODES else None
    return replace(options, depth=depth, elide=elide), (
        f"{len(analysis.rows):,} layers: modules collapsed with --depth {depth} ({counts[depth]} nodes"
        + (f", drawn as the first and the last {ends}" if elide else "") + ") to stay legible; a larger --depth "
        f"draws more of each module (--depth {deepest}: every layer), --only PREFIX one part")


def build_dot(analysis: Analysis, options: DiagramOptions | None = None) -> str:
    """The DOT source of the analysed network."""
    options = options or DiagramOptions()
    rows, owner = _display(analysis, options)
    shown = {row.name for row in rows}
    elided = sum(1 for node in owner.values() if node == ELIDED)
    layer_rows = {row.name: row for row in analysis.rows}
    scale = Scale.of([_metric(row, options.color_by) for row in rows]) if options.color_by else None
    dot = DotWriter(analysis.name)
    title = clip(analysis.name, MAX_LABEL_CHARS) + (f" — {clip(options.only, MAX_LABEL_CHARS)}…" if options.only else "")
    dot.graph_attrs(rankdir=options.rankdir, fontname=FONT, label=_title(title, scale, options.color_by),
                    labelloc="t", fontsize="16",
                    nodesep="0.25", ranksep="0.35")
    dot.defaults("node", shape="box", fontname=FONT, fontsize="11", margin="0.2,0.05")
    dot.defaults("edge", fontname=FONT, fontsize="9", color="#555555", arrowsize="0.7")
    outputs = {owner[name] for name in analysis.outputs}
    ids = node_ids(analysis, options.node_ids) if options.node_ids is not None else None
    _add_nodes(dot, rows, analysis, layer_rows, options, scale, outputs, ids)
    if elided:
        shown.add(ELIDED)
        dot.node(ELIDED, label=Html(_text(f"... {elided:,} more layers ...")), shape="plaintext", fontcolor="#555555",
                 **({"id": ids[ELIDED]} if ids else {}))
    _add_edges(dot, rows, owner, shown, layer_rows, options, analysis.file)
    return dot.source()


def _scope_of(row: DisplayRow, analysis: Analysis, layer_rows: dict[str, LayerRow]) -> tuple[str, ...]:
    if row.kind == "layer":
        return layer_rows[row.name].scope
    return tuple(path for path in _ancestors(row.name) if path in analysis.modules)


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _add_nodes(dot: DotWriter, rows: list[DisplayRow], analysis: Analysis, layer_rows: dict[str, LayerRow],
               options: DiagramOptions, scale: Scale | None, outputs: set[str], ids: dict[str, str] | None) -> None:
    """Nodes inside nested clusters, one cluster per module instance, in topological order."""
    tree: dict[str, Any] = {"nodes": [], "children": {}}
    for row in rows:
        branch = tree
        for path in _scope_of(row, analysis, layer_rows):
            branch = branch["children"].setdefault(path, {"nodes": [], "children": {}})
        branch["nodes"].append(row)
    _emit(dot, tree, _Context(analysis, layer_rows, options, scale, outputs, ids))


@dataclass(frozen=True)
class _Context:
    analysis: Analysis
    layer_rows: dict[str, LayerRow]
    options: DiagramOptions
    scale: Scale | None
    outputs: set[str]
    ids: dict[str, str] | None


def _emit(graph: DotWriter, branch: dict[str, Any], ctx: _Context, scope: str = "") -> None:
    for row in branch["nodes"]:
        local = row.name[len(scope) + 1:] if scope and row.name.startswith(scope + "/") else row.name
        layer = ctx.layer_rows.get(row.name)
        inputs = [ctx.layer_rows[name] for name in layer.inputs] if layer is not None and row.kind == "layer" else []
        attrs = _node_attrs(row, local, inputs, ctx.options, ctx.scale, ctx.outputs)
        if ctx.ids is not None:
            attrs["id"] = ctx.ids[row.name]
        graph.node(row.name, **attrs)
    for path, child in branch["children"].items():
        with graph.subgraph(f"cluster_{path}") as cluster:
            kind = ctx.analysis.modules.get(path, "")
            cluster.graph_attrs(label=Html(_text(f"{clip(path, MAX_LABEL_CHARS)} ({clip(kind, MAX_LABEL_CHARS)})")),
                                style="rounded,dashed", color="#8a94a6", fontname=FONT, fontsize="11", labeljust="l",
                                tooltip=path)
            _emit(cluster, child, ctx, path)


def _add_edges(dot: DotWriter, rows: list[DisplayRow], owner: dict[str, str], shown: set[str],
               layer_rows: dict[str, LayerRow], options: DiagramOptions, file: str) -> None:
    seen: set[tuple[str, str]] = set()
    external: set[str] = set()
    for layer in layer_rows.values():
        target = owner[layer.name]
        if target not in shown:
            continue
        for source_layer in layer.inputs:
            source = owner[source_layer]
            if source == target or (source, target) in seen:
                continue
            seen.add((source, target))
            if len(seen) > MAX_DIAGRAM_EDGES:
                raise ArchcalcError(f"the diagram would have more than {MAX_DIAGRAM_EDGES:,} edges (MAX_DIAGRAM_EDGES): "
                                    "Graphviz would take minutes to lay it out", source=Source(file),
                                    hint="draw modules as single nodes with --depth N, or a part with --only PREFIX")
            if source not in shown and source not in external:  # --only: where the input comes from
                external.add(source)
                dot.node(source, label=Html(_name(source)), shape="plaintext", fontcolor="#555555", tooltip=source)
            attrs = {}
            if options.edge_labels:
                attrs["label"] = Html(_text(format_shape(layer_rows[source_layer].output_shape, options.layout)))
            dot.edge(source, target, **attrs)
