"""Students' answers: untrusted files, and the many ways people write a number or a shape.

A submission is a YAML mapping of question id to answer. It is read defensively: at most
MAX_ANSWER_BYTES, UTF-8 only, YAML with every scalar kept as text (BaseLoader: no type guessing, no
tags), aliases counted as expanded, nesting bounded; any failure makes that one submission
ungradable, with a message, and never stops the others.

Values: ``34,944``, ``34 944``, ``3.4944e4``, ``62.4M``, ``0.72 GMACs``, ``1.16 MB``,
``55x55x96``, ``(96, 55, 55)``, ``[96, 55, 55]``, ``invalid``. A decimal comma (``62,3M``)
is ambiguous and reported as unreadable, never guessed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext
from pathlib import Path
from typing import Any

import yaml

from ..errors import Source, SpecError
from ..limits import (MAX_ANSWER_BYTES, MAX_ANSWER_CHARS, MAX_ANSWER_DEPTH, MAX_ANSWER_DIGITS, MAX_ANSWER_EXPONENT,
                      MAX_ANSWER_VALUES)
from ..yaml_source import parse_yaml, read_text


class _Loader(getattr(yaml, "CBaseLoader", yaml.BaseLoader)):  # type: ignore[misc]
    """Every scalar as text (no type guessing, no tags); a question answered twice is an error."""


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> dict[str, Any]:
    result: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise SpecError("a question id must be plain text", source=Source("", key_node.start_mark.line + 1))
        if key in result:
            raise SpecError(f"'{key}' is answered twice (first on line {lines[key]})",
                            source=Source("", key_node.start_mark.line + 1))
        result[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)

INVALID_WORDS = {"invalid", "not valid", "impossible", "not possible", "not an integer", "undefined"}
_MULTIPLIERS = {"k": 10**3, "thousand": 10**3, "m": 10**6, "mil": 10**6, "mill": 10**6, "mln": 10**6, "mio": 10**6,
                "million": 10**6, "g": 10**9, "b": 10**9, "bn": 10**9, "billion": 10**9, "t": 10**12,
                "trillion": 10**12}
_UNIT_WORDS = r"(?:macs?|mult-adds?|multiply-adds?|flops?|ops|params?|parameters?|weights?)"
_NUMBER = re.compile(
    r"^(?P<mantissa>[+-]?(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+)"
    r"(?:[eE](?P<exponent>[+-]?\d+))?"
    r"\s*(?P<multiplier>thousand|million|billion|trillion|mill|mil|mln|mio|bn|[kKmMgGbBtT](?=\s|$|" + _UNIT_WORDS + r"))?"
    r"\s*(?P<unit>" + _UNIT_WORDS + r")?\s*$",
    re.IGNORECASE,
)
_BYTES = {"b": 1, "byte": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20,
          "gib": 2**30}
_MEMORY = re.compile(r"^(?P<number>[0-9][0-9,. ]*(?:[eE][+-]?\d+)?)\s*(?P<unit>[kmg]i?b|bytes?|b)?\s*$", re.IGNORECASE)
_SHAPE = re.compile(r"^[(\[]?\s*[0-9]{1,20}(?:\s*[x×*,]\s*[0-9]{1,20})+\s*[)\]]?$")
_DIM = re.compile(r"[0-9]{1,20}")
# "3.49×10^4", "3.49 x 10**4", "3.49·10⁴": the exponent form people write by hand, read as "3.49e4"
_TIMES_TEN = re.compile(r"\s*[x×*·]\s*10\s*(?:\^|\*\*)?\s*(?P<exponent>[+\-−]?[0-9]+|[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻−", "0123456789+--")

DECIMALS = Context(prec=256, Emax=10_000, Emin=-10_000, traps=[InvalidOperation, DivisionByZero, Overflow])
"""Decimal arithmetic for grading: wide enough that no answer within the limits (MAX_ANSWER_DIGITS
digits, exponents up to MAX_ANSWER_EXPONENT) is rounded, or overflows, on the way."""


@dataclass(frozen=True)
class Answer:
    """One parsed answer."""

    raw: str
    kind: str  # 'number', 'shape', 'invalid' or 'unreadable'
    value: Any = None  # Decimal for numbers (bytes for memory), tuple of ints for shapes
    sig_figs: int | None = None  # None: an exact integer as written
    message: str = ""
    quantum: Decimal | None = None  # the place of the last written digit (0.1M -> 100,000); None: exact
    scale: Decimal = Decimal(1)  # what the written mantissa is multiplied by ('M': 10^6)
    suffix: str = ""  # how the student wrote that scale ('M', 'e4', ' GMACs')


@dataclass(frozen=True)
class Submission:
    student: str
    answers: dict[str, Any]  # question id -> raw value (str or list of str)
    error: str | None = None  # set when the whole file cannot be graded

    @property
    def gradable(self) -> bool:
        return self.error is None


def read_submission(path: Path) -> Submission:
    """A student's answers, or a Submission with ``error`` set: never an exception."""
    student = path.stem
    try:
        text = read_text(path, MAX_ANSWER_BYTES)
        if "\x00" in text:
            return Submission(student, {}, "not a text file (it contains NUL bytes)")
        document = parse_yaml(text, str(path), _Loader, MAX_ANSWER_VALUES, MAX_ANSWER_DEPTH)
    except SpecError as err:
        line = f"line {err.source.line}: " if err.source is not None and err.source.line is not None else ""
        return Submission(student, {}, f"{line}{err.message}")
    if not isinstance(document, dict):
        return Submission(student, {}, "expected a mapping of question id to answer, like 'q1: 55x55x96'")
    return Submission(student, {str(key): value for key, value in document.items()})


