"""The ``archcalc`` command line. Errors become one message and exit status 1, here only.

Commands import what they need inside their functions: ``archcalc zoo`` should not pay for
the analysis machinery, nor ``archcalc --help`` for anything.
"""

from __future__ import annotations

import gc
import os
import sys
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


def _write(content: str | bytes, output: Path | None) -> None:
    """Write all or nothing: a temporary file renamed over the target."""
    if output is None:
        click.echo(content, nl=False)
        return
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=output.parent if str(output.parent) else ".", prefix=f".{output.name}.")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the result is an ordinary file
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archcalc")
def main() -> None:
    """Analyze convolutional network architectures declared in YAML."""


def _parse_columns(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    from .report import COLUMNS

    keys = tuple(key.strip() for key in value.split(",") if key.strip())
    unknown = [key for key in keys if key not in COLUMNS]
    if unknown or not keys:
        raise click.BadParameter(f"unknown column {unknown[0] if unknown else ''!r}; choose from {', '.join(COLUMNS)}")
    return keys


def _flop_choices() -> list[str]:
    from .conventions import FLOP_PRESETS

    return list(FLOP_PRESETS)


def _dtype_choices() -> list[str]:
    from .conventions import DTYPE_BYTES

    return list(DTYPE_BYTES)


def _analysis_options(command: Any) -> Any:
    """Options shared by every command that analyzes specs."""
    options = [
        click.option("--input", "input_shape", callback=_parse_input, metavar="C,H,W", help="Override the spec's input shape."),
        click.option("--set", "sets", multiple=True, callback=_parse_sets, metavar="NAME=VALUE",
                     help="Override an argument the spec declares (repeatable), e.g. --set classes=2."),
        click.option("--strict", is_flag=True,
                     help="A window that does not tile its input is an error (CS231n), not a warning."),
        click.option("--convention", "convention", type=click.Choice(_flop_choices()), default="torch", show_default=True,
                     help="What the FLOPs column counts; --conventions lists them all."),
        click.option("--dtype", type=click.Choice(_dtype_choices()),
                     default="float32", show_default=True, help="Bytes per value for memory."),
        click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Batch size for memory."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _conventions(strict: bool, convention: str, dtype: str, batch: int):
    from .conventions import Conventions, Rounding

    return Conventions(rounding=Rounding.ERROR if strict else Rounding.FLOOR, flops=convention, dtype=dtype, batch=batch)


def _analyze(spec: str, input_shape, sets, conventions):
    from .analysis import analyze

    return analyze(_graph(spec, input_shape, sets), conventions)


@main.command()
@click.argument("spec")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "csv", "json", "latex"]), default="text",
              show_default=True)
@click.option("--layout", type=click.Choice(["chw", "hwc"]), default="chw", show_default=True,
              help="Print shapes as C×H×W (PyTorch) or H×W×C (papers, Keras). JSON is always [C, H, W].")
@click.option("--columns", callback=_parse_columns, metavar="A,B,...",
              help="Columns to show: name,type,hparams,output_shape,params,macs,flops,memory,rf,rf_stride,rf_padding.")
@click.option("--depth", type=click.IntRange(min=0), default=None,
              help="Collapse modules nested deeper than N into one row (0: every top-level module is a row).")
@click.option("--module-totals/--no-module-totals", default=True, show_default=True,
              help="A totals row after each expanded module.")
@click.option("--conventions", "all_conventions", is_flag=True,
              help="Instead of the table: the network's total under every FLOP convention, and what each counts.")
@_analysis_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout.")
def summary(spec: str, fmt: str, layout: str, columns, depth, module_totals: bool, all_conventions: bool,
            input_shape, sets, strict: bool, convention: str, dtype: str, batch: int, output: Path | None) -> None:
    """Per-layer table of SPEC (a YAML file or a built-in name, see `archcalc zoo`)."""
    from .report import DEFAULT_COLUMNS, Layout, TableOptions, render
    from .report.compare import render_conventions

    analysis = _analyze(spec, input_shape, sets, _conventions(strict, convention, dtype, batch))
    if all_conventions:
        text = render_conventions(analysis, fmt)
    else:
        options = TableOptions(columns or DEFAULT_COLUMNS, Layout(layout), depth, module_totals)
        text = render(analysis, fmt, options)
    for warning in analysis.warnings:
        click.echo(f"warning: {warning}", err=True)
    _write(text, output)


@main.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "csv", "json", "latex"]), default="text",
              show_default=True)
