"""Options and helpers shared by the commands: spec overrides, conventions, safe output."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from ..errors import short_text
from ..limits import MAX_BATCH, MAX_INT_DIGITS


def parse_input(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    from ..layers.structure import check_input_shape

    parts = [part.strip() for part in value.replace("x", ",").split(",")]
    try:
        if not all(part.isascii() and part.isdigit() and len(part) <= MAX_INT_DIGITS for part in parts):
            raise ValueError("expected C,H,W (or F) of positive integers")
        return check_input_shape(tuple(int(part) for part in parts))
    except ValueError as err:
        raise click.BadParameter(f"'{short_text(value)}': {err}; for example 3,224,224") from None


def parse_sets(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for item in values:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{short_text(item)}': expected NAME=VALUE such as classes=2")
        from ..errors import SpecError
        from ..yaml_source import parse_yaml

        try:
            parsed[name.strip()] = parse_yaml(text, f"--set {name.strip()}") if text.strip() else None
        except SpecError as err:
            raise click.BadParameter(f"'{short_text(item)}': {err.message}") from None
    return parsed



def spec_options(command: Any) -> Any:
    """--input, --set and --until: the overrides every command that loads a spec accepts. --until
    is kept in the context (``ctx.meta``) for :func:`load_graph` rather than passed to each command."""
    command = click.option(
        "--until",
        metavar="LAYER",
        expose_value=False,
        callback=lambda ctx, param, value: ctx.meta.__setitem__("archcalc.until", value),
        help="Analyse the network only up to LAYER (a layer or module instance), e.g. --until pool5.",
    )(command)
    command = click.option(
        "--set",
        "sets",
        multiple=True,
        callback=parse_sets,
        metavar="NAME=VALUE",
        help="Override an argument the spec declares (repeatable), e.g. --set classes=2.",
    )(command)
    return click.option(
        "--input", "input_shape", callback=parse_input, metavar="C,H,W", help="Override the spec's input shape."
    )(command)


def parse_columns(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    from ..report import COLUMNS

    from ..report import DEFAULT_COLUMNS

    keys = tuple(key.strip() for key in value.split(",") if key.strip())
    if keys and all(key.startswith("+") for key in keys):  # --columns +inputs: the default columns and these
        keys = (*DEFAULT_COLUMNS, *(key[1:] for key in keys))
    unknown = [key for key in keys if key not in COLUMNS]
    if unknown or not keys:
        raise click.BadParameter(f"unknown column {short_text(repr(unknown[0])) if unknown else repr('')}; choose from "
                                 f"{', '.join(COLUMNS)} (or +name to add one to the default columns)")
    return tuple(dict.fromkeys(keys))


def parse_list(value: str | None, allowed: tuple[str, ...], option: str) -> tuple[str, ...]:
    if value is None:
        return ()
    keys = tuple(key.strip() for key in value.split(",") if key.strip())
    unknown = [key for key in keys if key not in allowed]
    if unknown:
        raise click.BadParameter(f"unknown {unknown[0]!r}; choose from {', '.join(allowed)}", param_hint=option)
    return keys


def flop_choices() -> list[str]:
    from ..conventions import FLOP_PRESETS

    return list(FLOP_PRESETS)


def dtype_choices() -> list[str]:
    from ..conventions import DTYPE_BYTES

    return list(DTYPE_BYTES)


def rounding_options(command: Any) -> Any:
    """--rounding floor|ceil|error, and --strict for --rounding error: the same words in every
    command; the command receives ``rounding`` (a Rounding)."""

    @functools.wraps(command)
    def with_rounding(*args: Any, rounding: str, strict: bool, **kwargs: Any) -> Any:
        from ..conventions import Rounding

        return command(*args, rounding=Rounding.ERROR if strict else Rounding(rounding), **kwargs)

    with_rounding = click.option(
        "--strict", is_flag=True, help="Short for --rounding error: a window that does not tile its input is an error."
    )(with_rounding)
    return click.option(
        "--rounding", type=click.Choice(["floor", "ceil", "error"]), default="floor", show_default=True,
        help="A window that does not tile its input: floor (PyTorch, with a warning), ceil, or error (CS231n).",
    )(with_rounding)


def analysis_options(command: Any) -> Any:
    """Options shared by every command that analyzes specs: the spec's overrides and the conventions."""
    return spec_options(convention_options(command))


def convention_options(command: Any) -> Any:
    """--convention, --dtype, --batch, --params and --rounding: the command receives ``conventions``."""
    options = [
        click.option(
            "--convention",
            "convention",
            type=click.Choice(flop_choices()),
            default="torch",
            show_default=True,
            help="What the FLOPs column counts; --conventions lists them all.",
        ),
        click.option(
            "--dtype",
            type=click.Choice(dtype_choices()),
            default="float32",
            show_default=True,
            help="Bytes per value for memory.",
        ),
        click.option(
            "--batch", type=click.IntRange(min=1, max=MAX_BATCH), default=1, show_default=True, help="Batch size for memory."
        ),
        click.option(
            "--params", "params_convention", type=click.Choice(["torch", "keras"]), default="torch", show_default=True,
            help="What 'Total params' counts: torch's parameters() (BatchNorm statistics shown apart as buffers), "
                 "or Keras's summary (statistics as non-trainable params).",
        ),
    ]

    @functools.wraps(command)
    def with_conventions(*args: Any, rounding: Any, convention: str, dtype: str, batch: int, params_convention: str,
                         **kwargs: Any) -> Any:
        """The command receives one ``conventions`` object built from the options."""
        from ..conventions import Conventions

        conventions = Conventions(rounding=rounding, flops=convention, dtype=dtype, batch=batch, params=params_convention)
        return command(*args, conventions=conventions, **kwargs)

    for option in reversed(options):
        with_conventions = option(with_conventions)
    return rounding_options(with_conventions)


