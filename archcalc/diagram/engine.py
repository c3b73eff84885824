"""Turn DOT source into SVG, PNG or PDF with whichever Graphviz is available.

Order of preference: Graphviz's own ``dot`` on PATH (every format), then ``graphviz-pure``,
the pure-Rust port of Graphviz that archcalc depends on, so that a fresh
``pip install archcalc`` renders with no system package (SVG and PNG; it has no PDF yet).
DOT output needs no renderer at all.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import ArchcalcError
from ..limits import MAX_RASTER_PIXELS, MAX_RENDER_SECONDS

FORMATS = ("svg", "png", "pdf", "dot")
PURE_FORMATS = ("svg", "png")


class RenderError(ArchcalcError):
    """No renderer can produce the requested format, or the renderer failed."""


def _find(program: str) -> str | None:
    """A program on PATH, or beside this Python (a venv's bin/ that is not on PATH)."""
    found = shutil.which(program)
    if found:
        return found
    candidate = Path(sys.executable).parent / program
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def choose_renderer(fmt: str) -> list[str]:
    """The command that renders DOT on stdin to ``fmt`` on stdout."""
    dot = _find("dot")
    if dot:
        return [dot, f"-T{fmt}"]
    pure = _find("graphviz-pure")
    if pure and fmt in PURE_FORMATS:
        return [pure, f"-T{fmt}"]
    if pure:
        raise RenderError(
            f"{fmt.upper()} output needs Graphviz's 'dot', which is not installed (graphviz-pure renders SVG and PNG)",
            hint="write .svg or .png, or install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)",
        )
    raise RenderError(
        "no Graphviz renderer found: neither 'dot' nor 'graphviz-pure' is installed",
        hint="pip install graphviz-pure (archcalc's own dependency; reinstall archcalc), or install Graphviz; "
             "'-o diagram.dot' needs no renderer",
    )


def render(source: str, fmt: str, warn: Callable[[str], None] | None = None) -> bytes:
    """The rendered diagram, or RenderError with the renderer's message.

    The renderer runs under a deadline (MAX_RENDER_SECONDS): Graphviz's layout takes minutes
    on some graphs well within the node limit. A PNG is laid out as SVG first, to learn its
    size, and drawn at a lower resolution when it would exceed MAX_RASTER_PIXELS (``warn``
    says so): a large drawing must not need gigabytes."""
    if fmt == "dot":
        return source.encode("utf-8")
    command = choose_renderer(fmt)
    deadline = time.monotonic() + MAX_RENDER_SECONDS
    if fmt == "png":
        width, height = _svg_size(_run([*command[:-1], "-Tsvg"], source, deadline))
        pixels = (width / 72 * _DPI) * (height / 72 * _DPI)
        if pixels > MAX_RASTER_PIXELS:
            dpi = _DPI * math.sqrt(MAX_RASTER_PIXELS / pixels)
            command = [*command, f"-Gdpi={dpi:.2f}"]
            if warn is not None:
                warn(f"the drawing is {pixels:,.0f} pixels at {_DPI} dpi, over the limit of "
                     f"{MAX_RASTER_PIXELS:,} (MAX_RASTER_PIXELS): drawn at {dpi:.0f} dpi instead; "
                     "write SVG for full detail, or draw less with --depth or --only")
    return _run(command, source, deadline)


_DPI = 96  # Graphviz's resolution for PNG


def _run(command: list[str], source: str, deadline: float) -> bytes:
    name = Path(command[0]).name
    try:
        result = subprocess.run(command, input=source.encode("utf-8"), capture_output=True, check=False,
                                timeout=max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        raise RenderError(f"{name} did not finish within {MAX_RENDER_SECONDS} s (MAX_RENDER_SECONDS)",
                          hint="draw less with --depth N or --only PREFIX, or write .dot and run Graphviz yourself") from None
    if result.returncode != 0 or not result.stdout:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"{name} failed: {message[-1] if message else 'no output'}")
    return result.stdout


_SVG_SIZE = re.compile(rb'<svg[^>]*?width="([0-9.]+)pt"[^>]*?height="([0-9.]+)pt"', re.S)


def _svg_size(svg: bytes) -> tuple[float, float]:
    """(width, height) in points of an SVG Graphviz wrote."""
    match = _SVG_SIZE.search(svg[:4096])
    if match is None:
        raise RenderError("cannot read the size of the laid-out drawing")
    return float(match.group(1)), float(match.group(2))
