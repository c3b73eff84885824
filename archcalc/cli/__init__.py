"""The ``archcalc`` command line. Errors become one message and exit status 1, here only.

Commands live in the modules of this package by theme (analysis, diagrams, the torch
backend, grading) and import what they need inside their functions: ``archcalc zoo`` should
not pay for the analysis machinery, nor ``archcalc --help`` for anything.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

import click

from ..errors import ArchcalcError, SpecErrors, short_text

EXIT_INPUT_ERROR = 1
EXIT_NOT_ALL_CORRECT = 3
EXIT_INTERNAL_ERROR = 70  # EX_SOFTWARE


class _Group(click.Group):
    """The one place errors become messages: an ArchcalcError is ``error: file:line: layer 'x':
    ...`` and exit 1; an operating-system error about a path the user gave is exit 1 too.
    Anything else is a bug in archcalc: one line saying so (exit 70), the traceback only with
    ARCHCALC_DEBUG=1; the fuzz test fails on it."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchcalcError as err:
            for line in err.lines() if isinstance(err, SpecErrors) else [str(err)]:  # several errors of one file
                click.echo(f"error: {line}", err=True)
            ctx.exit(EXIT_INPUT_ERROR)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            sys.stderr.close()  # the reader went away (| head): stop quietly, as other tools do
            ctx.exit(EXIT_INPUT_ERROR)
        except OSError as err:
            where = f"{short_text(str(err.filename))}: " if err.filename else ""
            click.echo(f"error: {where}{err.strerror or err}", err=True)
            ctx.exit(EXIT_INPUT_ERROR)
        except Exception as err:
            if os.environ.get("ARCHCALC_DEBUG"):
                raise
            click.echo(f"error: internal error, a bug in archcalc: {type(err).__name__}: {short_text(str(err), 200)}\n"
                       "  hint: rerun with ARCHCALC_DEBUG=1 for the traceback, and please report it", err=True)
            ctx.exit(EXIT_INTERNAL_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archcalc")
def main() -> None:
    """Analyze convolutional network architectures declared in YAML."""


def run() -> None:
    """The console-script entry point.

    A summary is a short-lived process that allocates many small objects and frees them by
    reference counting; the cyclic garbage collector only costs time here (about a tenth of
    a ResNet-152 summary), so the command runs without it. Library use is unaffected.

    Nor is there anything to tidy at the end: every file the command writes is closed before
    it returns, so once the output streams are flushed the process ends at once (``os._exit``),
    skipping the interpreter's teardown of every module and object (about 20 ms).
    """
    gc.disable()
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if done.code is not None and not isinstance(done.code, int):
            print(done.code, file=sys.stderr)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader went away (| head), or a stream was closed
        code = code or EXIT_INPUT_ERROR
    os._exit(code)


# Register the commands (each module adds its own to ``main``).
from . import analysis, backend, diagram, grading, importing, page, sweeping  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
