"""Commands of the torch backend: verify, export."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import EXIT_INPUT_ERROR, main
from .options import load_graph, spec_options, write_output


@main.command()
@click.argument("spec", required=False)
@click.option("--all", "all_specs", is_flag=True, help="Verify every built-in spec.")
@spec_options
def verify(spec: str | None, all_specs: bool, input_shape, sets) -> None:
    """Check every layer's shape, parameters and MACs against PyTorch (needs the torch extra).

    The spec is lowered on PyTorch's meta device (no memory, no weights) and run once; MACs
    come from torch.utils.flop_counter.FlopCounterMode. Exits 1 on any mismatch.
    """
    from tabulate import tabulate

    from ..backends.verify import verify as run_verify
    from ..zoo import zoo_entries

    if all_specs == (spec is not None):
        raise click.UsageError("give one SPEC, or --all")
    names = [entry.name for entry in zoo_entries()] if all_specs else [spec]
    failed = 0
    for name in names:
        report = run_verify(load_graph(name, input_shape, sets))
        if report.ok:
            click.echo(f"ok    {name}: {report.layers} layers agree with PyTorch (shape, parameters, MACs)")
            continue
        failed += 1
        click.echo(f"FAIL  {name}: {len(report.mismatches)} mismatches")
        rows = [(m.layer, m.quantity, m.archcalc, m.pytorch) for m in report.mismatches]
        click.echo(tabulate(rows, ["layer", "quantity", "archcalc", "PyTorch"], tablefmt="simple"))
    if len(names) > 1:
        click.echo(f"{len(names) - failed} passed, {failed} failed")
    if failed:
        sys.exit(EXIT_INPUT_ERROR)


@main.command()
@click.argument("spec")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    required=True,
    help="The Python file to write, e.g. model.py.",
)
@spec_options
def export(spec: str, output: Path, input_shape, sets) -> None:
    """Write SPEC as a standalone PyTorch source file (needs only torch to run)."""
    from ..backends.export import export_source

    write_output(export_source(load_graph(spec, input_shape, sets)), output)
    if str(output) != "-":
        click.echo(f"wrote {output}", err=True)
