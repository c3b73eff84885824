"""An imported network, whatever it came from, and the one way it becomes a spec.

An importer (PyTorch's torch.fx, ONNX) produces :class:`ImportedOp` records in topological order:
each the archcalc layer type and fields of one operation, the operations it reads, and where it
sits in the model's module hierarchy. :func:`to_spec` turns them into YAML a person would write:

- every module of the hierarchy that reads one tensor and hands one tensor on becomes a module
  instance; instances of one class with the same structure share one module definition, the
  field values that differ between them becoming its arguments;
- containers (``nn.Sequential``, ``nn.ModuleList``) are not modules of their own: their children
  are named with the container's path (``layer1.0``), so the state_dict keys stay PyTorch's;
- consecutive copies of one definition with the same arguments, numbered as a container numbers
  its children, become one entry with ``repeat`` and ``repeat_from``;
- every other operation is a layer named after its module path (``downsample.0``), or after the
  function it calls (``add``, ``cat``) within its module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

NETWORK_INPUT = -1
CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict"})


@dataclass
class ImportedOp:
    path: tuple[str, ...]  # the module hierarchy above the operation (('layer1', '0'))
    local: str  # its name there ('conv1', 'add')
    tag: str  # archcalc layer type
    fields: dict[str, Any]
    inputs: list[int]  # indices of the operations it reads, NETWORK_INPUT for the model's input
    functional: bool = False
    where: str = ""  # for messages: the node and its source
    shape: tuple[int, ...] | None = None  # the output shape the model computes (for --check)
    defaults: set[str] = field(default_factory=set)  # fields equal to their default: left out unless an argument


@dataclass
class ImportedNetwork:
    name: str
    source: str  # what the user named
    input_shape: tuple[int, ...]
    ops: list[ImportedOp]
    classes: dict[tuple[str, ...], str] = field(default_factory=dict)  # module path -> class name
    outputs: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said in the spec's description and on stderr


# ---- the module tree --------------------------------------------------------------------------


@dataclass
class _Scope:
    path: tuple[str, ...]
    cls: str
    items: list[Any] = field(default_factory=list)  # op indices and child _Scopes, in first-use order
    members: set[int] = field(default_factory=set)  # every op index below

    @property
    def last(self) -> int:
        return max(self.members)


def _tree(network: ImportedNetwork) -> _Scope:
    root = _Scope((), network.name)
    scopes: dict[tuple[str, ...], _Scope] = {(): root}
    for index, op in enumerate(network.ops):
        parent = root
        for depth in range(1, len(op.path) + 1):
            path = op.path[:depth]
            if path not in scopes:
                scopes[path] = _Scope(path, network.classes.get(path, "Module"))
                parent.items.append(scopes[path])
            parent = scopes[path]
        parent.items.append(index)
        for depth in range(len(op.path) + 1):
            scopes[op.path[:depth]].members.add(index)
    return root


def _readers(network: ImportedNetwork) -> dict[int, set[int]]:
    readers: dict[int, set[int]] = {}
    for index, op in enumerate(network.ops):
        for source in op.inputs:
            readers.setdefault(source, set()).add(index)
    return readers


def _external_inputs(network: ImportedNetwork, scope: _Scope) -> set[int]:
    return {source for index in scope.members for source in network.ops[index].inputs if source not in scope.members}


def _is_instance(network: ImportedNetwork, scope: _Scope, readers: dict[int, set[int]]) -> bool:
    """A module instance: not a container, two or more operations, one tensor in and one out."""
    if not scope.path or scope.cls in CONTAINERS or len(scope.members) < 2:
        return False
    if len(_external_inputs(network, scope)) != 1:
        return False
    leaving = {index for index in scope.members
               if index in network.outputs or any(reader not in scope.members for reader in readers.get(index, ()))}
    return leaving == {scope.last}


# ---- entries of a body --------------------------------------------------------------------------


@dataclass
class _Entry:
    name: str
    first: int  # the lowest op index it holds (for ordering)
    members: set[int]
    output: int  # the op whose tensor it hands on
    reads: list[int]  # ops outside it that it reads, in order
    op: int | None = None  # a layer
    scope: _Scope | None = None  # a module instance
    definition: str = ""
    args: list[Any] = field(default_factory=list)
    repeat: int = 1
    repeat_from: int = 0


def _relative(path: tuple[str, ...], base: tuple[str, ...]) -> str:
    return ".".join(path[len(base):])


def _entries(network: ImportedNetwork, scope: _Scope, base: tuple[str, ...], readers) -> list[_Entry]:
    entries: list[_Entry] = []
    for item in scope.items:
        if isinstance(item, int):
            op = network.ops[item]
            entries.append(_Entry(_relative((*op.path, op.local), base), item, {item}, item, list(op.inputs), op=item))
        elif _is_instance(network, item, readers):
            reads = sorted(_external_inputs(network, item))
            entries.append(_Entry(_relative(item.path, base), min(item.members), item.members, item.last, reads, scope=item))
        else:
            entries.extend(_entries(network, item, base, readers))
    return sorted(entries, key=lambda entry: entry.first)


# ---- definitions ---------------------------------------------------------------------------------


@dataclass
class _Definition:
    name: str
    cls: str
    signature: Any
    body: list[_Entry]
    scope: _Scope
    arg_names: list[str] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)  # the first value of each argument
    argument_at: dict[int, int] = field(default_factory=dict)  # value position -> argument index


def _snake(name: str) -> str:
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    text = re.sub(r"[^a-z0-9_]", "_", text).strip("_")
    return text if text and text[0].isalpha() else f"m_{text}"


class _Builder:
    """Entries of every body, definitions shared by instances of the same structure, arguments."""

    def __init__(self, network: ImportedNetwork) -> None:
        self.network = network
        self.readers = _readers(network)
        self.definitions: list[_Definition] = []
        self.by_signature: dict[Any, _Definition] = {}
        self.values: dict[int, list[Any]] = {}  # id(scope) -> its value vector
        self.definition_of: dict[int, _Definition] = {}

    def body(self, scope: _Scope) -> list[_Entry]:
        entries = _entries(self.network, scope, scope.path, self.readers)
        for entry in entries:
            if entry.scope is not None:
                self.instance(entry)
        return entries

    def instance(self, entry: _Entry) -> None:
        scope = entry.scope
        assert scope is not None
        body = self.body(scope)
        signature, values = self._signature(scope, body)
        key = (scope.cls, signature)
        definition = self.by_signature.get(key)
        if definition is None:
            taken = {d.name for d in self.definitions}
            name, number = _snake(scope.cls), 2
            while name in taken:
                name, number = f"{_snake(scope.cls)}_{number}", number + 1
            definition = _Definition(name, scope.cls, signature, body, scope)
            self.by_signature[key] = definition
            self.definitions.append(definition)
        self.values[id(scope)] = values
        self.definition_of[id(scope)] = definition
        entry.definition = definition.name

    def _signature(self, scope: _Scope, body: list[_Entry]) -> tuple[Any, list[Any]]:
        """The structure of a body (names, types, field names, connections) and its values."""
        shape, values = [], []
        for entry in body:
            refs = tuple(_reference(entry_ref, body, scope) for entry_ref in entry.reads)
            if entry.op is not None:
                op = self.network.ops[entry.op]
                keys = tuple(sorted(op.fields))
                shape.append(("layer", entry.name, op.tag, keys, refs, op.functional))
                values += [_freeze(op.fields[key]) for key in keys]
            else:
                inner = self.definition_of[id(entry.scope)]
                shape.append(("module", entry.name, inner.name, refs))
                values += self.values[id(entry.scope)]
        return tuple(shape), values

    def finish(self) -> None:
        """Arguments: the values that differ between the instances of each definition."""
        instances: dict[str, list[list[Any]]] = {}
        for scope_id, definition in self.definition_of.items():
            instances.setdefault(definition.name, []).append(self.values[scope_id])
        for definition in self.definitions:
            vectors = instances[definition.name]
            columns: dict[tuple, int] = {}  # values that vary together are one argument (a block's width)
            for position in range(len(vectors[0])):
                column = tuple(_freeze(v[position]) for v in vectors)
                if len(set(column)) > 1:
                    if column not in columns:
                        columns[column] = len(definition.positions)
                        definition.positions.append(position)
                    definition.argument_at[position] = columns[column]
            definition.arg_names = self._arg_names(definition)

    def _arg_names(self, definition: _Definition) -> list[str]:
        """Each argument named after what it sets: the field (``out``, ``stride``) where no other
        argument sets the same field, else with the layer's name (``conv1_out``)."""
        labels: list[tuple[str, str]] = []  # (entry, field or inner argument) of every value position
        for entry in definition.body:
            if entry.op is not None:
                labels += [(entry.name, key) for key in sorted(self.network.ops[entry.op].fields)]
            else:
                inner = self.definition_of[id(entry.scope)]
                inner_names = dict(zip(inner.positions, inner.arg_names))
                labels += [(entry.name, inner_names.get(i, str(i))) for i in range(len(self.values[id(entry.scope)]))]
        names, used = [], set()
        for position in definition.positions:
            entry, what = labels[position]
            unique = sum(1 for p in definition.positions if labels[p][1] == what) == 1
            name = re.sub(r"[^A-Za-z0-9_]", "_", what if unique else f"{entry}_{what}").strip("_") or "arg"
            name = name if name[0].isalpha() else f"a_{name}"
            base, number = name, 2
            while name in used:
                name, number = f"{base}_{number}", number + 1
            used.add(name)
            names.append(name)
        return names

    def args_of(self, scope: _Scope) -> list[Any]:
        definition = self.definition_of[id(scope)]
        values = self.values[id(scope)]
        return [values[i] for i in definition.positions]


