"""The spec file: top-level schema, loading, and command-line overrides.

A spec is validated in two steps. This module checks the frame (name, input, declared
arguments, modules, the layer list) with pydantic. The layer entries themselves are
validated by :mod:`archcalc.graph` as it expands modules, because a module's fields
(``out: $n3x3``) only have values once the module is instantiated with arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from .gcpause import paused_gc
from .errors import ArchcalcError, Source, SpecError, collected, short_repr, short_text, close_matches
from .layers.structure import InputShape, check_input_shape
from .limits import MAX_NAME_CHARS
from .yaml_source import LineList, LineMap, load_yaml_file, load_yaml_text

ArgValue = int | float | bool | str | list | None

_INVISIBLE = {"Cc", "Cs", "Zl", "Zp"}
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def name_problem(name: str) -> tuple[str, str] | None:
    """Why ``name`` cannot name a network, module or layer, and how to fix it; or None.
    Control and bidi characters would make reports lie about what they show (and SVG invalid
    XML)."""
    import unicodedata

    if not name.strip():
        return "a name cannot be empty", "write one"
    if len(name) > MAX_NAME_CHARS:
        return (f"a name of {len(name):,} characters is over the limit of {MAX_NAME_CHARS} (MAX_NAME_CHARS)",
                "shorten it; see 'archcalc docs limits'")
    if name.isascii() and name.isprintable():  # nearly every name: no character to look up one by one
        return None
    bad = next((ch for ch in name if unicodedata.category(ch) in _INVISIBLE or ch in _BIDI_CONTROLS), None)
    if bad is not None:
        return f"the name {short_repr(name)} contains the control character U+{ord(bad):04X}", "use printable characters"
    return None


def check_name(name: str, error: Callable[..., ArchcalcError]) -> None:
    """Raise ``error(message, hint=...)`` when :func:`name_problem` finds one."""
    problem = name_problem(name)
    if problem is not None:
        raise error(problem[0], hint=problem[1])


def _valid_name(name: str) -> str:
    problem = name_problem(name)
    if problem is not None:
        raise ValueError(problem[0])
    return name


Name = Annotated[str, AfterValidator(_valid_name)]


class ModuleDef(BaseModel):
    """A reusable, parametrized group of layers (an Inception module, a residual block)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, strict=True, allow_inf_nan=False)

    description: str | None = None
    # Empty defaults are written [] and {}: pydantic copies a mutable default for each instance (and
    # these models are frozen). Field(default_factory=list) would have pydantic read the signature of
    # the builtin list, which compiles the tokenize module's regular expressions: 3 ms of every run.
    args: list[Name] | dict[Name, ArgValue] = []
    inputs: list[Name] | None = Field(default=None, min_length=1)
    """Names of the module's inputs, first one the default: a decoder block's ``[x, skip]``."""

    @model_validator(mode="after")
    def _distinct_inputs(self) -> ModuleDef:
        if self.inputs is not None and len(set(self.inputs)) != len(self.inputs):
            raise ValueError("the names under 'inputs' must differ")
        return self
    layers: list[Any] = Field(min_length=1)

    def defaults(self) -> dict[str, ArgValue]:
        return dict(self.args) if isinstance(self.args, dict) else {}

    def arg_names(self) -> list[str]:
        return list(self.args)


class VariantModel(BaseModel):
    """One member of a family (``efficientnet_b3``): its arguments and input size, and its name."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, strict=True, allow_inf_nan=False)

    name: str | None = None
    description: str | None = None
    args: dict[Name, ArgValue] = {}
    input: InputShape | None = None


class SpecModel(BaseModel):
    """The top level of a spec file (see docs/spec.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, strict=True, allow_inf_nan=False)

    name: Name
    description: str | None = None
    reference: str | None = None
    aliases: list[str] = []
    input: InputShape
    args: dict[Name, ArgValue] = {}
    modules: dict[Name, ModuleDef] = {}
    layers: list[Any] = Field(min_length=1)
    outputs: list[str] | None = Field(default=None, min_length=1)
    until: Name | None = None
    """Analyse the network only up to this layer or module instance (``--until``)."""
    variants: dict[Name, VariantModel] = {}
    """Named members of a family, each a zoo name (``torchvision/efficientnet_b3``)."""

    @model_validator(mode="after")
    def _variants_set_declared_args(self) -> SpecModel:
        for variant, member in self.variants.items():
            unknown = [name for name in member.args if name not in self.args]
            if unknown:
                raise ValueError(f"variant '{variant}' sets '{unknown[0]}', which is not declared under 'args'")
        return self


