"""Safe YAML loading that remembers line numbers.

PyYAML's safe loader gives plain dicts and lists, which forget where they came from.
Errors must say ``file:line``, so mappings and sequences are built as :class:`LineMap`
and :class:`LineList`: ordinary ``dict`` / ``list`` subclasses carrying the line of
the node and of each key or item. Only the safe constructors are used (no Python
object tags), and duplicate keys are an error instead of last-one-wins.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from .errors import Source, SpecError
from .limits import MAX_INT_DIGITS, MAX_SPEC_BYTES, MAX_YAML_DEPTH, MAX_YAML_VALUES

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineMap(dict):
    """A mapping that knows its own line and the line of each key. Slots, not an attribute
    dictionary: a spec holds one per layer entry. Whoever makes one sets ``line``."""

    __slots__ = ("line", "key_lines")
    line: int | None
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int | None:
        return getattr(self, "key_lines", {}).get(key, self.line)


class LineList(list):
    """A sequence that knows its own line and the line of each item (slots, as LineMap)."""

    __slots__ = ("line", "item_lines")
    line: int | None
    item_lines: list[int]

    def line_of(self, index: int) -> int | None:
        lines = getattr(self, "item_lines", [])
        return lines[index] if 0 <= index < len(lines) else self.line


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader whose containers carry line numbers."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        """The tag PyYAML's resolver gives a node whose tag is not written. A plain scalar's tag
        depends only on its text (the safe resolver has no path resolvers), and a spec repeats
        the same few (``conv2d``, ``3``, ``relu``), on which PyYAML would try its regular
        expressions anew: a quarter of composing a 10,000-layer spec. Short ones are cached."""
        if kind is not yaml.ScalarNode:
            return _MAP if kind is yaml.MappingNode else _SEQ
        if not implicit[0]:
            return super().resolve(kind, value, implicit)
        tag = _PLAIN_TAGS.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(value) <= 64 and len(_PLAIN_TAGS) < 4096:  # bounded: a few hundred KB whatever the input
                _PLAIN_TAGS[value] = tag
        return tag

    # The composer calls these two hooks around every node, for path resolvers, which the safe
    # loader has none of: C callables that do nothing instead of two Python calls per node.
    descend_resolver = staticmethod({}.get)  # (parent, index): looks up nothing
    ascend_resolver = staticmethod(tuple)


_PLAIN_TAGS: dict[str, str] = {}


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_VALUE = "tag:yaml.org,2002:value"


def _construct(loader: Any, node: yaml.Node) -> Any:
    """``loader.construct_object(node, deep=True)``, with the commonest scalars built at once: text,
    and a plain decimal integer (no sign, underscore, base prefix or YAML 1.1 leading-zero octal,
    which keep PyYAML's own constructor)."""
    if type(node) is yaml.ScalarNode:
        value, tag = node.value, node.tag
        if tag == _STR:
            return value
        if tag == _INT and _is_decimal(value):
            return int(value)
    return loader.construct_object(node, deep=True)


def _is_decimal(text: str) -> bool:
    """A plain decimal integer: no sign, underscore, base prefix or YAML 1.1 leading-zero octal."""
    return text.isascii() and text.isdigit() and (text[0] != "0" or text == "0")


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> LineMap:
    """A mapping with its lines; a key written twice is an error (``<<`` keys: see :func:`_merged`)."""
    result = LineMap()
    result.line = node.start_mark.line + 1
    result.key_lines = key_lines = {}
    merges = []
    for key_node, value_node in node.value:
        tag = key_node.tag
        if tag == _MERGE:
            merges.append(value_node)
            continue
        if tag == _VALUE:  # YAML's '=' key, which PyYAML reads as text
            key_node.tag = _STR
        key = _construct(loader, key_node)
        line = key_node.start_mark.line + 1
        try:
            first = key_lines.get(key)
        except TypeError:  # unhashable: a list or mapping as a key
            raise SpecError(f"a mapping key must be a plain value, found {key!r}", source=Source("", line)) from None
        if first is not None:
            raise SpecError(
                f"duplicate key '{key}' (first on line {first})",
                source=Source("", line),
                hint="YAML would silently keep only the last one; remove or rename one of them",
            )
        result[key] = _construct(loader, value_node)
        key_lines[key] = line
    return _merged(loader, result, merges) if merges else result


def _merged(loader: Any, written: LineMap, merges: list[yaml.Node]) -> LineMap:
    """``written`` with the keys its ``<<`` keys merge in: a key written here wins over a merged one,
    as YAML's merge key means, and among several merged mappings the first that has a key gives it;
    merged keys come first, in PyYAML's order."""
    result = LineMap()
    result.line = written.line
    result.key_lines = key_lines = {}
    for merged in _merged_mappings(loader, merges):
        for key in merged:
            if key not in result:
                source = written if key in written else merged
                result[key] = source[key]
                key_lines[key] = source.line_of(key)
    for key, value in written.items():
        if key not in result:
            result[key] = value
            key_lines[key] = written.key_lines[key]
    return result


def _merged_mappings(loader: Any, merges: list[yaml.Node]) -> list[LineMap]:
    """The mappings that ``<<`` keys merge in, in order: each key's value is a mapping or a list of
    mappings."""
    mappings = []
    for value_node in merges:
        for part in value_node.value if type(value_node) is yaml.SequenceNode else [value_node]:
            built = _construct(loader, part)
            if not isinstance(built, LineMap):  # a list, a single value, or a tagged !!set or !!omap
                found = "a list" if isinstance(built, list) else "a set" if isinstance(built, set) else "a single value"
                if part is not value_node:
                    found = f"a list holding {found}"
                raise SpecError(f"'<<' merges a mapping or a list of mappings, found {found}",
                                source=Source("", part.start_mark.line + 1),
                                hint="write '<<: *name' where '&name' marks a mapping")
            mappings.append(built)
    return mappings


def _construct_sequence(loader: Any, node: yaml.SequenceNode) -> LineList:
    result = LineList(_construct(loader, child) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(_MAP, _construct_mapping)
_Loader.add_constructor(_SEQ, _construct_sequence)


class _TooMuch(Exception):
    """A document over one of the limits, at a YAML node."""

    def __init__(self, message: str, node: yaml.Node, hint: str | None = None) -> None:
        super().__init__(message)
        self.line = node.start_mark.line + 1
        self.hint = hint


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


_NUMBER_TAGS = frozenset((_INT, "tag:yaml.org,2002:float"))


def _scalar_fits(node: yaml.ScalarNode, max_int_digits: int) -> bool:
    """False where :func:`_check_scalar` would refuse a number."""
    try:
        _check_scalar(node, max_int_digits)
    except _TooMuch:
        return False
    return True


def _check_scalar(node: yaml.Node, max_int_digits: int) -> None:
    """Integer literals: no wider than the limit (Python refuses to convert over 4,300
    digits), and no YAML 1.1 base-60 numbers (``3:3`` would silently be 183)."""
    if node.tag == _INT:
        digits = sum(ch.isdigit() for ch in node.value)
        if digits > max_int_digits:
            raise _TooMuch(f"an integer of {digits:,} digits is over the limit of {max_int_digits} digits", node,
                           "no size archcalc accepts needs more (see 'archcalc docs limits')")
    if node.tag in _NUMBER_TAGS and ":" in node.value:
        raise _TooMuch(f"'{node.value}' is a base-60 number in YAML 1.1", node,
                       "quote it if it is text; write [h, w] for a pair")


class _NotPlain(Exception):
    """The document is not a plain tree within the limits; the composed path (:func:`_built_from_nodes`)
    takes it."""


class _PlainBuilder:
    """Builds a document straight from the parser's events, without composing PyYAML's node tree.

    A spec is nearly always a plain tree: no anchor, alias, written tag or merge key, no key
    written twice, within the limits. Such a document is built here as it is parsed, which takes
    two thirds of the time of composing every node (with two marks each) and then building from
    the nodes, and never holds the nodes (2 KB per layer entry) in memory. At the first sign of
    anything else it raises :class:`_NotPlain`, and the document is parsed again the general way,
    where :func:`check_nodes` and PyYAML's constructors word every problem: this class decides only
    that a document is plain and fits, and builds the same values and line tables as that path
    (tests/test_hostile.py holds the two equal).

    Limits, counted as check_nodes counts them: every key, value and container is one value; the
    root is at depth 1 and each container's keys and items one deeper; numbers pass
    :func:`_check_scalar`.
    """

    def __init__(self, loader: Any, max_values: int, max_depth: int, max_int_digits: int) -> None:
        self.loader, self.next_event, self.resolve = loader, loader.get_event, loader.resolve
        self.values_left, self.max_depth, self.max_int_digits = max_values, max_depth, max_int_digits

    def document(self) -> Any:
        """The single document of the stream (None for an empty stream)."""
        next_event = self.next_event
        next_event()  # stream start
        if type(next_event()) is yaml.StreamEndEvent:
            return None
        root = self.node(next_event(), 1)
        next_event()  # document end
        if type(next_event()) is not yaml.StreamEndEvent:  # a second document: the composer words the error
            raise _NotPlain
        return root

    def node(self, event: yaml.Event, depth: int) -> Any:
        self.values_left -= 1
        if self.values_left < 0 or depth > self.max_depth or event.anchor is not None:  # type: ignore[attr-defined]
            raise _NotPlain
        kind = type(event)
        if kind is yaml.ScalarEvent:
            return self.scalar(event)
        if event.tag is not None:  # type: ignore[attr-defined]
            raise _NotPlain
        if kind is yaml.MappingStartEvent:
            return self.mapping(event.start_mark.line + 1, depth + 1)
        if kind is yaml.SequenceStartEvent:
            return self.sequence(event.start_mark.line + 1, depth + 1)
        raise _NotPlain  # an alias

    def scalar(self, event: yaml.ScalarEvent) -> Any:
        if event.tag is not None:
            raise _NotPlain
        value = event.value
        tag = self.resolve(yaml.ScalarNode, value, event.implicit)
        if tag == _STR:
            return value
        if tag == _INT and len(value) <= self.max_int_digits and _is_decimal(value):
            return int(value)
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark)
        if tag == _MERGE or tag == _VALUE or not _scalar_fits(node, self.max_int_digits):
            raise _NotPlain
        return _construct(self.loader, node)

    def mapping(self, line: int, depth: int) -> LineMap:
        result = LineMap()
        result.line = line
        result.key_lines = key_lines = {}
        next_event, node = self.next_event, self.node
        while True:
            event = next_event()
            kind = type(event)
            if kind is yaml.MappingEndEvent:
                return result
            if kind is not yaml.ScalarEvent:  # a list or mapping as a key
                raise _NotPlain
            key = node(event, depth)
            if key in key_lines:  # written twice
                raise _NotPlain
            key_lines[key] = event.start_mark.line + 1
            result[key] = node(next_event(), depth)

    def sequence(self, line: int, depth: int) -> LineList:
        result = LineList()
        result.line = line
        result.item_lines = item_lines = []
        next_event, node = self.next_event, self.node
        while True:
            event = next_event()
            if type(event) is yaml.SequenceEndEvent:
                return result
            item_lines.append(event.start_mark.line + 1)
            result.append(node(event, depth))


def check_nodes(root: yaml.Node, max_values: int, max_depth: int, max_int_digits: int = MAX_INT_DIGITS) -> None:
    """Refuse a composed document that, every alias expanded where it is used, holds more than
    ``max_values`` values, nests deeper than ``max_depth``, refers to itself, or holds an
    over-long integer; the error carries the line of the node where the limit is crossed.

    Iterative and linear in the unique nodes: an alias bomb is measured without being
    expanded (each node's expanded size and height are memoized)."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values once expanded, height)
    active: set[int] = set()  # nodes on the current path: meeting one again is a cycle
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, finished = stack.pop()
        key = id(node)
        if finished:
            children = [sizes[id(child)] for child in _children(node)]
            total = 1 + sum(size for size, _ in children)
            height = 1 + max((h for _, h in children), default=0)
            active.discard(key)
            sizes[key] = (total, height)
            if total > max_values:
                aliased = len(sizes) < total // 2  # far fewer nodes written than values counted
                raise _TooMuch(f"the document expands to more than {max_values:,} values", node,
                               "YAML aliases (*name) that reuse other aliases multiply; write the values out"
                               if aliased else "see 'archcalc docs limits'")
            continue
        if key in sizes:
            if depth + sizes[key][1] - 1 > max_depth:
                raise _TooMuch(f"nested more than {max_depth} levels deep (through an alias)", node)
            continue
        if key in active:
            raise _TooMuch("an alias refers to a node that contains it", node, "YAML anchors cannot nest themselves")
        if depth > max_depth:
            raise _TooMuch(f"nested more than {max_depth} levels deep", node)
        if isinstance(node, yaml.ScalarNode):
            _check_scalar(node, max_int_digits)
            sizes[key] = (1, 1)
            continue
        active.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node))


def _built_plain(text: str, loader: type, max_values: int, max_depth: int) -> Any:
    instance = loader(text)
    try:
        return _PlainBuilder(instance, max_values, max_depth, MAX_INT_DIGITS).document()
    finally:
        instance.dispose()


def _built_from_nodes(text: str, loader: type, max_values: int, max_depth: int) -> Any:
    """The general path: compose the document's nodes, check them (:func:`check_nodes`), build."""
    instance = loader(text)
    try:
        node = instance.get_single_node()
        if node is None:
            return None
        check_nodes(node, max_values, max_depth)
        return instance.construct_document(node)
    finally:
        instance.dispose()


def parse_yaml(text: str, file: str, loader: type = _Loader, max_values: int = MAX_YAML_VALUES,
               max_depth: int = MAX_YAML_DEPTH) -> Any:
    """Parse YAML text safely within the limits; every failure is a :class:`SpecError` at
    ``file:line``. A plain document is built as it is parsed (:class:`_PlainBuilder`); any other
    is composed, checked and built (:func:`_built_from_nodes`)."""
    try:
        try:
            return _built_plain(text, loader, max_values, max_depth)
        except _NotPlain:
            return _built_from_nodes(text, loader, max_values, max_depth)
    except _TooMuch as err:
        raise SpecError(str(err), source=Source(file, err.line), hint=err.hint) from None
    except SpecError as err:
        raise SpecError(err.message, source=Source(file, err.source.line if err.source else None), hint=err.hint) from None
    except yaml.reader.ReaderError as err:
        raise SpecError(f"invalid YAML: {_reader_problem(err)}", source=Source(file, _reader_line(text, err.position)),
                        hint="remove the character, or write it as an escape inside a double-quoted string") from None
    except yaml.MarkedYAMLError as err:
        raise _yaml_error(err, file) from None
    except yaml.YAMLError as err:
        raise SpecError(f"invalid YAML: {err}", source=Source(file)) from None
    except RecursionError:  # only without libyaml, whose parser stops at 1,000 levels itself
        raise SpecError(f"invalid YAML: nested more than {max_depth} levels deep", source=Source(file)) from None


def load_yaml_text(text: str, file: str) -> Any:
    """A spec or key from YAML text (containers carry line numbers)."""
    return parse_yaml(text, file)


def _reader_problem(err: yaml.reader.ReaderError) -> str:
    character = err.character if isinstance(err.character, int) else ord(err.character[:1] or "\0")
    return f"the character U+{character:04X} is not allowed in YAML ({err.reason})"


def _reader_line(text: str, position: int) -> int:
    """Line of a reader error: libyaml counts UTF-8 bytes, the pure-Python reader characters."""
    prefix = text.encode("utf-8")[:position] if _BaseLoader is not yaml.SafeLoader else text[:position].encode("utf-8")
    return prefix.count(b"\n") + 1


def _yaml_error(err: yaml.MarkedYAMLError, file: str) -> SpecError:
    """A parse error at the line to fix: for an unclosed bracket or quote the line where it
    opens (the parser only notices lines later); for a block mapping or list, the line whose
    indentation broke it (where the parser gave up), with the line the block starts on."""
    problem = err.problem or "invalid YAML"
    context, start, stop = err.context or "", err.context_mark, err.problem_mark
    hint = None
    if start is not None and stop is not None and stop.line != start.line:
        if context.startswith("while parsing a block"):
            kind = context.removeprefix("while parsing a ")
            problem += f" (in the {kind} that starts on line {start.line + 1})"
            line = stop.line + 1
            hint = _INDENT_HINT
        else:
            problem += f" ({context} that starts here; the parser gave up on line {stop.line + 1})"
            line = start.line + 1
    else:
        if context:
            problem += f" ({context})"
        mark = start or stop
        line = mark.line + 1 if mark is not None else None
        if problem.startswith("mapping values are not allowed"):
            hint = _INDENT_HINT + "; a value that contains ': ' must be quoted"
    return SpecError(f"invalid YAML: {problem}", source=Source(file, line), hint=hint)


_INDENT_HINT = ("check this line's indentation against the lines above: the entries of one list, "
                "and the fields of one mapping, start in the same column")


def read_text(path: Path, limit: int) -> str:
    """The text of a regular UTF-8 file of at most ``limit`` bytes, or a located SpecError.

    The file is opened without blocking and checked with ``fstat`` before anything is read,
    so a FIFO, a device (``/dev/zero``) or a directory is refused at once instead of hanging
    or filling memory; at most ``limit + 1`` bytes are ever read. A byte-order mark is dropped.
    """
    file = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise SpecError(f"cannot read the file: {err.strerror or err}", source=Source(file)) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe, socket or device)"
        raise SpecError(f"cannot read the file: it is {kind}", source=Source(file))
    with os.fdopen(fd, "rb") as handle:
        data = b"" if info.st_size > limit else handle.read(limit + 1)
    if info.st_size > limit or len(data) > limit:
        raise SpecError(f"the file is larger than the limit of {limit:,} bytes", source=Source(file),
                        hint="see 'archcalc docs limits'")
    return decode_utf8(data, file)


def decode_utf8(data: bytes, file: str) -> str:
    """UTF-8 text (a leading byte-order mark dropped); an undecodable byte is a located error."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise SpecError(f"not UTF-8 text: byte 0x{data[err.start]:02x} at column {column} cannot be decoded",
                        source=Source(file, line), hint="save the file as UTF-8") from None


def load_yaml_file(path: Path) -> Any:
    """Read and parse a spec or key file within :data:`MAX_SPEC_BYTES`."""
    return load_yaml_text(read_text(path, MAX_SPEC_BYTES), str(path))
