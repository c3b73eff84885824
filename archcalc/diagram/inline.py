"""A diagram as SVG markup to put inside an HTML page (the report, a notebook cell).

Graphviz writes a standalone SVG document: an XML prolog, a DOCTYPE and comments. Inside HTML
only the ``<svg>`` element belongs; the comments hold node names (Graphviz escapes them, but a
page has no use for them), so they go too. Every node carries an id from
:func:`.dot.node_ids`, so the page can link nodes and table rows.
"""

from __future__ import annotations

import re

from ..analysis import Analysis
from ..conventions import Layout
from .dot import DiagramOptions, build_dot, legible, node_ids, node_owners
from .engine import RenderError, render

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<([A-Za-z][^\s/>]*)([^>]*)>")
_ATTRIBUTE = re.compile(r'([^\s=/>]+)\s*=\s*"[^"]*"')
_ACTIVE_ELEMENTS = {"script", "foreignobject", "iframe", "object", "embed"}


def inline_diagram(analysis: Analysis, prefix: str, layout: Layout, depth: int | None = None,
                   only: str | None = None) -> tuple[str, str, dict[str, str], dict[str, str]]:
    """(SVG markup, the note of :func:`.dot.legible` or '', the node that shows each layer, the SVG
    id of each node). Raises ArchcalcError where no renderer works or the network is over the
    diagram limits."""
    options, note = legible(analysis, DiagramOptions(depth=depth, layout=layout, only=only, node_ids=prefix))
    svg = render(build_dot(analysis, options), "svg").decode("utf-8")
    return clean_svg(svg), note or "", node_owners(analysis, options), node_ids(analysis, prefix)


def clean_svg(svg: str) -> str:
    """The ``<svg>`` element alone, without comments. Refuses (RenderError) an element or attribute
    that could run in a page (a script, an event handler, a link): Graphviz escapes every name, so
    this never happens; it is the second lock."""
    start = svg.find("<svg")
    if start < 0:
        raise RenderError("the renderer wrote no <svg> element")
    svg = _COMMENT.sub("", svg[start:]).strip()
    for element, attributes in _TAG.findall(svg):
        names = [name.lower() for name in _ATTRIBUTE.findall(attributes)]
        if element.lower() in _ACTIVE_ELEMENTS or any(name.startswith("on") or name.endswith("href") for name in names):
            raise RenderError(f"the rendered diagram holds active content (<{element[:20]}>): left out of the page")
    return svg
