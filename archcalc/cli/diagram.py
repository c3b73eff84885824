"""archcalc render: architecture diagrams."""

from __future__ import annotations

from pathlib import Path

import click

from . import main

PROGRESS_STATEMENTS = 1_000
"""Lines of DOT source (nodes, edges, clusters) above which a layout can take a second or more
(graphviz-pure, on this 2-core machine) and render says on stderr that it is working."""
from ..metrics import SCALAR, SHOWABLE
from .options import layout_option, load_graph, parse_list, print_warnings, spec_options, write_output


@main.command()
@click.argument("spec")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    required=True,
    help="out.svg, out.png, out.pdf or out.dot; the extension picks the format.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["svg", "png", "pdf", "dot"]),
    default=None,
    help="Force a format whatever the extension.",
)
@click.option(
    "--show",
    callback=lambda c, p, v: parse_list(v, tuple(m.value for m in SHOWABLE), "--show"),
    metavar="A,B",
    help="Extra numbers on each node: params,macs,rf,memory.",
)
@click.option("--edge-labels", is_flag=True, help="Label each edge with the shape of the tensor it carries.")
@click.option(
    "--color-by",
    type=click.Choice([m.value for m in SCALAR]),
    default=None,
    help="Colour nodes on a sequential scale, with a legend.",
)
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    default=None,
    help="Collapse modules nested deeper than N into one node (as in summary). "
    "Default: every layer, or for a large network the deepest N that keeps it legible (a note says which).",
)
@click.option("--rankdir", type=click.Choice(["TB", "LR"]), default="TB", show_default=True)
@layout_option
@click.option(
    "--only", metavar="PREFIX", help="Draw only the layers whose name starts with PREFIX (a module, a stage)."
)
@spec_options
def render(
    spec: str,
    output: Path,
    fmt: str | None,
    show,
    edge_labels: bool,
    color_by: str | None,
    depth,
    rankdir: str,
    layout: str,
    only: str | None,
    input_shape,
    sets,
) -> None:
    """Draw SPEC as a diagram (Graphviz): nodes with their shapes and numbers, modules as clusters."""
    from ..analysis import analyze
    from ..diagram.dot import DiagramOptions, build_dot, legible
    from ..diagram.engine import FORMATS, render as render_dot
    from ..report import Layout

    fmt = fmt or output.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise click.BadParameter(
            f"cannot tell the format of '{output}'; use .svg, .png, .pdf or .dot, or --format", param_hint="-o"
        )
    analysis = analyze(load_graph(spec, input_shape, sets))
    print_warnings(analysis.warnings)
    options, note = legible(analysis, DiagramOptions(depth, show or (), edge_labels, color_by, rankdir, Layout(layout), only))
    if note:
        click.echo(f"note: {note}", err=True)
    source = build_dot(analysis, options)
    statements = source.count("\n") if fmt != "dot" else 0
    if statements > PROGRESS_STATEMENTS:  # Graphviz takes a second or more from here: say what it is doing
        click.echo(f"render: laying out {len(analysis.rows):,} layers ({fmt})...", err=True)
    write_output(render_dot(source, fmt, lambda message: print_warnings([message])), output)
    if str(output) != "-":
        click.echo(f"wrote {output}", err=True)