@_analysis_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout.")
def compare(specs: tuple[str, ...], fmt: str, input_shape, sets, strict: bool, convention: str, dtype: str, batch: int,
            output: Path | None) -> None:
    """Totals of several SPECS side by side, with ratios to the first."""
    from .report.compare import render_compare

    conventions = _conventions(strict, convention, dtype, batch)
    analyses = [_analyze(spec, input_shape, sets, conventions) for spec in specs]
    _write(render_compare(analyses, specs, fmt), output)


@main.command()
@click.argument("spec", required=False)
@click.option("--all", "all_specs", is_flag=True, help="Verify every built-in spec.")
@click.option("--input", "input_shape", callback=_parse_input, metavar="C,H,W", help="Override the spec's input shape.")
@click.option("--set", "sets", multiple=True, callback=_parse_sets, metavar="NAME=VALUE",
              help="Override an argument the spec declares (repeatable).")
def verify(spec: str | None, all_specs: bool, input_shape, sets) -> None:
    """Check every layer's shape, parameters and MACs against PyTorch (needs the torch extra).

    The spec is lowered on PyTorch's meta device (no memory, no weights) and run once; MACs
    come from torch.utils.flop_counter.FlopCounterMode. Exits 1 on any mismatch.
    """
    from tabulate import tabulate

    from .backends.verify import verify as run_verify
    from .zoo import zoo_entries

    if all_specs == (spec is not None):
        raise click.UsageError("give one SPEC, or --all")
    names = [entry.name for entry in zoo_entries()] if all_specs else [spec]
    failed = 0
    for name in names:
        report = run_verify(_graph(name, input_shape, sets))
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
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The Python file to write, e.g. model.py.")
@click.option("--input", "input_shape", callback=_parse_input, metavar="C,H,W", help="Override the spec's input shape.")
@click.option("--set", "sets", multiple=True, callback=_parse_sets, metavar="NAME=VALUE",
              help="Override an argument the spec declares (repeatable).")
def export(spec: str, output: Path, input_shape, sets) -> None:
    """Write SPEC as a standalone PyTorch source file (needs only torch to run)."""
    from .backends.export import export_source

    _write(export_source(_graph(spec, input_shape, sets)), output)
    click.echo(f"wrote {output}", err=True)


def _graph(spec: str, input_shape, sets):
    from .api import load
    from .graph import build_graph

    return build_graph(load(spec, input_shape, sets))


@main.command()
@click.argument("spec")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="out.svg, out.png, out.pdf or out.dot; the extension picks the format.")
@click.option("--format", "fmt", type=click.Choice(["svg", "png", "pdf", "dot"]), default=None,
              help="Force a format whatever the extension.")
@click.option("--show", callback=lambda c, p, v: _parse_list(v, ("params", "macs", "rf", "memory"), "--show"),
              metavar="A,B", help="Extra numbers on each node: params,macs,rf,memory.")
@click.option("--edge-labels", is_flag=True, help="Label each edge with the shape of the tensor it carries.")
@click.option("--color-by", type=click.Choice(["params", "macs", "memory"]), default=None,
              help="Colour nodes on a sequential scale, with a legend.")
@click.option("--depth", type=click.IntRange(min=0), default=None,
              help="Collapse modules nested deeper than N into one node (as in summary).")
@click.option("--rankdir", type=click.Choice(["TB", "LR"]), default="TB", show_default=True)
@click.option("--layout", type=click.Choice(["chw", "hwc"]), default="chw", show_default=True)
@click.option("--only", metavar="PREFIX", help="Draw only the layers whose name starts with PREFIX (a module, a stage).")
@click.option("--input", "input_shape", callback=_parse_input, metavar="C,H,W", help="Override the spec's input shape.")
@click.option("--set", "sets", multiple=True, callback=_parse_sets, metavar="NAME=VALUE",
              help="Override an argument the spec declares (repeatable).")
def render(spec: str, output: Path, fmt: str | None, show, edge_labels: bool, color_by: str | None, depth,
           rankdir: str, layout: str, only: str | None, input_shape, sets) -> None:
    """Draw SPEC as a diagram (Graphviz): nodes with their shapes and numbers, modules as clusters."""
    from .analysis import analyze
    from .diagram.dot import DiagramOptions, build_dot
    from .diagram.engine import FORMATS, render as render_dot
    from .report import Layout

    fmt = fmt or output.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise click.BadParameter(f"cannot tell the format of '{output}'; use .svg, .png, .pdf or .dot, or --format",
                                 param_hint="-o")
    analysis = analyze(_graph(spec, input_shape, sets))
    options = DiagramOptions(depth, show or (), edge_labels, color_by, rankdir, Layout(layout), only)
    source = build_dot(analysis, options)
    _write(render_dot(source, fmt), output)
    click.echo(f"wrote {output}", err=True)