def _sig_figs(mantissa: str) -> int:
    digits = re.sub(r"[^0-9]", "", mantissa).lstrip("0")
    return max(len(digits), 1)


def _times_ten(match: re.Match[str]) -> str:
    return "e" + match["exponent"].translate(_SUPERSCRIPT)


@lru_cache(maxsize=4096)
def parse_number(raw: str) -> Answer:
    """A count: exact when written as a plain integer, approximate (with its significant
    figures) when written with a decimal point, an exponent or a multiplier. Cached: a class's
    answers repeat from file to file, and an Answer is immutable."""
    text = raw.strip()
    if re.search(r"\d,\d", text) and not re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?.*", text):
        return Answer(raw, "unreadable", message=f"'{text}' has a decimal comma, which is ambiguous: write "
                                                 f"{text.replace(',', '.')} for a decimal point")
    match = _NUMBER.match(_TIMES_TEN.sub(_times_ten, text, count=1))
    if not match or not match["mantissa"].isascii():
        return Answer(raw, "unreadable", message="not a number archcalc can read (try 34,944 or 62.4M)")
    mantissa = match["mantissa"].replace(",", "").replace(" ", "")
    if sum(ch.isdigit() for ch in mantissa) > MAX_ANSWER_DIGITS:
        return Answer(raw, "unreadable", message=f"more than {MAX_ANSWER_DIGITS} digits (MAX_ANSWER_DIGITS)")
    exponent = match["exponent"] or "0"
    if len(exponent.lstrip("+-")) > 4 or abs(int(exponent)) > MAX_ANSWER_EXPONENT:
        return Answer(raw, "unreadable", message=f"the exponent {exponent} is beyond ±{MAX_ANSWER_EXPONENT} "
                                                 "(MAX_ANSWER_EXPONENT)")
    value = Decimal(mantissa)
    exact = "." not in mantissa and not match["exponent"] and not match["multiplier"]
    scale = Decimal(1).scaleb(int(exponent)) * _MULTIPLIERS.get((match["multiplier"] or "").lower(), 1)
    quantum = Decimal(1).scaleb(value.as_tuple().exponent) * scale
    suffix = text[match.end("mantissa"):]
    return Answer(raw, "number", value * scale, None if exact else _sig_figs(mantissa),
                  quantum=None if exact else quantum, scale=scale, suffix=suffix)


