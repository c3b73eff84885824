"""The summary's plain text table (archcalc/report/plain.py) against tabulate itself, the library
whose "simple" layout it writes out: on every built-in spec, and on hostile cell text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tabulate import tabulate

from archcalc.report.plain import simple_table
from archcalc.report.table import TableOptions, _cells, _headers
from archcalc.report.rows import display_rows
from archcalc.zoo import zoo_entries
from conftest import zoo


def reference(rows, headers, align) -> str:
    return tabulate(rows, headers, tablefmt="simple", colalign=align, disable_numparse=True)


@pytest.mark.parametrize("name", [entry.name for entry in zoo_entries()][::7])
def test_equal_to_tabulate_on_builtin_specs(name):
    analysis = zoo(name)
    options = TableOptions()
    headers, align = _headers(analysis, options)
    cells = _cells(display_rows(analysis, options.depth, options.module_totals), options, True)
    assert simple_table(cells, headers, align) == reference(cells, headers, align)


text = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12)
header = text.filter(lambda h: h.strip() == h != "")  # archcalc's own column titles
# Cells are any text a hostile spec can put in a name (no control characters: names refuse them);
# a summary always has rows (the input at least).


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 4).flatmap(lambda n: st.tuples(
    st.lists(header, min_size=n, max_size=n),
    st.lists(st.lists(text, min_size=n, max_size=n), min_size=1, max_size=5),
    st.lists(st.sampled_from(["left", "right"]), min_size=n, max_size=n))))
def test_equal_to_tabulate_on_any_text(case):
    headers, rows, align = case
    assert simple_table(rows, headers, align) == reference(rows, headers, align)