@dataclass(frozen=True)
class Spec:
    """A validated spec frame plus the raw YAML it came from (for line numbers)."""

    model: SpecModel
    raw: LineMap
    file: str
    overrides: dict[str, Any] = field(default_factory=dict)

    def source(self, line: int | None) -> Source:
        return Source(self.file, line)


def line_at(raw: Any, loc: tuple[Any, ...]) -> int | None:
    """Line of the deepest node along a pydantic error location."""
    line = getattr(raw, "line", None)
    node = raw
    for key in loc:
        if isinstance(node, LineMap) and key in node:
            line = node.line_of(key)
            node = node[key]
        elif isinstance(node, LineList) and isinstance(key, int) and 0 <= key < len(node):
            line = node.line_of(key)
            node = node[key]
        else:
            break
    return line


_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "tuple", "none"}


def _is_union_tag(part: Any) -> bool:
    """pydantic names the member of a union it tried ('int', 'function-after[...]') in the
    location; spec authors know fields, not members."""
    return isinstance(part, str) and ("[" in part or part in _TYPE_TAGS)


def describe_validation_errors(err: ValidationError, fields: list[str]) -> list[tuple[str, tuple[Any, ...], str | None]]:
    """Each independent pydantic error as (message, location, hint), worded for spec authors:
    one per field (a union reports one error per member it tried), unknown fields first, and
    no "missing 'kernel'" beside the "unknown 'kernal'" that causes it."""
    by_field: dict[tuple[Any, ...], dict[str, Any]] = {}
    for error in err.errors():
        loc = tuple(part for part in error["loc"] if not _is_union_tag(part))
        by_field.setdefault(loc, {**error, "loc": loc})
    errors = sorted(by_field.values(), key=lambda e: e["type"] != "extra_forbidden")
    meant = {_meant_field(str(e["loc"][-1]), fields) for e in errors if e["type"] == "extra_forbidden" and e["loc"]}
    return [_describe(e, fields) for e in errors if not (e["type"] == "missing" and e["loc"] and e["loc"][-1] in meant)]


def describe_validation_error(err: ValidationError, fields: list[str]) -> tuple[str, tuple[Any, ...], str | None]:
    """The first of :func:`describe_validation_errors`."""
    return describe_validation_errors(err, fields)[0]


def _describe(error: dict[str, Any], fields: list[str]) -> tuple[str, tuple[Any, ...], str | None]:
    loc = error["loc"]
    where = ".".join(str(part) for part in loc)
    kind = error["type"]
    if kind == "missing":
        return f"missing required field '{where}'", loc[:-1], None
    if kind == "extra_forbidden":
        return f"unknown field '{where}'", loc, _field_hint(str(loc[-1]), fields)
    message = _MESSAGES.get(kind) or error["msg"].removeprefix("Value error, ")
    if not loc:  # a check of the whole mapping: no field to name, no value worth quoting
        return message, loc, None
    if isinstance(error.get("input"), dict):  # a mapping: name it, do not quote all of it
        return f"field '{where}': {message}", loc, None
    if kind in ("literal_error", "enum"):
        message = "expected one of " + error.get("ctx", {}).get("expected", "the listed values").replace("'", "")
    elif kind in _BOUNDS:
        message = _BOUNDS[kind].format(**{k: v for k, v in error.get("ctx", {}).items()})
    return f"field '{where}': {message} (got {short_repr(error.get('input'))})", loc, None


_MESSAGES = {
    "bool_type": "expected true or false", "bool_parsing": "expected true or false",
    "int_type": "expected an integer", "int_parsing": "expected an integer", "int_from_float": "expected an integer",
    "float_type": "expected a number", "float_parsing": "expected a number", "finite_number": "expected a finite number",
    "string_type": "expected text", "list_type": "expected a list", "tuple_type": "expected a list",
    "dict_type": "expected a mapping", "model_type": "expected a mapping", "too_short": "too few entries",
    "too_long": "too many entries",
}
"""pydantic's error types in archcalc's words ("Input should be a valid boolean" is pydantic's)."""

_BOUNDS = {"greater_than": "must be more than {gt}", "greater_than_equal": "must be at least {ge}",
           "less_than": "must be less than {lt}", "less_than_equal": "must be at most {le}"}

FIELD_SYNONYMS = {
    "filters": "out", "out_channels": "out", "units": "out", "out_features": "out", "kernel_size": "kernel",
    "pool_size": "kernel", "strides": "stride", "dilation_rate": "dilation", "use_bias": "bias", "rate": "p",
    "epsilon": "eps", "output_size": "output",
}
"""Field names of PyTorch's and Keras's constructors, and what archcalc calls them."""