def _freeze(value: Any) -> Any:
    return tuple(_freeze(v) for v in value) if isinstance(value, (list, tuple)) else value


def _reference(source: int, body: list[_Entry], scope: _Scope | None) -> str:
    """How a body names the tensor ``source``: an entry's name, or ``input`` (the body's input)."""
    if source == NETWORK_INPUT or (scope is not None and scope.path and source not in scope.members):
        return "input"
    for entry in body:
        if source in entry.members:
            if source != entry.output:
                raise ValueError(f"op {source} is read from inside entry '{entry.name}'")
            return entry.name
    return "input"


# ---- repeat ----------------------------------------------------------------------------------------

_NUMBERED = re.compile(r"^(.*)\.(\d+)$")


def _fold_repeats(body: list[_Entry], builder: _Builder) -> list[_Entry]:
    """Consecutive copies of one definition with the same arguments, named P.k, P.k+1, ... and each
    reading the one before, become one entry ``P`` with ``repeat``: the longest such run of each P
    (a name is given once; MobileNet's features.2-3 and features.4-6 cannot both be 'features')."""
    names = {entry.name for entry in body}
    runs: dict[str, tuple[int, int]] = {}  # prefix -> (start, length) of its longest run
    i = 0
    while i < len(body):
        run = _run(body, i, builder)
        prefix = _NUMBERED.match(body[i].name)
        if len(run) >= 2 and prefix and prefix.group(1) not in names:
            if len(run) > runs.get(prefix.group(1), (0, 0))[1]:
                runs[prefix.group(1)] = (i, len(run))
        i += len(run)
    starts = {start: (prefix, length) for prefix, (start, length) in runs.items()}
    folded: list[_Entry] = []
    i = 0
    while i < len(body):
        if i not in starts:
            folded.append(body[i])
            i += 1
            continue
        prefix, length = starts[i]
        first, last = body[i], body[i + length - 1]
        folded.append(_Entry(prefix, first.first, set().union(*(e.members for e in body[i:i + length])), last.output,
                             first.reads, scope=first.scope, definition=first.definition, repeat=length,
                             repeat_from=int(_NUMBERED.match(first.name).group(2))))
        i += length
    return folded


