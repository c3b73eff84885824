"""Turn DOT source into SVG, PNG or PDF with whichever Graphviz is available.

Order of preference: Graphviz's own ``dot`` on PATH (every format), then ``graphviz-pure``,
the pure-Rust port of Graphviz that archcalc depends on, so that a fresh
``pip install archcalc`` renders with no system package (SVG and PNG; it has no PDF yet).
DOT output needs no renderer at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..errors import ArchcalcError

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


def render(source: str, fmt: str) -> bytes:
    """The rendered diagram, or RenderError with the renderer's message."""
    if fmt == "dot":
        return source.encode("utf-8")
    command = choose_renderer(fmt)
    result = subprocess.run(command, input=source.encode("utf-8"), capture_output=True, check=False)
    if result.returncode != 0 or not result.stdout:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"{Path(command[0]).name} failed: {message[-1] if message else 'no output'}")
    return result.stdout
