"""archcalc sweep: cost a design space, locally or on a Dask or Ray cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from . import main
from .options import check_writable, convention_options, parse_sets, write_output


def _parse_grid(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[tuple[str, list[Any]]]:
    from ..errors import ArchcalcError
    from ..sweeps.space import parse_values

    grids = []
    for item in values:
        name, sep, text = item.partition("=")
        if not sep or not name.strip() or not text.strip():
            raise click.BadParameter(f"'{item[:60]}': expected NAME=VALUES, e.g. width=16,32,64 or depth=2..8")
        try:
            grids.append((name.strip(), parse_values(text, f"--grid {name.strip()}")))
        except ArchcalcError as err:
            raise click.BadParameter(err.message) from None
    return grids


def _parse_inputs(ctx: click.Context, param: click.Parameter, value: str | None):
    from ..errors import ArchcalcError
    from ..sweeps.space import parse_inputs

    if value is None:
        return None
    try:
        return parse_inputs(value)
    except ArchcalcError as err:
        raise click.BadParameter(err.message) from None


@main.command()
@click.argument("spec")
@click.option("--grid", "grids", multiple=True, callback=_parse_grid, metavar="NAME=VALUES",
              help="An argument's values: 16,32,64, a range 2..8 (inclusive) or 2..16:2 (repeatable).")
@click.option("--grid-file", type=click.Path(dir_okay=False, path_type=Path),
              help="A YAML file of NAME: [values] (or 'LOW..HIGH'), and 'input: [3,224,224, ...]'.")
@click.option("--input", "inputs", callback=_parse_inputs, metavar="C,H,W",
              help="Input sizes: 3,224,224, or with choices, 3,{160,224,288} (every combination).")
@click.option("--set", "sets", multiple=True, callback=parse_sets, metavar="NAME=VALUE",
              help="An argument fixed for every point (repeatable).")
@click.option("--sample", type=click.IntRange(min=1), help="Cost N points drawn at random from the space.")
@click.option("--seed", type=int, default=0, show_default=True, help="The random seed of --sample.")
@click.option("--pareto", metavar="A,B", help="Mark the points no other beats on these metrics, minimised (max:NAME "
              "maximises), e.g. params,macs or macs,max:rf. Holds the rows in memory.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="Draw the points: out.svg or out.png (matplotlib).")
@click.option("--axes", metavar="X,Y", help="What --plot draws: metrics or an argument (default: the --pareto "
              "metrics, else the first argument against macs).")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "jsonl", "parquet"]), default=None,
              help="Default: from -o's extension (.csv, .jsonl, .parquet, .txt), else text.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="The rows' file (default: stdout); written whole or not at all.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Local worker processes (default: every core).")
@click.option("--executor", type=click.Choice(["local", "dask", "ray"]), default="local", show_default=True,
              help="Where the points are costed: a local process pool, or a Dask or Ray cluster.")
@click.option("--address", help="The Dask scheduler (tcp://host:8786) or Ray cluster (ray://host:10001) to use; "
              "default: start a local one.")
@click.option("--chunk", type=click.IntRange(min=1), default=None, help="Points per task (default: chosen from the space).")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Points done and points/s on stderr.")
@convention_options
def sweep(spec: str, grids, grid_file: Path | None, inputs, sets, sample: int | None, seed: int, pareto: str | None,
          plot: Path | None, axes: str | None, fmt: str | None, output: Path | None, jobs: int | None, executor: str,
          address: str | None, chunk: int | None, progress: bool, conventions) -> None:
    """One row per point of a design space of SPEC: its arguments and input, and the network's totals
    (params, MACs, FLOPs, memory, final receptive field, output shape), streamed as they finish. A point
    whose shapes do not fit is a row with the error."""
    from ..sweeps.evaluate import SpecSource
    from ..sweeps.output import EXTENSIONS, check_writers, columns, pareto_front, write_rows
    from ..sweeps.run import SweepOptions, run_sweep, stderr_progress
    from ..sweeps.space import read_grid_file, space_of

    if grid_file is not None:
        file_grids, file_inputs = read_grid_file(str(grid_file))
        grids, inputs = [*file_grids, *grids], inputs or file_inputs
    fmt = fmt or (EXTENSIONS.get(output.suffix.lower(), "text") if output is not None else "text")
    for path in (output, plot):
        check_writable(path)
    check_writers(fmt, output, plot)  # before any point is costed
    space = space_of([*((name, [value]) for name, value in sets.items()), *grids], inputs)  # --set: one value
    source = SpecSource.of(spec)
    _check_arguments(source, space.names, spec)
    metrics = _metric_list(pareto, "--pareto") if pareto else []
    plot_axes = _plot_axes(axes, metrics, space.names) if plot is not None else None
    options = SweepOptions(conventions, jobs, executor, address, chunk or 0, sample, seed)
    rows = run_sweep(source, space, options, stderr_progress if progress else None)
    drawn: list[tuple[Any, Any, bool]] = []
    if metrics:
        rows = list(rows)
        front = pareto_front(rows, metrics)
        for row in rows:
            row["pareto"] = row["point"] in front
    if plot_axes is not None:
        rows = _collecting(rows, plot_axes, drawn)
    header = columns(space.names, bool(metrics))
    count = write_rows(rows, fmt, output, header)
    if output is not None and str(output) != "-":
        click.echo(f"wrote {output}: {count:,} points", err=True)
    if plot is not None and plot_axes is not None:
        from ..sweeps.output import plot as draw

        marked = [(x, y, bool(flag)) for x, y, flag in drawn]
        write_output(draw(marked, *plot_axes, plot.suffix.lstrip(".").lower() or "svg",
                          f"{spec}: {len(drawn):,} points"), plot)
        click.echo(f"wrote {plot}", err=True)


def _collecting(rows, axes: tuple[str, str], drawn: list):
    x, y = axes
    for row in rows:
        if row.get("error") is None and row.get(x) is not None and row.get(y) is not None:
            drawn.append((row[x], row[y], row.get("pareto", False)))
        yield row


def _metric_list(text: str, option: str) -> list[str]:
    from ..sweeps.evaluate import METRICS

    names = [name.strip() for name in text.split(",") if name.strip()]
    numeric = [m for m in METRICS if m != "output_shape"]
    unknown = [name for name in names if name.removeprefix("max:") not in numeric]
    if unknown or not names:
        raise click.BadParameter(f"unknown metric {unknown[0] if unknown else ''!r}; choose from {', '.join(numeric)}",
                                 param_hint=option)
    return names


def _plot_axes(axes: str | None, metrics: list[str], names: list[str]) -> tuple[str, str]:
    from ..sweeps.evaluate import METRICS

    if axes is None:
        if len(metrics) >= 2:
            return metrics[0].removeprefix("max:"), metrics[1].removeprefix("max:")
        return (names[0] if names else "params"), "macs"
    chosen = [name.strip() for name in axes.split(",")]
    allowed = [*names, *(m for m in METRICS if m != "output_shape")]
    if len(chosen) != 2 or any(name not in allowed for name in chosen):
        raise click.BadParameter(f"expected X,Y from {', '.join(allowed)}", param_hint="--axes")
    return chosen[0], chosen[1]


def _check_arguments(source, names: list[str], spec: str) -> None:
    """Every swept or fixed argument is one the spec declares: a typo is one error, not a million rows."""
    from ..errors import ArchcalcError
    from ..sweeps.evaluate import declared_arguments

    declared = declared_arguments(source)
    unknown = [name for name in names if name not in declared]
    if unknown:
        raise ArchcalcError(f"{spec} declares no argument '{unknown[0]}'",
                            hint=f"its arguments: {', '.join(declared) or 'none'} (archcalc summary {spec} shows the spec)")
