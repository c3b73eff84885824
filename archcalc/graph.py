"""Spec → layer graph: expand modules and ``repeat``, resolve ``inputs``, order the DAG.

The result is a frozen :class:`Graph` whose nodes are in topological order (declaration
order whenever that is already topological), each carrying its validated layer, its
resolved input names, the module instances it sits in, and where it was written.
Everything a user can get wrong about names and wiring is reported here, with the
file, line and layer: unknown layer types and fields, undefined or duplicate names,
cycles, and wrong input counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic import ValidationError

from .gcpause import paused_gc
from .dag import check_inference_outputs, toposort, unused_warnings
from .errors import GraphError, Source, SpecError, collected, short_repr, short_text, close_matches
from .expressions import ExpressionError, substitute
from .layers import Layer, known_tags, lookup
from .limits import MAX_DIM, MAX_LAYERS, MAX_MODULE_DEPTH
from .spec import ModuleDef, Spec, check_name, describe_validation_errors
from .yaml_source import LineList, LineMap

_FLAGS = ("training_only", "functional")
"""Entry keys that mark the layer, or every layer of a module instance: an auxiliary branch used
in training only; an operation the reference implementation calls as a function (F.relu), which
hook-based FLOP counters do not see."""
_GRAPH_KEYS = ("name", "inputs", "repeat", "repeat_from", "repeat_prefix", "if", *_FLAGS, "args")
_GRAPH_KEY_SET = frozenset(_GRAPH_KEYS)
_LITERALS = frozenset((int, float, bool, type(None)))
"""Field values that hold no expression: taken as written, without a call to substitute."""
REPEAT_INDEX = "repeat_index"
"""The argument a repeated entry's fields and args may use: 0 for the first copy, 1, ... (the
first block of a stage often differs: ``stride: $(2 if repeat_index == 0 else 1)``)."""
_SCOPE_SEP = "/"


class Node(NamedTuple):
    """One layer instance in the graph (a NamedTuple: immutable, one per layer)."""

    name: str  # full name, module scopes joined by '/': 'inception_3a/3x3_reduce'
    layer: Layer
    inputs: tuple[str, ...]
    scope: tuple[str, ...]  # enclosing module instances, outermost first
    source: Source
    training_only: bool = False  # an auxiliary branch: counted in parameters, not in inference cost
    functional: bool = False  # called as a function in the reference implementation (see _FLAGS)

    @property
    def type(self) -> str:
        return self.layer.type_name


@dataclass(frozen=True)
class Graph:
    """A frozen DAG of layer instances in topological order."""

    name: str
    nodes: tuple[Node, ...]
    modules: Mapping[str, str]  # module instance path -> module (or repeat group) type
    outputs: tuple[str, ...]
    file: str
    warnings: tuple[str, ...] = ()
    module_args: Mapping[str, str] = field(default_factory=dict)  # instance path -> its arguments, as written

    def node(self, name: str) -> Node:
        return self.nodes[self._index[name]]

    @property
    def names(self) -> Mapping[str, int]:
        """Layer name -> position in :attr:`nodes` (``name in graph.names`` tests membership)."""
        return self._index

    @property
    def _index(self) -> dict[str, int]:
        index = self.__dict__.get("_index_cache")
        if index is None:
            index = {node.name: i for i, node in enumerate(self.nodes)}
            object.__setattr__(self, "_index_cache", index)
        return index


class _Ref(NamedTuple):
    """An ``inputs:`` entry waiting for every name to be known."""

    scope: str
    name: str
    source: Source
    layer: str


class _PendingNode(NamedTuple):
    name: str
    layer: Layer
    inputs: list[str | _Ref]
    scope: tuple[str, ...]
    source: Source
    training_only: bool
    functional: bool = False


def _position(i: int, scope: str) -> str:
    """Where the i-th entry of a list of layers is, for an error about an entry without a name."""
    return f"layer #{i + 1} of " + (f"module instance '{scope}'" if scope else "'layers'")


def _join(scope: str, name: str) -> str:
    return f"{scope}{_SCOPE_SEP}{name}" if scope else name


_VALIDATED: dict[Any, Layer] = {}
"""Layers already validated, by type and field values: a layer is frozen and its fields are its
whole identity, so a network of a thousand identical convolutions (or a sweep of a thousand
variants of one network) validates each configuration once."""
_VALIDATED_MAX = 4096


def _typed(value: Any) -> Any:
    """``value`` as a hashable key that keeps types apart: strict validation refuses ``true`` where it
    takes ``1``, and ``True == 1`` in Python, so each value is keyed with its type. Values are as
    :func:`substitute` returns them: plain dicts and lists (it rebuilds both), and scalars."""
    kind = type(value)
    if kind is dict:
        return tuple([(key, _typed(item)) for key, item in value.items()])
    if kind is list or kind is tuple:
        return (kind, tuple([_typed(item) for item in value]))
    return (kind, value)


@dataclass
class _Expander:
    spec: Spec
    nodes: list[_PendingNode] = field(default_factory=list)
    targets: dict[str, str | _Ref] = field(default_factory=dict)  # any referable path -> node or pending ref
    modules: dict[str, str] = field(default_factory=dict)
    module_args: dict[str, str] = field(default_factory=dict)
    active_modules: list[str] = field(default_factory=list)
    flag_depth: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_FLAGS, 0))  # > 0: inside a flagged entry
    suffixes: dict[tuple[str, str], int] = field(default_factory=dict)  # (scope, base) -> next auto-name suffix
    problems: list[SpecError] = field(default_factory=list)  # independent errors of single entries (see skip)
    left_out: set[str] = field(default_factory=set)  # entries whose 'if' was false: another may take the name
    globals: dict[str, Any] = field(default_factory=dict)  # the spec's arguments, derived ones computed

    def error(self, message: str, line: int | None, layer: str | None = None, hint: str | None = None) -> SpecError:
        return SpecError(message, source=self.spec.source(line), layer=layer, hint=hint)

    # ---- entries -------------------------------------------------------------------

    def entry_parts(self, entry: Any, line: int | None, i: int, scope: str) -> tuple[str, LineMap]:
        """Split ``- conv2d: {...}`` (or bare ``- relu``) into its tag and field mapping."""
        if isinstance(entry, str):
            body = LineMap()
            body.line = line
            return entry, body
        if isinstance(entry, dict) and len(entry) == 1:
            tag, body = next(iter(entry.items()))
            if body is None:
                body = LineMap()
                body.line = line
            if isinstance(tag, str) and isinstance(body, LineMap):
                return tag, body
        hint = "example: '- conv2d: {name: conv1, out: 96, kernel: 11, stride: 4}'"
        if isinstance(entry, dict) and len(entry) > 1:
            tag, body = next(iter(entry.items()))
            if body is None and isinstance(tag, str):  # '- conv2d:' with its fields not indented below it
                fields = [str(key) for key in list(entry)[1:]]
                hint = (f"'{short_text(', '.join(fields))}' line up with '{short_text(tag)}' instead of under it: "
                        f"indent them two more spaces, or write '- {short_text(tag)}: {{{short_text(fields[0])}: ...}}'")
        raise self.error(f"{_position(i, scope)}: a layer entry is '- type: {{field: value, ...}}' or a bare '- type'",
                         line, hint=hint)

    def skip(self, err: SpecError, full: str | None, prev: str) -> str:
        """Record an error confined to one entry (an unknown type, a bad field) and go on past
        the entry, so that one run reports every such error in the file; the entry's input
        stands in for its output. Errors between entries (names, shapes) are not collected:
        they may be consequences of a skipped entry."""
        self.problems.append(err)
        if full is not None:
            self.targets.setdefault(full, prev)
        return prev

    def tag_error(self, tag: str, line: int | None, name: str | None) -> SpecError:
        candidates = [*known_tags(), *self.spec.model.modules]
        close = close_matches(tag, candidates, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "run 'archcalc types' for the list of layer types"
        return self.error(f"unknown layer type '{tag}'", line, name, hint)

    def expand(self, entries: list[Any], scope: str, env: Mapping[str, Any], prev: str, stack: tuple[str, ...]) -> str:
        """Expand a list of entries in one scope; returns the name of its last output."""
        if not isinstance(entries, list) or not entries:
            raise self.error("'layers' must be a non-empty list of layer entries", getattr(entries, "line", None),
                             _join(scope, ""))
        taken = self.explicit_names(entries, scope)  # explicit names first, so auto names avoid them
        anchor: str | None = None  # the last explicitly named entry: 'conv1' names 'conv1_relu'
        lines = entries.item_lines if isinstance(entries, LineList) else [None] * len(entries)
        for i, entry in enumerate(entries):
            line = lines[i]
            try:
                tag, body = self.entry_parts(entry, line, i, scope)
            except SpecError as err:
                self.skip(err, None, prev)
                continue
            explicit = body.get("name")
            if explicit is not None:
                local = anchor = str(explicit)
            else:
                cls = lookup(tag)
                kind = cls.type_name if cls is not None else tag
                local = self.unique(f"{anchor}_{kind}" if anchor else kind, taken, scope)
                check_name(local, lambda message, hint=None: self.error(f"{_position(i, scope)}: {message}", line,
                                                                        hint=hint))
            taken.add(local)
            prev = self.entry(tag, body, local, scope, env, prev, stack)
        return prev

    def explicit_names(self, entries: list[Any], scope: str) -> set[str]:
        names: dict[str, LineMap] = {}  # the entry that first takes each name (its line only for an error)
        conditional: set[str] = set()  # names of entries with 'if': alternatives may share a name
        for entry in entries:
            if not (isinstance(entry, dict) and len(entry) == 1):
                continue
            body = next(iter(entry.values()))
            if not isinstance(body, LineMap) or "name" not in body:
                continue
            name = body["name"]
            if not isinstance(name, (str, int)) or isinstance(name, bool) or not str(name).strip():
                raise self.error(f"a layer name must be a non-empty string, got {short_repr(name)}", body.line_of("name"))
            name = str(name)
            check_name(name, lambda message, hint=None: self.error(message, body.line_of("name"), hint=hint))
            if _SCOPE_SEP in name or name == "input":
                raise self.error(
                    f"'{name}' cannot be a layer name",
                    body.line_of("name"),
                    hint=f"'input' is reserved and '{_SCOPE_SEP}' separates module scopes",
                )
            if name in names and not (name in conditional and "if" in body):
                where = f" in module instance '{scope}'" if scope else ""
                raise self.error(f"duplicate layer name '{name}'{where} (first on line {names[name].line_of('name')})",
                                 body.line_of("name"), name)
            names.setdefault(name, body)
            if "if" in body:
                conditional.add(name)
        return set(names)

    def unique(self, base: str, taken: set[str], scope: str) -> str:
        """``base``, or ``base_2``, ``base_3``, …: the next free one, counted up per base so that
        a thousand bare ``- relu`` lines take linear, not quadratic, time."""
        if base not in taken:
            return base
        n = self.suffixes.get((scope, base), 2)
        while f"{base}_{n}" in taken:
            n += 1
        self.suffixes[(scope, base)] = n + 1
        return f"{base}_{n}"

    def entry(self, tag: str, body: LineMap, local: str, scope: str, env: Mapping[str, Any], prev: str, stack) -> str:
        full = _join(scope, local)
        line = body.line
        module = self.spec.model.modules.get(tag)
        if module is None and lookup(tag) is None:
            return self.skip(self.tag_error(tag, line, full), full, prev)
        inputs = self.input_refs(body, scope, full)
        if not self.condition(body, env, full):
            # Left out: the next layers continue from the one before it, and its name stands for its
            # input (the identity), unless an alternative of the same name came first.
            if full not in self.targets:
                self.targets[full] = inputs[0] if inputs else prev
                self.left_out.add(full)
            return prev
        repeat = self.repeat_count(body, env, full)
        flags = self.flag_values(body, env, full)
        for flag in flags:
            self.flag_depth[flag] += 1
        try:
            if repeat == 1 and "repeat" not in body:
                return self.instance(tag, module, body, full, inputs, env, prev, stack)
            self.modules[full] = f"{tag} ×{repeat}"
            out = prev
            first, prefix = self.repeat_from(body, env, full), self.repeat_prefix(body, full)
            for k in range(repeat):
                out = self.instance(tag, module, body, _join(full, f"{prefix}{first + k}"), inputs if k == 0 else None,
                                    {**env, REPEAT_INDEX: k}, out, (*stack, full))
            self.targets[full] = out
            return out
        finally:
            for flag in flags:
                self.flag_depth[flag] -= 1

    def condition(self, body: LineMap, env: Mapping[str, Any], full: str) -> bool:
        """The entry's ``if:`` (true without one): an entry whose condition is false is left out."""
        if "if" not in body:
            return True
        value = self.substituted(body, "if", env, full)
        if not isinstance(value, bool):
            raise self.error(f"if must be true or false, got {short_repr(value)}", body.line_of("if"), full,
                             hint="write a comparison, e.g. 'if: $(stride == 1 and cin == cout)'")
        return value

    def repeat_prefix(self, body: LineMap, full: str) -> str:
        """Text before each copy's number: 'denselayer' names torchvision's denselayer1, denselayer2..."""
        prefix = body.get("repeat_prefix", "")
        line = body.line_of("repeat_prefix")
        if not isinstance(prefix, str):
            raise self.error(f"repeat_prefix must be text, got {short_repr(prefix)}", line, full)
        if prefix:
            check_name(prefix, lambda message, hint=None: self.error(f"repeat_prefix: {message}", line, full, hint))
            if _SCOPE_SEP in prefix:
                raise self.error(f"repeat_prefix cannot contain '{_SCOPE_SEP}'", line, full)
        return prefix

    def repeat_from(self, body: LineMap, env: Mapping[str, Any], full: str) -> int:
        """The number of the first copy's name: 1 (``stage/1``) unless ``repeat_from`` says otherwise:
        0 as PyTorch's ``nn.Sequential`` numbers its children, or where a run of copies starts
        (``features.2`` … ``features.3`` of MobileNet v2, as ``archcalc import`` writes them)."""
        value = self.substituted(body, "repeat_from", env, full, default=1)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_DIM:
            raise self.error(f"repeat_from must be a whole number from 0, got {short_repr(value)}",
                             body.line_of("repeat_from"), full,
                             hint="0 numbers the copies as nn.Sequential numbers its children; 2 when they start at features.2")
        return value

    def flag_values(self, body: LineMap, env: Mapping[str, Any], full: str) -> list[str]:
        """The flags (_FLAGS) the entry sets to true."""
        chosen: list[str] = []
        for flag in _FLAGS:
            if flag not in body:  # most entries set none
                continue
            value = self.substituted(body, flag, env, full)
            if not isinstance(value, bool):
                raise self.error(f"{flag} must be true or false, got {short_repr(value)}", body.line_of(flag), full)
            if value:
                chosen.append(flag)
        return chosen

    def repeat_count(self, body: LineMap, env: Mapping[str, Any], full: str) -> int:
        if "repeat" not in body:
            return 1
        value = self.substituted(body, "repeat", env, full)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise self.error(f"repeat must be a positive integer, got {value!r}", body.line_of("repeat"), full)
        if value > MAX_LAYERS:
            raise self.error(f"repeat {value:,} exceeds the limit of {MAX_LAYERS:,} layers", body.line_of("repeat"), full,
                             hint="see 'archcalc docs limits'")
        return value

    def input_refs(self, body: LineMap, scope: str, full: str) -> list[_Ref] | None:
        if "inputs" not in body:
            return None
        raw = body["inputs"]
        raw = [raw] if isinstance(raw, str) else raw
        line = body.line_of("inputs")
        if not isinstance(raw, list) or not raw or not all(isinstance(r, str) for r in raw):
            raise self.error("inputs must be a layer name or a list of layer names", line, full)
        return [_Ref(scope, name, self.spec.source(line), full) for name in raw]

    def substituted(self, body: LineMap, key: str, env: Mapping[str, Any], full: str, default: Any = None) -> Any:
        """``body[key]`` (or ``default``) with its expressions computed; an error is located at the key's
        line, looked up only then."""
        try:
            return substitute(body.get(key, default), env)
        except ExpressionError as err:
            raise self.error(str(err), body.line_of(key), full) from None

    def instance(self, tag, module: ModuleDef | None, body: LineMap, full: str, inputs, env, prev: str, stack) -> str:
        """One layer node or one module instance; returns its output node name."""
        if full in self.targets and full not in self.left_out:
            raise self.error(f"duplicate layer name '{full}'", body.line, full)
        self.left_out.discard(full)
        if module is not None:
            return self.module_instance(tag, module, body, full, inputs, env, prev, stack)
        fields = [key for key in body if key not in _GRAPH_KEY_SET]
        if "args" in body:
            raise self.error("'args' is for module instances; layer fields go directly in the mapping", body.line_of("args"), full)
        try:
            layer = self.validate_layer(tag, fields, body, env, full)
        except SpecError as err:
            return self.skip(err, full, prev)
        if len(self.nodes) >= MAX_LAYERS:
            raise self.error(f"the spec expands to more than {MAX_LAYERS:,} layers (MAX_LAYERS)", body.line, full,
                             hint="check 'repeat' counts; see 'archcalc docs limits'")
        self.nodes.append(_PendingNode(full, layer, list(inputs) if inputs is not None else [prev], stack,
                                       self.spec.source(body.line), self.flag_depth["training_only"] > 0,
                                       self.flag_depth["functional"] > 0))
        self.targets[full] = full
        return full

    def validate_layer(self, tag: str, fields: list[str], body: LineMap, env, full: str) -> Layer:
        cls = lookup(tag)
        assert cls is not None
        values = {}
        for key in fields:
            value = body[key]
            values[key] = value if type(value) in _LITERALS else self.substituted(body, key, env, full)
        key = (cls, _typed(values))
        layer = _VALIDATED.get(key)
        if layer is not None:
            return layer
        try:
            layer = cls.model_validate(values)
        except ValidationError as err:
            raise collected([self.error(f"{cls.type_name}: {message}", body.line_of(loc[0]) if loc else body.line, full, hint)
                             for message, loc, hint in describe_validation_errors(err, [*cls.model_fields, *_GRAPH_KEYS[:-1]])]) from None
        if len(_VALIDATED) >= _VALIDATED_MAX:
            _VALIDATED.clear()
        _VALIDATED[key] = layer
        return layer

    def module_instance(self, tag, module: ModuleDef, body: LineMap, full: str, inputs, env, prev: str, stack) -> str:
        if tag in self.active_modules:
            raise self.error(f"module '{tag}' instantiates itself", body.line, full)
        if len(self.active_modules) >= MAX_MODULE_DEPTH:
            raise self.error(f"modules nest more than {MAX_MODULE_DEPTH} deep (MAX_MODULE_DEPTH)", body.line, full,
                             hint="see 'archcalc docs limits'")
        names = module.inputs or ["input"]
        if len(inputs if inputs is not None else [prev]) != len(names):
            count = len(inputs) if inputs is not None else 1
            raise self.error(f"module '{tag}' takes {len(names)} input{'s' if len(names) > 1 else ''} "
                             f"({', '.join(names)}), got {count}", body.line_of("inputs"), full,
                             hint=f"list them in order: 'inputs: [{', '.join(names)}]' with the layers they come from")
        extra = [k for k in body if k not in _GRAPH_KEY_SET]
        if extra:
            raise self.error(
                f"unknown field '{extra[0]}' for module '{tag}'",
                body.line_of(extra[0]),
                full,
                hint=f"module arguments go under 'args:' ({', '.join(module.arg_names()) or 'this module takes none'})",
            )
        bound = self.bind_args(tag, module, body, env, full)
        self.modules[full] = tag
        self.module_args[full] = ", ".join(f"{name}={value}" for name, value in bound.items())
        sources = inputs if inputs is not None else [prev]
        for name, source in zip(names, sources):
            self.targets[_join(full, name)] = source
        self.targets.setdefault(_join(full, "input"), sources[0])
        self.active_modules.append(tag)
        out = self.expand(self.spec.raw["modules"][tag]["layers"], full, {**self.globals, **bound}, _join(full, "input"), (*stack, full))
        self.active_modules.pop()
        self.targets[full] = out
        return out

    def bind_args(self, tag: str, module: ModuleDef, body: LineMap, env, full: str) -> dict[str, Any]:
        given = self.substituted(body, "args", env, full, default=[])
        names = module.arg_names()
        line = body.line_of("args")
        if isinstance(given, list):
            if len(given) > len(names):
                raise self.error(f"module '{tag}' takes {len(names)} arguments ({', '.join(names)}), got {len(given)}", line, full)
            given = dict(zip(names, given))
        elif not isinstance(given, dict):
            raise self.error("args must be a list (by position) or a mapping (by name)", line, full)
        unknown = [name for name in given if name not in names]
        if unknown:
            close = close_matches(str(unknown[0]), names, n=1)
            raise self.error(f"module '{tag}' has no argument '{unknown[0]}'", line, full,
                             hint=f"did you mean '{close[0]}'?" if close else f"its arguments: {', '.join(names)}")
        bound = {**module.defaults(), **given}
        missing = [name for name in names if name not in bound]
        if missing:
            raise self.error(f"module '{tag}' needs argument '{missing[0]}'", line, full,
                             hint=f"pass args: [{', '.join(names)}]")
        return bound

    # ---- references ------------------------------------------------------------------

    def resolve(self, ref: str | _Ref, depth: int = 0) -> str:
        """The node a reference points at, following module outputs and module inputs."""
        while isinstance(ref, _Ref):
            key = ref.name if _SCOPE_SEP in ref.name else _join(ref.scope, ref.name)
            target = self.targets.get(key)
            if target is None:
                raise self.undefined(ref)
            ref = target
            depth += 1
            if depth > len(self.targets) + 1:
                raise GraphError(f"input '{ref}' refers to itself", source=ref.source, layer=ref.layer)
        while self.targets.get(ref, ref) != ref:  # a module or repeat group: its output node
            nxt = self.targets[ref]
            ref = self.resolve(nxt, depth + 1) if isinstance(nxt, _Ref) else nxt
        return ref

    def undefined(self, ref: _Ref) -> GraphError:
        prefix = _join(ref.scope, "")
        local = [k[len(prefix):] for k in self.targets if k.startswith(prefix) and _SCOPE_SEP not in k[len(prefix):]]
        close = close_matches(ref.name, local, n=1)
        where = f" in module instance '{ref.scope}'" if ref.scope else ""
        return GraphError(
            f"input '{ref.name}' is not defined{where}",
            source=ref.source,
            layer=ref.layer,
            hint=f"did you mean '{close[0]}'?" if close else "inputs name layers of the same module (or 'input')",
        )