NOT_FIELDS = {
    "in_channels": "archcalc reads the input channels from the layer above",
    "num_features": "archcalc reads the channels from the layer above",
    "in_features": "archcalc reads the features from the layer above",
    "activation": "write the activation as its own layer below, e.g. '- relu'",
}


def _meant_field(name: str, fields: list[str]) -> str | None:
    """The field an unknown ``name`` most likely means: archcalc's word for a torch/Keras
    name, or the closest spelling."""
    if name in FIELD_SYNONYMS:
        return FIELD_SYNONYMS[name]
    close = close_matches(name, fields, n=1)
    return close[0] if close else None


def _field_hint(name: str, fields: list[str]) -> str:
    if name in FIELD_SYNONYMS:
        return f"archcalc calls it '{FIELD_SYNONYMS[name]}'"
    if name in NOT_FIELDS:
        return NOT_FIELDS[name]
    meant = _meant_field(name, fields)
    return f"did you mean '{meant}'?" if meant else f"known fields: {', '.join(fields)}"


def parse_spec(raw: Any, file: str) -> Spec:
    """Validate the top level of a loaded spec."""
    if not isinstance(raw, LineMap):
        raise SpecError(
            "a spec must be a mapping with 'name', 'input' and 'layers'",
            source=Source(file, getattr(raw, "line", 1)),
            hint="'archcalc docs spec' shows a complete example",
        )
    try:
        model = SpecModel.model_validate(dict(raw))
    except ValidationError as err:
        raise collected([SpecError(message, source=Source(file, line_at(raw, loc)), hint=hint)
                         for message, loc, hint in describe_validation_errors(err, list(SpecModel.model_fields))]) from None
    return Spec(model, raw, file)


@paused_gc
def load_spec(path: Path) -> Spec:
    """Load and validate a spec file."""
    return parse_spec(load_yaml_file(path), str(path))


@paused_gc
def load_spec_text(text: str, file: str = "<spec>") -> Spec:
    """Load and validate a spec from YAML text (tests, embedding)."""
    return parse_spec(load_yaml_text(text, file), file)


def with_variant(spec: Spec, variant: str) -> Spec:
    """The member ``variant`` of a family spec: its arguments and input replace the defaults, and
    its name is the spec's."""
    chosen = spec.model.variants[variant]
    source = spec.source(spec.raw["variants"].line_of(variant))
    unknown = [name for name in chosen.args if name not in spec.model.args]
    if unknown:
        raise SpecError(f"variant '{variant}' sets '{unknown[0]}', which the spec does not declare under 'args'",
                        source=source)
    updates: dict[str, Any] = {"name": chosen.name or f"{spec.model.name} {variant}",
                               "args": {**spec.model.args, **chosen.args}}
    if chosen.input is not None:
        updates["input"] = chosen.input
    if chosen.description:
        updates["description"] = chosen.description
    return Spec(spec.model.model_copy(update=updates), spec.raw, spec.file, spec.overrides)


def with_overrides(spec: Spec, input_shape: tuple[int, ...] | None = None, args: dict[str, Any] | None = None,
                   origin: str = "--set", until: str | None = None) -> Spec:
    """A spec with its input shape, declared arguments or cut replaced (``--input``, ``--set``,
    ``--until``, or an answer key's ``input:`` and ``set:``, which ``origin`` names in errors)."""
    updates: dict[str, Any] = {}
    if until is not None:
        check_name(until, lambda message, hint=None: SpecError(f"--until: {message}", hint=hint))
        updates["until"] = until
    if input_shape is not None:
        try:
            check_input_shape(input_shape)
        except ValueError as err:
            raise SpecError(f"--input {','.join(map(str, input_shape))}: {err}") from None
        updates["input"] = tuple(input_shape)
    if args:
        unknown = [name for name in args if name not in spec.model.args]
        if unknown:
            declared = ", ".join(spec.model.args) or "none"
            raise SpecError(
                f"{origin} {short_text(str(unknown[0]))}: the spec declares no argument "
                f"'{short_text(str(unknown[0]))}' (declared: {declared})",
                source=spec.source(spec.raw.line_of("args")),
            )
        updates["args"] = {**spec.model.args, **args}
    if not updates:
        return spec
    return Spec(spec.model.model_copy(update=updates), spec.raw, spec.file, {**spec.overrides, **updates})
