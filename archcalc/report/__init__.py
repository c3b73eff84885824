"""Renderers: pure functions of an Analysis. They never ask a layer's type."""

from .columns import COLUMNS, DEFAULT_COLUMNS, Layout
from .json_report import to_json, to_json_dict
from .table import FORMATS, TableOptions, render

__all__ = ["COLUMNS", "DEFAULT_COLUMNS", "FORMATS", "Layout", "TableOptions", "render", "to_json", "to_json_dict"]
