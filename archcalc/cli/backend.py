"""Commands of the torch backend: verify, export, bench."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import EXIT_INPUT_ERROR, main
from .options import check_writable, flop_choices, output_format, load_graph, print_warnings, output_option, spec_options, write_output


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
        graph = load_graph(name, input_shape, sets)
        print_warnings(graph.warnings)
        report = run_verify(graph)
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

    from ..analysis import analyze

    graph = load_graph(spec, input_shape, sets)
    print_warnings(analyze(graph).warnings)
    write_output(export_source(graph), output)
    if str(output) != "-":
        click.echo(f"wrote {output}", err=True)


def parse_batches(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    from ..limits import MAX_BATCH

    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts or len(parts) > 16 or not all(part.isascii() and part.isdigit() and len(part) <= 8 for part in parts):
        raise click.BadParameter(f"'{value[:60]}': expected up to 16 batch sizes such as 256 or 1,32,256")
    batches = tuple(int(part) for part in parts)
    if min(batches) < 1 or max(batches) > MAX_BATCH:
        raise click.BadParameter(f"batch sizes are between 1 and {MAX_BATCH:,}")
    return batches


@main.command()
@click.argument("spec")
@click.option("--device", type=click.Choice(["auto", "cuda", "cpu"]), default="auto", show_default=True,
              help="auto: CUDA when PyTorch sees a GPU, else the CPU.")
@click.option("--batch", "batches", default="32", show_default=True, callback=parse_batches, metavar="N[,N...]",
              help="Batch size, or a sweep such as 1,32,256.")
@click.option("--dtype", type=click.Choice(["fp32", "tf32", "bf16", "fp16"]), default="fp32", show_default=True,
              help="fp32 (TF32 off), tf32 (TF32 matmuls and convolutions), bf16 or fp16 (the model and input cast).")
@click.option("--autocast", is_flag=True, help="bf16/fp16 through torch.autocast, weights kept in fp32, instead of a cast.")
@click.option("--channels-last", is_flag=True, help="Model and input in the channels-last memory format.")
@click.option("--compile", "compile_", is_flag=True, help="torch.compile the model (its first call is reported apart).")
@click.option("--mode", type=click.Choice(["inference", "train"]), default="inference", show_default=True,
              help="train: one forward, backward and SGD step, counted as 3 × the forward FLOPs.")
@click.option("--warmup", type=click.IntRange(0, 10_000), default=5, show_default=True, help="Untimed steps first.")
@click.option("--iters", type=click.IntRange(1, 100_000), default=20, show_default=True, help="Steps per timing.")
@click.option("--repeat", type=click.IntRange(1, 1_000), default=5, show_default=True,
              help="Timings; the median and the spread are reported.")
@click.option("--convention", type=click.Choice(flop_choices()), default="torch", show_default=True,
              help="What the FLOPs per image count (archcalc summary --conventions lists them).")
@click.option("--against", type=click.Choice(["torchvision"]),
              help="Time torchvision's own model too (torchvision/* specs), interleaved, and the ratio.")
@click.option("--profile", is_flag=True, help="Per-layer forward time (torch.profiler), achieved TFLOP/s and roofline.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.svg",
              help="Draw a roofline with the runs (and the profiled layers) as SVG (needs matplotlib).")
@click.option("--remeasure", is_flag=True, help="Measure the device's peak again instead of using the cached figure.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default=None,
              help="text (default), json or csv; with -o, the file's extension chooses when this is not given.")
@output_option
@spec_options
def bench(spec: str, batches: tuple[int, ...], device: str, dtype: str, autocast: bool, channels_last: bool,
          compile_: bool, mode: str, warmup: int, iters: int, repeat: int, convention: str, against: str | None,
          profile: bool, plot: Path | None, remeasure: bool, fmt: str, output: Path | None, input_shape, sets) -> None:
    """Benchmark SPEC lowered to PyTorch: images/s, latency, achieved TFLOP/s against the device's
    measured peak, memory against archcalc's prediction (needs the torch extra; `archcalc docs bench`).

    Results go to stdout (or -o); progress to stderr."""
    from ..backends.bench import Settings, roofline_svg, run_benchmark
    from ..backends.reference import torchvision_model, torchvision_name
    from ..report.bench_report import render_bench
    from ..zoo import resolve, zoo_dir

    check_writable(output)
    check_writable(plot)
    graph = load_graph(spec, input_shape, sets)
    print_warnings(graph.warnings)
    reference = None
    if against == "torchvision":
        name = _zoo_name(spec, resolve, zoo_dir)
        torchvision_name(name)
        reference = lambda: torchvision_model(name)  # noqa: E731
    settings = Settings(device, batches, dtype, autocast, channels_last, compile_, mode, warmup, iters, repeat,
                        convention, against, profile, remeasure)
    report = run_benchmark(spec, graph, settings, lambda message: click.echo(f"bench: {message}", err=True), reference)
    text = render_bench(report, output_format(fmt, output, ("text", "json", "csv")))
    if plot is not None:
        write_output(roofline_svg(report, graph), plot)
    write_output(text, output)


def _zoo_name(spec: str, resolve, zoo_dir) -> str:
    """The built-in name of SPEC (``torchvision/resnet50``, ``torchvision/efficientnet_b3``), whether
    given as a name or a path."""
    resolved = resolve(spec)
    path, root = resolved.path.resolve(), zoo_dir().resolve()
    if not path.is_relative_to(root):
        return spec
    name = path.relative_to(root).with_suffix("").as_posix()
    return f"{name.rpartition('/')[0]}/{resolved.variant}".lstrip("/") if resolved.variant else name
