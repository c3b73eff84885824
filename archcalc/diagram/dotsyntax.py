"""Writing DOT text safely: every ID and attribute value quoted here, and nowhere else.

Layer names are untrusted text. Helpers that decide for themselves how to quote a string
get them wrong: the ``graphviz`` package reads ``conv:1`` in an edge as node ``conv``, port
``1``, and passes ``<a>b>`` through as an HTML ID. This writer never interprets: an ID or
plain value is always a double-quoted string, an HTML-like label is marked as such by the
caller (:class:`Html`) and its text escaped by :func:`html_text`.

DOT's lexer keeps a backslash pair ``\\\\`` as two characters and reads ``\\"`` as a quote, so a
name's backslashes are written doubled: every name can be written, distinct names stay
distinct (a name's backslashes appear doubled in DOT ids and SVG titles), and values of
Graphviz's escString attributes (tooltips, labels) show them single again. Control and bidi
characters, which would make SVG invalid XML or lie about the text, are shown as ``\\x01``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` with control and bidi characters replaced by a visible ``\\xNN`` / ``\\uNNNN``."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                       text)


def clip(text: str, width: int) -> str:
    """``text`` shortened to ``width`` characters with a trailing '…'."""
    return text if len(text) <= width else text[: width - 1] + "…"


def quote(text: str) -> str:
    """A DOT double-quoted string holding ``text`` literally (see the module docstring)."""
    return '"' + visible(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


class Html(str):
    """The body of an HTML-like label (written as ``<...>``): built from :func:`html_text` pieces."""


def html_text(text: str) -> str:
    """Text for inside an HTML-like label: markup characters escaped, control characters visible."""
    return html.escape(visible(text))


def _value(value: object) -> str:
    if isinstance(value, Html):
        return f"<{value}>"
    return quote(str(value))


def _attributes(attrs: dict[str, object]) -> str:
    return " ".join(f"{key}={_value(value)}" for key, value in sorted(attrs.items()))


class DotWriter:
    """DOT source of one directed graph, built statement by statement."""

    def __init__(self, name: str) -> None:
        self._lines = [f"digraph {quote(name)} {{"]
        self._depth = 1

    def _add(self, statement: str) -> None:
        self._lines.append("\t" * self._depth + statement)

    def graph_attrs(self, **attrs: object) -> None:
        self._add(_attributes(attrs))

    def defaults(self, kind: str, **attrs: object) -> None:
        """Default attributes of every ``node`` or ``edge`` that follows."""
        self._add(f"{kind} [{_attributes(attrs)}]")

    def node(self, node_id: str, **attrs: object) -> None:
        self._add(f"{quote(node_id)} [{_attributes(attrs)}]" if attrs else quote(node_id))

    def edge(self, tail: str, head: str, **attrs: object) -> None:
        text = f"{quote(tail)} -> {quote(head)}"
        self._add(f"{text} [{_attributes(attrs)}]" if attrs else text)

    @contextmanager
    def subgraph(self, name: str) -> Iterator[DotWriter]:
        self._add(f"subgraph {quote(name)} {{")
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
            self._add("}")

    def source(self) -> str:
        return "\n".join([*self._lines, "}"]) + "\n"
