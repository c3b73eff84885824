"""archcalc report: one self-contained HTML page per network, or several side by side."""

from __future__ import annotations

from pathlib import Path

import click

from . import main
from .options import analysis_options, analyze_spec, check_writable, layout_option, print_warnings, write_output


@main.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="The page to write, e.g. report.html ('-': stdout). Default: stdout, or with --open a temporary file.")
@click.option("--open", "open_page", is_flag=True, help="Open the page in the default web browser.")
@click.option("--diagram/--no-diagram", default=True, show_default=True,
              help="Inline the architecture diagram (laid out by Graphviz).")
@click.option("--depth", type=click.IntRange(min=0), default=None,
              help="Draw modules nested deeper than N as one node in the diagram (as in render). "
              "Default: every layer, or for a large network the deepest N that keeps it legible.")
@click.option("--only", metavar="PREFIX", help="Draw only the layers whose name starts with PREFIX (as in render); "
              "the table keeps every layer.")
@layout_option
@analysis_options
def report(specs: tuple[str, ...], output: Path | None, open_page: bool, diagram: bool, depth: int | None,
           only: str | None, layout: str, input_shape, sets, conventions) -> None:
    """One HTML page for SPECS: totals, conventions, the diagram, a sortable and filterable table, charts
    and warnings; several SPECS side by side. Self-contained: it works offline and fetches nothing."""
    from ..conventions import Layout
    from ..report.html import ReportOptions, render_report

    check_writable(output)
    analyses = [analyze_spec(spec, input_shape, sets, conventions) for spec in specs]
    for analysis in analyses:
        print_warnings(analysis.warnings)
    page = render_report(analyses, specs, ReportOptions(Layout(layout), diagram, warn=_note, depth=depth, only=only))
    if output is None and open_page:
        output = _temporary_page()
    write_output(page, output)
    if output is not None and str(output) != "-":
        click.echo(f"wrote {output}", err=True)
        if open_page:
            import webbrowser

            webbrowser.open(output.resolve().as_uri())


def _note(message: str) -> None:
    click.echo(f"note: {message}", err=True)


def _temporary_page() -> Path:
    import tempfile

    handle = tempfile.NamedTemporaryFile(prefix="archcalc-report-", suffix=".html", delete=False)
    handle.close()
    return Path(handle.name)
