"""Safe YAML loading that remembers line numbers.

PyYAML's safe loader gives plain dicts and lists, which forget where they came from.
Errors must say ``file:line``, so mappings and sequences are built as :class:`LineMap`
and :class:`LineList`: ordinary ``dict`` / ``list`` subclasses carrying the line of
the node and of each key or item. Only the safe constructors are used (no Python
object tags), and duplicate keys are an error instead of last-one-wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import Source, SpecError

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineMap(dict):
    """A mapping that knows its own line and the line of each key."""

    line: int | None = None
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int | None:
        return getattr(self, "key_lines", {}).get(key, self.line)


class LineList(list):
    """A sequence that knows its own line and the line of each item."""

    line: int | None = None
    item_lines: list[int]

    def line_of(self, index: int) -> int | None:
        lines = getattr(self, "item_lines", [])
        return lines[index] if 0 <= index < len(lines) else self.line


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader whose containers carry line numbers."""


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    result = LineMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise SpecError(f"a mapping key must be a plain value, found {key!r}", source=Source("", line)) from None
        if key in result:
            raise SpecError(
                f"duplicate key '{key}' (first on line {result.key_lines[key]})",
                source=Source("", line),
                hint="YAML would silently keep only the last one; remove or rename one of them",
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: Any, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


MAX_VALUES = 1_000_000
"""Documents expanding to more values than this are refused (YAML alias bombs)."""


def check_expansion(value: Any, max_values: int, max_depth: int | None = None) -> None:
    """ValueError when ``value``, every YAML alias expanded at each use, holds more than
    ``max_values`` values or nests deeper than ``max_depth``. Linear in the unique nodes:
    an alias bomb is measured without being expanded."""
    memo: dict[int, int] = {}

    def size(item: Any, depth: int) -> int:
        if max_depth is not None and depth > max_depth:
            raise ValueError(f"nested more than {max_depth} levels deep")
        if not isinstance(item, (list, dict)):
            return 1
        key = id(item)
        if key not in memo:
            memo[key] = max_values + 1  # reached again while being counted: a recursive structure
            total = 1
            for child in item.values() if isinstance(item, dict) else item:
                total += size(child, depth + 1)
                if total > max_values:
                    raise ValueError(f"more than {max_values:,} values (YAML aliases?)")
            memo[key] = total
        return memo[key]

    size(value, 0)


def load_yaml_text(text: str, file: str) -> Any:
    """Parse YAML text safely; every failure is a :class:`SpecError` at ``file:line``."""
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except SpecError as err:
        raise SpecError(err.message, source=Source(file, err.source.line if err.source else None), hint=err.hint) from None
    except yaml.MarkedYAMLError as err:
        raise _yaml_error(err, file) from None
    except yaml.YAMLError as err:
        raise SpecError(f"invalid YAML: {err}", source=Source(file)) from None
    except RecursionError:
        raise SpecError("invalid YAML: nested too deeply", source=Source(file)) from None
    try:
        check_expansion(document, MAX_VALUES)
    except ValueError:
        raise SpecError(
            f"the document expands to more than {MAX_VALUES:,} values",
            source=Source(file),
            hint="YAML aliases (*name) that reuse other aliases multiply; write the values out",
        ) from None
    return document


def _yaml_error(err: yaml.MarkedYAMLError, file: str) -> SpecError:
    """Point at the construct the parser was in (an unclosed '{'), not where it gave up."""
    problem = err.problem or "invalid YAML"
    mark = err.context_mark or err.problem_mark
    line = mark.line + 1 if mark is not None else None
    if err.context_mark is not None and err.problem_mark is not None and err.problem_mark.line != err.context_mark.line:
        problem += f" ({err.context} that starts here; the parser gave up on line {err.problem_mark.line + 1})"
    elif err.context:
        problem += f" ({err.context})"
    return SpecError(f"invalid YAML: {problem}", source=Source(file, line))


def load_yaml_file(path: Path) -> Any:
    """Read and parse a YAML file; unreadable files are a :class:`SpecError` too."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"cannot read the file: {err}", source=Source(str(path))) from None
    return load_yaml_text(text, str(path))