layout_option = click.option(
    "--layout",
    type=click.Choice(["chw", "hwc"]),
    default="chw",
    show_default=True,
    help="Print shapes as C×H×W (PyTorch) or H×W×C (papers, Keras). JSON is always [C, H, W].",
)

EXTENSIONS = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".csv": "csv", ".json": "json",
              ".tex": "latex"}
"""What -o's extension asks for when --format is not given (as render does with .svg or .png)."""


def output_format(fmt: str | None, output: Path | None, choices: tuple[str, ...]) -> str:
    """--format if given, else the format -o's extension names (when the command has it), else text."""
    if fmt is not None:
        return fmt
    guessed = EXTENSIONS.get(output.suffix.lower()) if output is not None else None
    return guessed if guessed in choices else "text"


TABLE_FORMATS = ("text", "markdown", "csv", "json", "latex")

table_format_option = click.option(
    "--format", "fmt", type=click.Choice(TABLE_FORMATS), default=None,
    help="text (default), markdown, csv, json or latex; with -o, the file's extension chooses when this is not given.",
)

output_option = click.option(
    "-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write to a file instead of stdout ('-': stdout); nothing is written if anything fails.",
)


def terminal_width() -> int | None:
    """The terminal's width when standard output is one (tables fit it), else None (files and pipes
    get the whole table)."""
    import shutil
    import sys

    if not sys.stdout.isatty():
        return None
    return max(shutil.get_terminal_size().columns, 60)


def print_warnings(warnings: Sequence[str]) -> None:
    """Every command that analyses a spec says what it noticed, the same way, on stderr."""
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


@contextlib.contextmanager
def _input_order_hint(loaded: list[Any]) -> Iterator[None]:
    """An error on a spec whose input looks channels-last ([224, 224, 3]) says so in its hint."""
    from ..errors import ArchcalcError
    from ..graph import input_order_warning

    try:
        yield
    except ArchcalcError as err:
        warning = input_order_warning(loaded[0]) if loaded else None
        if warning is None or err.hint and "channels" in err.hint:
            raise
        raise type(err)(err.message, source=err.source, layer=err.layer,
                        hint=(f"{err.hint}; " if err.hint else "") + warning.split(": ", 1)[1]) from None


def load_graph(spec: str, input_shape, sets):
    from ..api import load
    from ..graph import build_graph

    loaded: list[Any] = []
    with _input_order_hint(loaded):
        loaded.append(load(spec, input_shape, sets, until=_until()))
        return build_graph(loaded[0])


def analyze_spec(spec: str, input_shape, sets, conventions):
    from ..analysis import analyze
    from ..api import load
    from ..graph import build_graph

    loaded: list[Any] = []
    with _input_order_hint(loaded):
        loaded.append(load(spec, input_shape, sets, until=_until()))
        return analyze(build_graph(loaded[0]), conventions)


def _until() -> str | None:
    """The command's --until (see :func:`spec_options`)."""
    context = click.get_current_context(silent=True)
    return context.meta.get("archcalc.until") if context is not None else None


def check_writable(output: Path | None) -> None:
    """ArchcalcError unless ``output`` can be written: '-' (standard output), an existing file
    that is not a directory, or a new file in an existing, writable folder. Commands with two
    outputs check both before writing either."""
    from ..errors import ArchcalcError

    if output is None or str(output) == "-":
        return
    if output.is_dir():
        raise ArchcalcError(f"cannot write '{short_text(str(output))}': it is a directory", hint="give a file name")
    if output.exists():
        if not os.access(output, os.W_OK):
            raise ArchcalcError(f"cannot write '{short_text(str(output))}': permission denied")
        return
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise ArchcalcError(f"cannot write '{short_text(str(output))}': the folder '{folder}' does not exist",
                            hint="create it first, or write somewhere else")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ArchcalcError(f"cannot write '{short_text(str(output))}': permission denied in '{folder}'")


def write_output(content: str | bytes, output: Path | None) -> None:
    """Write all or nothing. '-' or no path: standard output. A regular file is written to a
    temporary file in its folder, then renamed over the target, so an error never leaves half a
    file; anything else that exists (``/dev/null``, a FIFO) is written in place, since renaming
    over it would replace the device with a file."""
    from ..errors import ArchcalcError

    data = content.encode("utf-8") if isinstance(content, str) else content
    if output is None or str(output) == "-":
        click.echo(content, nl=False)
        return
    check_writable(output)
    try:
        if output.exists() and not output.is_file():
            _write_in_place(data, output)
        else:
            _replace(data, output)
    except OSError as err:
        reason = "no process is reading the pipe" if err.errno == errno.ENXIO else err.strerror or str(err)
        raise ArchcalcError(f"cannot write '{short_text(str(output))}': {reason}") from None


def _write_in_place(data: bytes, output: Path) -> None:
    # Non-blocking open: a FIFO nobody reads is an error (ENXIO), not a hang.
    fd = os.open(output, os.O_WRONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "wb") as handle:
        os.set_blocking(fd, True)
        handle.write(data)


def _replace(data: bytes, output: Path) -> None:
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=output.parent if str(output.parent) else ".", prefix=f".{output.name}.")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the result is an ordinary file
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