def parse_memory(raw: str, unit: str) -> Answer:
    """Bytes, from a number in ``unit`` or with its own unit (``1.16 MB``, ``1.1 MiB``)."""
    match = _MEMORY.match(_TIMES_TEN.sub(_times_ten, raw.strip(), count=1))
    if not match:
        return Answer(raw, "unreadable", message="not a size archcalc can read (try 1.16 MB)")
    number = parse_number(match["number"])
    if number.kind != "number":
        return number
    factor = _BYTES[(match["unit"] or unit).lower()]
    if number.quantum is None and factor == 1:
        return number
    digits = number.sig_figs or len(str(abs(int(number.value))))
    return Answer(raw, "number", number.value * factor, digits, quantum=(number.quantum or Decimal(1)) * factor)


_EXAMPLE = {"hwc": ("55x55x96", "[55, 55, 96]"), "chw": ("96x55x55", "[96, 55, 55]")}


def parse_shape(raw: Any, order: str = "hwc") -> Answer:
    """A shape: ``55x55x96``, ``(55, 55, 96)``, a YAML list, or one number; hints in the key's ``order``."""
    text_form, list_form = _EXAMPLE.get(order, _EXAMPLE["hwc"])
    if isinstance(raw, list):
        parts = [str(p).strip() if isinstance(p, str) else "" for p in raw]
        if parts and parts[0].lower() == "none":
            parts = ["1"] + parts[1:]
        if parts and all(_DIM.fullmatch(p) for p in parts):
            return Answer(str(raw), "shape", tuple(int(p) for p in parts))
        return Answer(str(raw)[:80], "unreadable", message=f"a shape is a list of whole numbers, like {list_form}")
    text = str(raw).strip()
    normalized = re.sub(r"(?i)^([(\[]?\s*)none(\s*,)", r"\g<1>1\2", text)  # Keras prints (None, 55, 55, 96)
    if _SHAPE.match(normalized):
        return Answer(text, "shape", tuple(int(n) for n in _DIM.findall(normalized)))
    if _DIM.fullmatch(text):
        return Answer(text, "shape", (int(text),))
    return Answer(text, "unreadable", message=f"not a shape archcalc can read (try {text_form} or {list_form})")


def parse_answer(raw: Any, quantity: str, memory_unit: str, order: str = "hwc") -> Answer:
    """Parse one answer for a question about ``quantity``; ``order`` is the key's shape order
    (hints show examples in it)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return Answer("", "unreadable", message="no answer")
    if isinstance(raw, dict):
        return Answer(str(raw)[:80], "unreadable", message="expected one value, found a mapping")
    if len(raw) > MAX_ANSWER_CHARS or isinstance(raw, list) and len(str(raw)) > MAX_ANSWER_CHARS:
        return Answer(str(raw)[:80] + "…", "unreadable",
                      message=f"answer longer than {MAX_ANSWER_CHARS} characters (MAX_ANSWER_CHARS)")
    if isinstance(raw, str) and raw.strip().lower() in INVALID_WORDS:
        return Answer(raw, "invalid")
    with localcontext(DECIMALS):
        if quantity == "output_shape" or (isinstance(raw, list) and quantity in ("rf", "same_padding")):
            return parse_shape(raw, order)
        if isinstance(raw, list):
            return Answer(str(raw)[:80], "unreadable", message="expected one number, found a list")
        if quantity in ("rf", "same_padding") and _SHAPE.match(raw.strip()):
            return parse_shape(raw, order)
        if quantity == "activation_memory":
            return parse_memory(raw, memory_unit)
        return parse_number(raw)