def _parse_list(value: str | None, allowed: tuple[str, ...], option: str) -> tuple[str, ...]:
    if value is None:
        return ()
    keys = tuple(key.strip() for key in value.split(",") if key.strip())
    unknown = [key for key in keys if key not in allowed]
    if unknown:
        raise click.BadParameter(f"unknown {unknown[0]!r}; choose from {', '.join(allowed)}", param_hint=option)
    return keys


@main.command()
@click.argument("spec")
@click.argument("layer", required=False)
@click.option("--rounding", type=click.Choice(["floor", "ceil", "error"]), default="floor", show_default=True,
              help="Non-integer output sizes: floor (PyTorch), ceil, or error (CS231n).")
@click.option("--input", "input_shape", callback=_parse_input, metavar="C,H,W", help="Override the spec's input shape.")
@click.option("--set", "sets", multiple=True, callback=_parse_sets, metavar="NAME=VALUE",
              help="Override an argument the spec declares (repeatable).")
def explain(spec: str, layer: str | None, rounding: str, input_shape, sets) -> None:
    """The worked arithmetic of LAYER of SPEC (or of every layer; a module name explains its layers):
    output size, parameters, MACs and receptive field, numbers substituted."""
    from .analysis import analyze
    from .conventions import Conventions, Rounding
    from .explain import explain as explain_layers

    graph = _graph(spec, input_shape, sets)
    analysis = analyze(graph, Conventions(rounding=Rounding(rounding)))
    click.echo("\n\n".join(item.text() for item in explain_layers(graph, analysis, layer)))


EXIT_NOT_ALL_CORRECT = 3


@main.command()
@click.argument("key_file", metavar="KEY", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("answers", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "gradescope", "prairielearn"]), default="text",
              show_default=True)
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a per-student summary CSV.")
@click.option("--strict", is_flag=True, help=f"Exit {EXIT_NOT_ALL_CORRECT} unless every answer of every submission is correct.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout.")
def check(key_file: Path, answers: tuple[Path, ...], fmt: str, csv_path: Path | None, strict: bool,
          output: Path | None) -> None:
    """Grade student ANSWERS (YAML files, or directories of them) against an answer KEY.

    Wrong answers are a result, not an error: the exit status is 0 once grading ran, 1 if the
    key (or its network) is invalid, 2 on a usage error, and 3 with --strict when any answer
    is not fully correct or any submission cannot be graded. See docs/grading.md.
    """
    from .grading.answers import read_submission
    from .grading.formats import render_reports, summary_csv
    from .grading.grade import Grader
    from .grading.key import load_key

    key = load_key(key_file)
    grader = Grader(key)
    files: list[Path] = []
    for path in answers:
        files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
    reports = [grader.grade(read_submission(path)) for path in files]
    if not reports:
        raise click.UsageError("no .yaml or .yml answer files found")
    if csv_path is not None:
        _write(summary_csv(reports, [q.id for q in key.model.questions]), csv_path)
    _write(render_reports(reports, fmt, key.model.title), output)
    if strict and not all(report.fully_correct for report in reports):
        sys.exit(EXIT_NOT_ALL_CORRECT)


@main.group()
def key() -> None:
    """Work with answer keys."""


@key.command("lint")
@click.argument("key_file", metavar="KEY", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
def key_lint(key_file: Path, strict: bool) -> None:
    """Flag questions on layers that do not exist, and answers that depend on a convention the
    key does not state."""
    from .grading.key import load_key
    from .grading.lint import lint

    findings = lint(load_key(key_file))
    for finding in findings:
        click.echo(f"{key_file}: {finding.level}: {finding.question}: {finding.message}")
    errors = sum(f.level == "error" for f in findings)
    click.echo(f"{errors} error(s), {len(findings) - errors} warning(s)", err=True)
    if errors or (strict and findings):
        sys.exit(EXIT_INPUT_ERROR)


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
            name if info.is_required() else f"{name}={info.description or _default_text(info.default)}"
            for name, info in cls.model_fields.items()
        )
        rows.append((tag, aliases, fields))
    click.echo(tabulate(rows, ["type", "aliases", "fields (required first, then defaults)"], tablefmt="simple"))


def _default_text(value: Any) -> str:
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
        return "0"
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1]:
        return str(value[0])
    return str(value)


def run() -> None:
    """The console-script entry point.

    A summary is a short-lived process that allocates many small objects and frees them by
    reference counting; the cyclic garbage collector only costs time here (about a tenth of
    a ResNet-152 summary), so the command runs without it. Library use is unaffected.
    """
    gc.disable()
    main()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
