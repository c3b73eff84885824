"""Reading an archcalc report page back with the standard library's HTML parser (tests only)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser

URL_ATTRIBUTES = {"src", "href", "xlink:href", "action", "formaction", "poster", "data", "background"}


@dataclass
class Row:
    kind: str
    index: int
    attrs: dict[str, str]
    cells: list[str] = field(default_factory=list)  # the text shown
    values: list[str] = field(default_factory=list)  # each cell's data-v: what it sorts by (the name, exact numbers)


@dataclass
class Page:
    rows: dict[str, list[Row]] = field(default_factory=dict)  # by section id (the network's prefix + 'net')
    totals: dict[str, dict[str, str]] = field(default_factory=dict)  # section id -> data-total -> text
    scripts: list[tuple[dict[str, str], str]] = field(default_factory=list)
    urls: list[tuple[str, str, str]] = field(default_factory=list)  # (element, attribute, value)
    elements: list[str] = field(default_factory=list)
    attributes: set[str] = field(default_factory=set)  # every attribute name on the page
    csp: str = ""
    svg_nodes: dict[str, list[str]] = field(default_factory=dict)  # section id -> ids of diagram nodes

    def data(self) -> list[dict]:
        """The JSON block the page's script reads."""
        (text,) = [text for attrs, text in self.scripts if attrs.get("type") == "application/json"]
        return json.loads(text)

    def layer_names(self, section: str) -> list[str]:
        return [row.values[1] for row in self.rows[section] if row.kind == "layer"]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.section: str | None = None
        self.row: Row | None = None
        self.cell: list[str] | None = None
        self.total: str | None = None
        self.script: tuple[dict[str, str], list[str]] | None = None

    def handle_starttag(self, tag: str, attrs_list) -> None:
        attrs = {key: value or "" for key, value in attrs_list}
        self.page.elements.append(tag)
        self.page.attributes.update(attrs)
        for key, value in attrs.items():
            if key in URL_ATTRIBUTES:
                self.page.urls.append((tag, key, value))
        if tag == "meta" and attrs.get("http-equiv", "").lower() == "content-security-policy":
            self.page.csp = attrs.get("content", "")
        if tag == "section" and "data-net" in attrs:
            self.section = attrs["id"]
            self.page.rows[self.section] = []
            self.page.totals[self.section] = {}
            self.page.svg_nodes[self.section] = []
        if tag == "g" and "node" in attrs.get("class", "").split() and self.section:
            self.page.svg_nodes[self.section].append(attrs.get("id", ""))
        if tag == "tr" and "data-kind" in attrs and self.section:
            self.row = Row(attrs["data-kind"], int(attrs["data-index"]), attrs)
            self.page.rows[self.section].append(self.row)
        if tag == "td" and self.row is not None:
            self.cell = []
            self.row.values.append(attrs.get("data-v", ""))
        if "data-total" in attrs and self.section:
            self.total = attrs["data-total"]
            self.page.totals[self.section][self.total] = ""
        if tag == "script":
            self.script = (attrs, [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.row is not None and self.cell is not None:
            self.row.cells.append("".join(self.cell))
            self.cell = None
        if tag == "tr":
            self.row = None
        if tag in ("p", "span"):
            self.total = None
        if tag == "script" and self.script is not None:
            self.page.scripts.append((self.script[0], "".join(self.script[1])))
            self.script = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        if self.total is not None and self.section:
            self.page.totals[self.section][self.total] += data
        if self.script is not None:
            self.script[1].append(data)


def parse_page(text: str) -> Page:
    parser = _Parser()
    parser.feed(text)
    parser.close()
    return parser.page