def _check_arity(node: _PendingNode) -> None:
    layer = node.layer
    count = len(node.inputs)
    low, high = layer.min_inputs, layer.max_inputs
    if count >= low and (high is None or count <= high):
        return
    if high is None:
        expected = f"at least {low} inputs"
    elif low == high:
        expected = f"{low} input{'s' if low != 1 else ''}"
    else:
        expected = f"{low} to {high} inputs"
    raise GraphError(
        f"{layer.type_name} takes {expected}, got {count}",
        source=node.source,
        layer=node.name,
        hint="list them with 'inputs: [a, b]'" if low > 1 else "remove 'inputs' to take the layer above",
    )


def spec_arguments(spec: Spec) -> dict[str, Any]:
    """The spec's arguments, each ``$(...)`` one computed from those declared before it, so that
    a variant or ``--set`` changing ``width`` changes every channel count derived from it."""
    env: dict[str, Any] = {}
    for name, value in spec.model.args.items():
        try:
            env[name] = substitute(value, env)
        except ExpressionError as err:
            raise SpecError(f"argument '{name}': {err}", source=spec.source(spec.raw["args"].line_of(name))
                            if isinstance(spec.raw.get("args"), LineMap) else spec.source(None)) from None
    return env


@paused_gc
def build_graph(spec: Spec) -> Graph:
    """Expand a validated spec into a frozen, topologically ordered :class:`Graph`."""
    expander = _Expander(spec)
    input_layer = lookup("input").model_validate({"shape": spec.model.input})  # type: ignore[union-attr]
    input_source = spec.source(spec.raw.line_of("input"))
    expander.nodes.append(_PendingNode("input", input_layer, [], (), input_source, False))
    expander.targets["input"] = "input"
    layers = spec.raw["layers"]
    expander.globals = spec_arguments(spec)
    last = expander.expand(layers, "", dict(expander.globals), "input", ())
    if expander.problems:
        raise collected(expander.problems)
    nodes = []
    for pending in expander.nodes:
        _check_arity(pending)
        inputs = tuple(expander.resolve(ref) for ref in pending.inputs)
        nodes.append(Node(pending.name, pending.layer, inputs, pending.scope, pending.source, pending.training_only,
                          pending.functional))
    ordered = toposort(nodes)
    outputs = _outputs(spec, expander, last)
    if spec.model.until is not None:
        ordered, outputs = _until(spec, expander, ordered)
    check_inference_outputs(ordered, outputs)
    warnings = (*_input_warnings(spec), *unused_warnings(ordered, outputs))
    name = spec.model.name if spec.model.until is None else f"{spec.model.name} (up to {spec.model.until})"
    return Graph(name, ordered, dict(expander.modules), outputs, spec.file, warnings,
                 dict(expander.module_args))


