"""Homework checking: check, key lint."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import EXIT_INPUT_ERROR, EXIT_NOT_ALL_CORRECT, main
from .options import check_writable, output_format, output_option, write_output


@main.command()
@click.argument("key_file", metavar="KEY", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("answers", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "gradescope", "prairielearn"]),
    default=None,
    help="text (default), json, gradescope or prairielearn; with -o x.json and no --format: json.",
)
@click.option(
    "--csv", "csv_path", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Also write a per-student summary CSV.",
)
@click.option(
    "--strict", is_flag=True, help=f"Exit {EXIT_NOT_ALL_CORRECT} unless every answer of every submission is correct."
)
@output_option
def check(
    key_file: Path, answers: tuple[Path, ...], fmt: str, csv_path: Path | None, strict: bool, output: Path | None
) -> None:
    """Grade student ANSWERS (YAML files, or directories of them) against an answer KEY.

    Wrong answers are a result, not an error: the exit status is 0 once grading ran, 1 if the
    key (or its network) is invalid, 2 on a usage error, and 3 with --strict when any answer
    is not fully correct or any submission cannot be graded. The key format and the formats: `archcalc docs grading`.
    """
    from ..grading.answers import read_submission
    from ..grading.formats import render_reports, summary_csv
    from ..grading.grade import Grader
    from ..grading.key import load_key

    check_writable(csv_path)
    check_writable(output)
    fmt = output_format(fmt, output, ("text", "json"))
    files = _answer_files(answers)
    key = load_key(key_file)
    grader = Grader(key)
    reports = [grader.grade(read_submission(path)) for path in files]
    table = summary_csv(reports, [q.id for q in key.model.questions]) if csv_path is not None else None
    text = render_reports(reports, fmt, key.model.title)
    if table is not None:
        write_output(table, csv_path)
    write_output(text, output)
    if strict and not all(report.fully_correct for report in reports):
        sys.exit(EXIT_NOT_ALL_CORRECT)


@main.group()
def key() -> None:
    """Work with answer keys."""


def _answer_files(paths: tuple[Path, ...]) -> list[Path]:
    """The answer files: each path given, and the .yaml/.yml files of each directory, sorted. A path
    that cannot be read is kept: it becomes that student's 'ungradable' row, not an abort."""
    from ..errors import ArchcalcError

    files: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        try:
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        except OSError as err:
            raise ArchcalcError(f"cannot list the folder '{path}': {err.strerror or err}") from None
    if not files:
        raise click.UsageError("no .yaml or .yml answer files found")
    return files


@key.command("lint")
@click.argument("key_file", metavar="KEY", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
def key_lint(key_file: Path, strict: bool) -> None:
    """Flag questions on layers that do not exist, and answers that depend on a convention the
    key does not state."""
    from ..grading.key import load_key
    from ..grading.lint import lint

    findings = lint(load_key(key_file))
    for finding in findings:
        where = f"{key_file}:{finding.line}" if finding.line is not None else str(key_file)
        click.echo(f"{where}: {finding.level}: question '{finding.question}': {finding.message}")
    errors = sum(f.level == "error" for f in findings)
    click.echo(f"{errors} error(s), {len(findings) - errors} warning(s)", err=True)
    if errors or (strict and findings):
        sys.exit(EXIT_INPUT_ERROR)