def _run(body: list[_Entry], start: int, builder: _Builder) -> list[_Entry]:
    head = body[start]
    match = _NUMBERED.match(head.name)
    if head.scope is None or match is None:
        return [head]
    run = [head]
    for entry in body[start + 1:]:
        previous = run[-1]
        expected = f"{match.group(1)}.{int(match.group(2)) + len(run)}"
        if (entry.scope is None or entry.name != expected or entry.definition != head.definition
                or builder.args_of(entry.scope) != builder.args_of(head.scope) or entry.reads != [previous.output]):
            break
        run.append(entry)
    outside = set().union(*(e.members for e in run))
    for entry in run[:-1]:  # only the next copy may read a copy that is not the last
        readers = builder.readers.get(entry.output, set()) - outside
        if readers:
            return run[: run.index(entry) + 1] if run.index(entry) else [head]
    return run


# ---- YAML ------------------------------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "none", "~"}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED and not text.startswith("$"):
        return text
    return json.dumps(text, ensure_ascii=False)


def _mapping(items: list[tuple[str, Any]], raw: set[str] = frozenset()) -> str:
    return "{" + ", ".join(f"{key}: {value if key in raw else _scalar(value)}" for key, value in items) + "}"


class _Writer:
    def __init__(self, network: ImportedNetwork, builder: _Builder, root: _Scope) -> None:
        self.network = network
        self.builder = builder
        self.root = root

    def entries(self, body: list[_Entry], scope: _Scope | None, indent: str,
                substitute: dict[tuple[int, str], str] | None = None) -> list[str]:
        lines = []
        previous: _Entry | None = None
        for entry in body:
            refs = [_reference(source, body, scope) for source in entry.reads]
            implicit = (previous is None and refs == ["input"]) or (previous is not None and refs == [previous.name])
            items: list[tuple[str, Any]] = [("name", entry.name)]
            raw: set[str] = set()
            if entry.op is not None:
                op = self.network.ops[entry.op]
                for key in op.fields:  # in the layer type's own order (out, kernel, stride, ...)
                    value = (substitute or {}).get((entry.op, key))
                    if value is not None:
                        items.append((key, value))
                        raw.add(key)
                    elif key not in op.defaults:
                        items.append((key, op.fields[key]))
                if op.functional:
                    items.append(("functional", True))
                tag = op.tag
            else:
                assert entry.scope is not None
                tag = entry.definition
                args = self._args(entry, substitute)
                if entry.repeat > 1:
                    items += [("repeat", entry.repeat), ("repeat_from", entry.repeat_from)]
                if args:
                    items.append(("args", "[" + ", ".join(args) + "]"))
                    raw.add("args")
            if not implicit:
                items.append(("inputs", refs[0] if len(refs) == 1 else refs))
            lines.append(f"{indent}- {tag}: {_mapping(items, raw)}")
            previous = entry
        return lines

    def _args(self, entry: _Entry, substitute: dict[tuple[int, str], str] | None) -> list[str]:
        """An instance's arguments: its own values, or inside a definition the enclosing arguments
        that carry them."""
        assert entry.scope is not None
        definition = self.builder.definition_of[id(entry.scope)]
        values = self.builder.args_of(entry.scope)
        names = (substitute or {}).get((id(entry.scope), "args"))
        return [names[i] if names and names[i] else _scalar(v) for i, v in enumerate(values)] if definition.positions else []

    def definition(self, definition: _Definition) -> list[str]:
        substitute = self._substitutions(definition)
        lines = [f"  {definition.name}:"]
        lines.append(f"    description: imported from {definition.cls} ({', '.join(self._instances(definition))})")
        if definition.arg_names:
            lines.append(f"    args: [{', '.join(definition.arg_names)}]")
        lines.append("    layers:")
        body = _fold_repeats(definition.body, self.builder)
        lines += self.entries(body, definition.scope, "      ", substitute)
        return lines

    def _instances(self, definition: _Definition) -> list[str]:
        names = [".".join(scope_path) for scope_path in self._paths(definition)]
        return names if len(names) <= 3 else [*names[:2], f"… {len(names)} in all"]

    def _paths(self, definition: _Definition) -> list[tuple[str, ...]]:
        return [scope.path for scope in self._scopes() if self.builder.definition_of[id(scope)] is definition]

    def _scopes(self) -> list[_Scope]:
        found = []

        def walk(scope: _Scope) -> None:
            for item in scope.items:
                if isinstance(item, _Scope):
                    if id(item) in self.builder.definition_of:
                        found.append(item)
                    walk(item)

        walk(self.root)
        return found

    def _substitutions(self, definition: _Definition) -> dict[Any, Any]:
        """Which field of which layer (and which argument of which inner instance) is an argument,
        by position in the definition's value vector, for the first instance's body."""
        position_arg = {position: definition.arg_names[index] for position, index in definition.argument_at.items()}
        substitute: dict[Any, Any] = {}
        cursor = 0
        for entry in definition.body:
            if entry.op is not None:
                for key in sorted(self.network.ops[entry.op].fields):
                    if cursor in position_arg:
                        substitute[(entry.op, key)] = f"${position_arg[cursor]}"
                    cursor += 1
            else:
                count = len(self.builder.values[id(entry.scope)])
                inner = self.builder.definition_of[id(entry.scope)]
                substitute[(id(entry.scope), "args")] = [
                    f"${position_arg[cursor + p]}" if cursor + p in position_arg else None for p in inner.positions]
                cursor += count
        return substitute


def to_spec(network: ImportedNetwork) -> str:
    """The spec YAML of an imported network."""
    root = _tree(network)
    builder = _Builder(network)
    body = builder.body(root)
    builder.finish()
    writer = _Writer(network, builder, root)
    lines = [f"name: {_scalar(network.name)}",
             "description: >",
             f"  Imported by archcalc from {network.source}.",
             *[f"  {note}" for note in network.notes],
             f"input: {_scalar(list(network.input_shape))}"]
    if builder.definitions:
        lines.append("modules:")
        for definition in builder.definitions:
            lines += writer.definition(definition)
    lines.append("layers:")
    lines += writer.entries(_fold_repeats(body, builder), None, "  ")
    return "\n".join(lines) + "\n"
