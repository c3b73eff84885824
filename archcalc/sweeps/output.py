"""Writing sweep rows as they arrive: text, CSV, JSON lines or Parquet; Pareto marks; a plot.

A file is written to a temporary name beside it and renamed when the sweep ends, so an
interrupted sweep leaves no half-written output; standard output streams row by row.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ..errors import ArchcalcError
from .evaluate import METRICS

FORMATS = ("text", "csv", "jsonl", "parquet")
EXTENSIONS = {".txt": "text", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
PARQUET_BATCH = 10_000  # rows per Parquet row group: memory stays flat however many points


def columns(names: Sequence[str], pareto: bool) -> list[str]:
    """The columns of every format: the point, its arguments and input, the totals, the Pareto mark
    (with --pareto), and last the error (empty for a valid point)."""
    return ["point", *names, "input", *METRICS, *(["pareto"] if pareto else []), "error"]


_WIDTH = {"point": 7, "input": 13, "output_shape": 14, "pareto": 6, "error": 0}


@contextmanager
def _target(output: Path | None, binary: bool) -> Iterator[IO[Any]]:
    """Standard output, or a temporary file beside ``output`` renamed over it at the end."""
    import sys

    if output is None or str(output) == "-":
        assert not binary, "check_writers refuses Parquet to standard output"
        yield sys.stdout
        sys.stdout.flush()
        return
    folder = output.parent if str(output.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{output.name}.")
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})) as handle:
            yield handle
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writers(fmt: str, output: Path | None, plot: Path | None) -> None:
    """What a sweep will write can be written, before any point is costed: Parquet to a file and
    with pyarrow installed, a plot with matplotlib."""
    import importlib.util

    if fmt == "parquet" and (output is None or str(output) == "-"):
        raise ArchcalcError("Parquet is written to a file", hint="give -o points.parquet")
    if fmt == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise ArchcalcError("Parquet output needs pyarrow", hint="pip install 'archcalc[parquet]', or write .csv or .jsonl")
    if plot is not None and importlib.util.find_spec("matplotlib") is None:
        raise ArchcalcError("--plot needs matplotlib", hint="pip install 'archcalc[plot]'")


def write_rows(rows: Iterable[dict[str, Any]], fmt: str, output: Path | None, header: list[str]) -> int:
    """Write every row; the number written."""
    if fmt == "parquet":
        return _parquet(rows, output, header)
    count = 0
    with _target(output, binary=False) as handle:
        if fmt == "csv":
            writer = csv.DictWriter(handle, header, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow(row)
                count += 1
        elif fmt == "jsonl":
            for row in rows:
                handle.write(json.dumps({key: row.get(key) for key in header}, ensure_ascii=False) + "\n")
                count += 1
        else:
            widths = [max(len(name), _WIDTH.get(name, 15 if name in METRICS else 8)) for name in header]
            handle.write(_line(header, widths) + "\n" + _line(["-" * w for w in widths], widths) + "\n")
            for row in rows:
                handle.write(_line([_text(row.get(key)) for key in header], widths) + "\n")
                count += 1
    return count


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    return f"{value:,}" if isinstance(value, int) else str(value)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()


def _parquet(rows: Iterable[dict[str, Any]], output: Path | None, header: list[str]) -> int:
    import pyarrow as pa  # check_writers made sure it is installed
    import pyarrow.parquet as pq

    count = 0
    with _target(output, binary=True) as handle:
        writer = None
        batch: list[dict[str, Any]] = []
        for row in itertools.chain(rows, [None]):
            if row is not None:
                batch.append(row)
                if len(batch) < PARQUET_BATCH:
                    continue
            if not batch:
                break
            table = pa.Table.from_pylist([{key: r.get(key) for key in header} for r in batch], schema=_schema(pa, batch, header))
            if writer is None:
                writer = pq.ParquetWriter(handle, table.schema)
            writer.write_table(table)
            count += len(batch)
            batch = []
        if writer is None:
            writer = pq.ParquetWriter(handle, _schema(pa, [], header))
        writer.close()
    return count


def _schema(pa, rows: list[dict[str, Any]], header: list[str]):
    """Column types: counts as int64, the receptive field as float64, shapes and errors as text,
    an argument by its values (int64, float64, bool, else text)."""
    fixed = {"point": pa.int64(), "input": pa.string(), "params": pa.int64(), "macs": pa.int64(), "flops": pa.int64(),
             "activation_bytes": pa.int64(), "rf": pa.float64(), "output_shape": pa.string(), "error": pa.string(),
             "pareto": pa.bool_()}
    fields = []
    for key in header:
        if key in fixed:
            fields.append(pa.field(key, fixed[key]))
            continue
        values = [row.get(key) for row in rows if row.get(key) is not None]
        if values and all(isinstance(v, bool) for v in values):
            kind = pa.bool_()
        elif values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            kind = pa.int64()
        elif values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(key, kind))
    return pa.schema(fields)


def pareto_front(rows: Sequence[dict[str, Any]], metrics: Sequence[str]) -> set[int]:
    """The points (their ``point`` indices) that no other valid point beats: another point dominates
    one when it is no worse in every metric and better in one. Metrics are minimised, those written
    ``max:NAME`` (``max:rf``) maximised."""
    signs = [-1 if m.startswith("max:") else 1 for m in metrics]
    names = [m.removeprefix("max:") for m in metrics]
    candidates = sorted((tuple(sign * row[name] for sign, name in zip(signs, names)), row["point"])
                        for row in rows if row.get("error") is None)
    front: list[tuple[Any, ...]] = []
    chosen: set[int] = set()
    for values, point in candidates:  # a dominating point sorts before the points it dominates
        if any(all(f <= v for f, v in zip(other, values)) and other != values for other in front):
            continue
        front.append(values)
        chosen.add(point)
    return chosen


def plot(points: Sequence[tuple[float, float, bool]], x: str, y: str, fmt: str, title: str) -> bytes:
    """The sweep's points, y against x (log scales for counts), the Pareto points marked, as an
    image in ``fmt`` (svg, png, pdf)."""
    import matplotlib  # check_writers made sure it is installed

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.4), dpi=100)
    plain = [(a, b) for a, b, marked in points if not marked]
    marked = sorted((a, b) for a, b, flag in points if flag)
    if plain:
        axes.scatter(*zip(*plain), s=12, color="#8da0cb", label="points", zorder=2)
    if marked:
        axes.plot(*zip(*marked), "-o", color="#d95f02", markersize=4, label="Pareto front", zorder=3)
    for name, setter in ((x, axes.set_xscale), (y, axes.set_yscale)):
        if name in METRICS and name != "rf":
            setter("log")
    axes.set_xlabel(x)
    axes.set_ylabel(y)
    axes.set_title(title, fontsize=10)
    axes.grid(True, alpha=0.3)
    if plain or marked:
        axes.legend(fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    plt.close(figure)
    return buffer.getvalue()
