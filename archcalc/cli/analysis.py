"""Commands that analyse specs: summary, compare, explain, zoo, types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from . import main
from .options import (
    TABLE_FORMATS,
    analysis_options,
    layout_option,
    analyze_spec,
    load_graph,
    output_format,
    output_option,
    parse_columns,
    print_warnings,
    rounding_options,
    terminal_width,
    spec_options,
    table_format_option,
    write_output,
)


@main.command()
@click.argument("spec")
@table_format_option
@layout_option
@click.option(
    "--columns",
    callback=parse_columns,
    metavar="A,B,...",
    help="Columns to show: name,type,hparams,output_shape,params,macs,flops,memory,rf,rf_stride,rf_padding.",
)
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    default=None,
    help="Collapse modules nested deeper than N into one row (0: every top-level module is a row).",
)
@click.option(
    "--module-totals/--no-module-totals",
    default=True,
    show_default=True,
    help="A totals row after each expanded module.",
)
@click.option("--footer/--no-footer", default=True, show_default=True,
              help="Totals and conventions under the table (text and Markdown).")
@click.option("--wide", is_flag=True, help="Never shorten columns to the terminal's width.")
@click.option("--units", type=click.Choice(["exact", "human"]), default="exact", show_default=True,
              help="Counts in the table: exact (34,944) or human (34.9 K, SI prefixes). JSON and CSV are always exact.")
@click.option(
    "--conventions",
    "all_conventions",
    is_flag=True,
    help="Instead of the table: the network's total under every FLOP convention, and what each counts.",
)
@analysis_options
@output_option
def summary(
    spec: str,
    fmt: str,
    layout: str,
    columns,
    depth,
    module_totals: bool,
    footer: bool,
    wide: bool,
    units: str,
    all_conventions: bool,
    input_shape,
    sets,
    conventions,
    output: Path | None,
) -> None:
    """Per-layer table of SPEC (a YAML file or a built-in name, see `archcalc zoo`)."""
    from ..report import DEFAULT_COLUMNS, Layout, TableOptions, render
    from ..report.compare import render_conventions

    fmt = output_format(fmt, output, TABLE_FORMATS)
    analysis = analyze_spec(spec, input_shape, sets, conventions)
    if all_conventions:
        text = render_conventions(analysis, fmt)
    else:
        options = TableOptions(columns or DEFAULT_COLUMNS, Layout(layout), depth, module_totals, footer=footer,
                               units=units, width=None if wide or output is not None else terminal_width())
        text = render(analysis, fmt, options)
    print_warnings(analysis.warnings)
    write_output(text, output)


@main.command()
@click.argument("specs", nargs=-1, required=True)
@table_format_option
@analysis_options
@output_option
def compare(
    specs: tuple[str, ...],
    fmt: str,
    input_shape,
    sets,
    conventions,
    output: Path | None,
) -> None:
    """Totals of several SPECS side by side, with ratios to the first."""
    from ..report.compare import render_compare

    analyses = [analyze_spec(spec, input_shape, sets, conventions) for spec in specs]
    for analysis in analyses:
        print_warnings(analysis.warnings)
    write_output(render_compare(analyses, specs, output_format(fmt, output, TABLE_FORMATS)), output)


@main.command()
@click.argument("spec")
@click.argument("layer", required=False)
@rounding_options
@layout_option
@spec_options
def explain(spec: str, layer: str | None, rounding, layout: str, input_shape, sets) -> None:
    """The worked arithmetic of LAYER of SPEC (or of every layer; a module name explains its layers):
    output size, parameters, MACs and receptive field, numbers substituted."""
    from ..analysis import analyze
    from ..conventions import Conventions, Layout
    from ..explain import explain as explain_layers

    graph = load_graph(spec, input_shape, sets)
    analysis = analyze(graph, Conventions(rounding=rounding))
    print_warnings(analysis.warnings)
    click.echo("\n\n".join(item.text() for item in explain_layers(graph, analysis, layer, Layout(layout))))


@main.command()
def zoo() -> None:
    """List the built-in specs."""
    from tabulate import tabulate

    from ..zoo import zoo_entries

    rows = [(e.name, ", ".join(e.aliases), e.title) for e in zoo_entries()]
    click.echo(tabulate(rows, ["name", "aliases", "network"], tablefmt="simple"))


@main.command()
def types() -> None:
    """List the layer types a spec can use, with their fields."""
    from tabulate import tabulate

    from ..layers import layer_types
    from ..layers.base import aliases_of

    rows = []
    for tag, cls in sorted(layer_types().items()):
        aliases = ", ".join(aliases_of(tag))
        fields = ", ".join(
            name if info.is_required() else f"{name}={info.description or _default_text(info.default)}"
            for name, info in sorted(cls.model_fields.items(), key=lambda item: not item[1].is_required())
        )
        rows.append((tag, aliases, fields))
    click.echo(tabulate(rows, ["type", "aliases", "fields (required first, then defaults)"], tablefmt="simple"))


def _default_text(value: Any) -> str:
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
        return "0"
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1]:
        return str(value[0])
    return str(value)


@main.command()
@click.argument("topic", required=False)
def docs(topic: str | None) -> None:
    """Print a page of archcalc's documentation (shipped with it), or list the pages."""
    from ..errors import ArchcalcError
    from ..zoo import docs_dir

    pages = {path.stem: path for path in sorted(docs_dir().glob("*.md"))}
    if topic is None:
        click.echo("\n".join(f"{name:<14}{path.read_text(encoding='utf-8').splitlines()[0].lstrip('# ')}"
                              for name, path in pages.items()))
        return
    if topic not in pages:
        raise ArchcalcError(f"no page '{topic[:40]}'", hint=f"pages: {', '.join(pages)}")
    click.echo(pages[topic].read_text(encoding="utf-8"), nl=False)

