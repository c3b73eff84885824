"""The ``archcalc`` command line. Errors become one message and exit status 1, here only."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import yaml

from .errors import ArchcalcError

EXIT_INPUT_ERROR = 1


class _Group(click.Group):
    """Turns every ArchcalcError into ``error: file:line: layer 'x': ...`` and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchcalcError as err:
            click.echo(f"error: {err}", err=True)
            ctx.exit(EXIT_INPUT_ERROR)


def _parse_input(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    from .layers.structure import check_input_shape

    try:
        return check_input_shape(tuple(int(part) for part in value.replace("x", ",").split(",")))
    except ValueError:
        raise click.BadParameter(f"'{value}': expected C,H,W of positive integers, such as 3,224,224") from None


def _parse_sets(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for item in values:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{item}': expected NAME=VALUE such as classes=2")
        try:
            parsed[name.strip()] = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise click.BadParameter(f"'{item}': the value is not a valid scalar") from None
    return parsed


def _write(text: str, output: Path | None) -> None:
    """Write all or nothing: a temporary file renamed over the target."""
    if output is None:
        click.echo(text, nl=False)
        return
    fd, tmp = tempfile.mkstemp(dir=output.parent if str(output.parent) else ".", prefix=f".{output.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archcalc")
def main() -> None:
    """Analyze convolutional network architectures declared in YAML."""


@main.command()
@click.argument("spec")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "csv", "json"]), default="text", show_default=True)
@click.option("--layout", type=click.Choice(["chw", "hwc"]), default="chw", show_default=True,
              help="Print shapes as C×H×W (PyTorch) or H×W×C (papers, Keras). JSON is always [C, H, W].")
@click.option("--input", "input_shape", callback=_parse_input, metavar="C,H,W", help="Override the spec's input shape.")
@click.option("--set", "sets", multiple=True, callback=_parse_sets, metavar="NAME=VALUE",
              help="Override an argument the spec declares (repeatable), e.g. --set classes=2.")
@click.option("--strict", is_flag=True, help="A window that does not tile its input is an error (CS231n), not a warning.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout.")
def summary(spec: str, fmt: str, layout: str, input_shape, sets, strict: bool, output: Path | None) -> None:
    """Per-layer table of SPEC (a YAML file or a built-in name, see `archcalc zoo`)."""
    from .analysis import analyze
    from .api import load
    from .conventions import Conventions, Rounding
    from .graph import build_graph
    from .report import Layout, render

    conventions = Conventions(rounding=Rounding.ERROR if strict else Rounding.FLOOR)
    analysis = analyze(build_graph(load(spec, input_shape, sets)), conventions)
    text = render(analysis, fmt, layout=Layout(layout))
    for warning in analysis.warnings:
        click.echo(f"warning: {warning}", err=True)
    _write(text, output)


@main.command()
def zoo() -> None:
    """List the built-in specs."""
    from tabulate import tabulate

    from .zoo import zoo_entries

    rows = [(e.name, ", ".join(e.aliases), e.title) for e in zoo_entries()]
    click.echo(tabulate(rows, ["name", "aliases", "network"], tablefmt="simple"))


@main.command()
def types() -> None:
    """List the layer types a spec can use, with their fields."""
    from tabulate import tabulate

    from .layers import layer_types
    from .layers.base import aliases_of

    rows = []
    for tag, cls in sorted(layer_types().items()):
        aliases = ", ".join(aliases_of(tag))
        fields = ", ".join(
            name if info.is_required() else f"{name}={_default_text(info.default)}" for name, info in cls.model_fields.items()
        )
        rows.append((tag, aliases, fields))
    click.echo(tabulate(rows, ["type", "aliases", "fields (required first, then defaults)"], tablefmt="simple"))


def _default_text(value: Any) -> str:
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
        return "0"
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1]:
        return str(value[0])
    return str(value)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
