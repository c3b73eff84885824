"""archcalc import: an existing PyTorch or ONNX model as a spec."""

from __future__ import annotations

from pathlib import Path

import click

from . import main
from .options import check_writable, parse_input, parse_sets, print_warnings, write_output


@main.command("import")
@click.argument("source")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="The spec to write (default: stdout); nothing is written if the import fails.")
@click.option("--input", "input_shape", callback=parse_input, metavar="C,H,W",
              help="The input shape without the batch axis (needed for PyTorch; ONNX files record it).")
@click.option("--args", "model_args", multiple=True, callback=parse_sets, metavar="NAME=VALUE",
              help="A keyword argument of the model's constructor or factory (repeatable), e.g. --args num_classes=10.")
@click.option("--allow-unsupported", is_flag=True,
              help="Keep an operation archcalc cannot express as a placeholder layer (flagged in every report) "
                   "instead of failing.")
@click.option("--check", "check", is_flag=True,
              help="Compare the imported spec's analysis with the model: output shapes, parameters per module and, "
                   "for PyTorch, FlopCounterMode's total. Exit 3 on a difference.")
def import_command(source: str, output: Path | None, input_shape, model_args, allow_unsupported: bool, check: bool) -> None:
    """Write a spec for SOURCE: torchvision:NAME, FILE.py:NAME or MODULE:NAME (a class or factory,
    called with --args), or a .onnx file. PyTorch models are traced with torch.fx, on the meta
    device (no weights are allocated); importing FILE.py or MODULE runs its code."""
    from ..analysis import analyze
    from ..graph import build_graph
    from ..importers import import_network, to_spec
    from ..spec import load_spec_text

    check_writable(output)
    network = import_network(source, input_shape, model_args, allow_unsupported)
    text = to_spec(network)
    label = str(output) if output is not None and str(output) != "-" else f"<import of {source}>"
    analysis = analyze(build_graph(load_spec_text(text, label)))  # the spec must load and analyse before it is written
    for note in network.notes:
        click.echo(f"note: {note}", err=True)
    print_warnings(analysis.warnings)
    write_output(text, output)
    if output is not None and str(output) != "-":
        click.echo(f"wrote {output}: {len(analysis.rows):,} layers, {analysis.totals.params:,} parameters, "
                   f"{analysis.totals.macs:,} MACs", err=True)
    if check:
        _check(source, network, analysis, model_args)


def _check(source: str, network, analysis, model_args) -> None:
    from ..importers.check import CheckReport, check_shapes

    report = CheckReport()
    if source.lower().endswith(".onnx"):
        check_shapes(network, analysis, report)
    else:
        from ..importers.check import check_torch
        from ..importers.pytorch import load_model

        check_torch(load_model(source, model_args), network, analysis, report)
    for line in report.lines():
        click.echo(line, err=True)
    if report.problems:
        raise SystemExit(3)
