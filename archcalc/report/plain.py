"""The plain text table of ``archcalc summary``: tabulate's "simple" layout, written out.

Importing tabulate costs about 45 ms (it reads its own version with importlib.metadata) and it
inspects every cell to guess its type, which the summary's 10,000-row tables feel: the default
text table, on every run's hot path, is laid out here in one pass instead. The other styles
(Markdown, LaTeX, the compare and bench tables) stay with tabulate; a test holds this layout equal
to tabulate's on every built-in spec and on hostile text.
"""

from __future__ import annotations

from collections.abc import Sequence


def simple_table(rows: Sequence[Sequence[object]], headers: Sequence[str], align: Sequence[str]) -> str:
    """tabulate(rows, headers, tablefmt="simple", colalign=align, disable_numparse=True): each column
    as wide as its widest cell and at least its header plus two, cells stripped, columns two spaces
    apart, right- or left-aligned, trailing spaces dropped."""
    cells = [[str(cell).strip() for cell in row] for row in rows]
    names = [str(header).strip() for header in headers]
    widths = [max(len(name) + 2, *(len(row[i]) for row in cells)) if cells else len(name) + 2
              for i, name in enumerate(names)]
    right = [side == "right" for side in align]

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.rjust(width) if r else value.ljust(width)
                         for value, width, r in zip(values, widths, right)).rstrip()

    return "\n".join([line(names), "  ".join("-" * width for width in widths), *map(line, cells)])