def input_order_warning(spec: Spec) -> str | None:
    """An input written in Keras's order, [224, 224, 3], is read as 224 channels of 224×3: say so."""
    shape = spec.model.input
    if len(shape) == 3 and shape[2] <= 4 < shape[0] and shape[0] == shape[1]:
        where = "--input" if "input" in spec.overrides else str(spec.source(spec.raw.line_of("input")))
        return (f"{where}: the input {list(shape)} reads as {shape[0]} channels of {shape[1]}×{shape[2]}, which "
                f"looks like height, width, channels; archcalc reads [channels, height, width]: write "
                f"[{shape[2]}, {shape[0]}, {shape[1]}]")
    return None


def _input_warnings(spec: Spec) -> tuple[str, ...]:
    warning = input_order_warning(spec)
    return (warning,) if warning else ()


def _until(spec: Spec, expander: _Expander, nodes: tuple[Node, ...]) -> tuple[tuple[Node, ...], tuple[str, ...]]:
    """The network cut at ``until`` (a layer or module instance): that node is the one output,
    and only the layers it depends on remain (a trunk up to 'pool5')."""
    where = "--until" if "until" in spec.overrides else "until:"
    source = spec.source(None if "until" in spec.overrides else spec.raw.line_of("until"))
    try:
        output = expander.resolve(_Ref("", str(spec.model.until), source, "until"))
    except GraphError as err:
        close = err.hint if err.hint and err.hint.startswith("did you mean") else None
        raise GraphError(f"{where} {short_text(str(spec.model.until))}: no layer or module of that name",
                         source=source, hint=close or "name a layer or module instance as 'archcalc summary' lists it") from None
    needed = {output}
    for node in reversed(nodes):
        if node.name in needed:
            needed.update(node.inputs)
    return tuple(node for node in nodes if node.name in needed), (output,)


def _outputs(spec: Spec, expander: _Expander, last: str) -> tuple[str, ...]:
    """The declared ``outputs:`` (module instance names allowed), or the last layer."""
    if spec.model.outputs is None:
        return (last,)
    source = spec.source(spec.raw.line_of("outputs"))
    names = tuple(expander.resolve(_Ref("", name, source, "outputs")) for name in spec.model.outputs)
    if len(set(names)) != len(names):
        raise GraphError("an output is listed twice", source=source)
    return names
