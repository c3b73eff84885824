"""The answer key (written by an instructor, trusted): network, conventions, questions.

See docs/grading.md for the format. The network is a zoo name, a spec file (relative to the
key), or a spec written inline; the conventions say how this course counts, since answer keys
disagree (bias or not, FLOPs = MACs or 2 × MACs, MB or MiB, H×W×C or C×H×W, floor, ceil or
"invalid" for a non-integer output size, padding per side or in total).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from ..errors import Source, SpecError, collected, short_repr
from ..layers.structure import InputShape
from ..limits import MAX_BATCH, MAX_QUESTIONS
from ..spec import Name, describe_validation_errors, line_at
from ..yaml_source import LineMap, load_yaml_file

Count = Annotated[int, Field(ge=1, le=MAX_BATCH)]
"""A batch size or a byte width: a positive integer, bounded."""

def _expected(value: Any) -> Any:
    ok_scalar = isinstance(value, (int, float, str)) and not isinstance(value, bool)
    ok_list = isinstance(value, list) and all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in value)
    if not (ok_scalar or ok_list) or isinstance(value, float) and not math.isfinite(value):
        raise ValueError("expected a number (447897600), text as a student would write it ('62.4M', "
                         "'55x55x96', 'invalid') or a list of whole numbers")
    return value


Expected = Annotated[Any, BeforeValidator(_expected)]
"""A key's own answer: a number, text as a student would write it, or a shape as a list; never a
boolean, a mapping or a non-finite number."""


def _network(value: Any) -> Any:
    if not isinstance(value, (str, dict)):
        raise ValueError("expected a built-in spec name, a spec file relative to the key, or a spec written inline")
    return value

_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

Quantity = Literal["output_shape", "params", "macs", "flops", "rf", "activation_memory", "same_padding"]
Mistake = Literal[
    "bias_omitted", "bias_counted", "bn_statistics", "input_depth_ignored", "macs_for_flops", "floor_vs_ceil",
    "rounded_invalid", "rf_k_not_k_minus_1", "mb_vs_mib", "batch_included", "shape_order_swapped",
    "total_vs_per_side", "truncated",
]
MISTAKES: tuple[str, ...] = Mistake.__args__  # type: ignore[attr-defined]


class ConventionProfile(BaseModel):
    """How this key counts. Every field a key leaves out takes the default below, and
    ``archcalc key lint`` flags the questions whose answer depends on it."""

    model_config = _STRICT

    rounding: Literal["floor", "ceil", "error"] = "floor"  # non-integer output size: floor, ceil or "invalid"
    bias: bool = True  # biases count as parameters
    bn_statistics: bool = False  # BatchNorm running mean/var count as parameters (Keras)
    flops: Literal["2macs", "macs", "mults"] = "2macs"  # what "FLOPs" means
    memory_unit: Literal["B", "KB", "MB", "GB", "KiB", "MiB", "GiB"] = "MB"
    bytes_per_value: Count = 4
    batch: Count = 1  # the batch the memory answer includes
    mentioned_batch: Count | None = None  # a batch size the assignment mentions (to detect it creeping in)
    shape_order: Literal["hwc", "chw"] = "hwc"
    padding: Literal["per_side", "total"] = "per_side"
    min_sig_figs: Annotated[int, Field(ge=1, le=20)] = 3  # approximate answers ("62.4M") need at least this many significant figures


class Question(BaseModel):
    model_config = _STRICT

    id: Name = Field(min_length=1)
    quantity: Quantity
    layer: Name | None = None  # a layer or module instance; none: the whole network
    points: float = Field(1.0, gt=0)
    text: str | None = None  # the question as the students read it
    tolerance: float | None = Field(None, ge=0)  # relative; overrides significant-figure matching
    expected: Expected | None = None  # overrides the computed answer (with a note saying why)
    note: str | None = None
    partial: dict[Mistake, float] = {}  # named mistake -> fraction of the points

    @field_validator("partial")
    @classmethod
    def _fractions(cls, value: dict[str, float]) -> dict[str, float]:
        if any(not 0 <= fraction <= 1 for fraction in value.values()):
            raise ValueError("partial credit is a fraction of the points, between 0 and 1")
        return value


class KeyModel(BaseModel):
    model_config = _STRICT

    title: Name
    network: Annotated[Name | dict[str, Any], BeforeValidator(_network)]
    input: InputShape | None = None
    set: dict[str, Any] = {}
    convention: ConventionProfile = Field(default_factory=ConventionProfile)
    partial: dict[Mistake, float] = {}  # defaults for every question
    questions: list[Question] = Field(min_length=1, max_length=MAX_QUESTIONS)



class Key:
    """A validated key, with what it needs to find lines and its network."""

    def __init__(self, model: KeyModel, raw: LineMap, path: Path) -> None:
        self.model = model
        self.raw = raw
        self.path = path

    def source(self, *loc: Any) -> Source:
        return Source(str(self.path), line_at(self.raw, loc))

    def question_source(self, index: int) -> Source:
        return self.source("questions", index)

    def stated_conventions(self) -> set[str]:
        return set(self.model.convention.model_fields_set)


def load_key(path: Path) -> Key:
    """Load and validate an answer key; errors name the file and line."""
    raw = load_yaml_file(path)
    if not isinstance(raw, LineMap):
        raise SpecError("an answer key is a mapping with 'title', 'network' and 'questions'", source=Source(str(path), 1),
                        hint="'archcalc docs grading' shows a complete example")
    try:
        model = KeyModel.model_validate(dict(raw))
    except ValidationError as err:
        fields = list(KeyModel.model_fields) + list(Question.model_fields) + list(ConventionProfile.model_fields)
        raise collected([SpecError(_question_of(raw, loc) + message, source=Source(str(path), line_at(raw, loc)), hint=hint)
                         for message, loc, hint in describe_validation_errors(err, fields)]) from None
    _check_unique_ids(model, raw, path)
    return Key(model, raw, path)


def _check_unique_ids(model: KeyModel, raw: LineMap, path: Path) -> None:
    """Each question id once; a repeat is reported at its own line, with the first one's."""
    seen: dict[str, int] = {}
    for index, question in enumerate(model.questions):
        line = line_at(raw, ("questions", index))
        if question.id in seen:
            raise SpecError(f"question '{question.id}' is asked twice (first on line {seen[question.id]})",
                            source=Source(str(path), line), hint="give each question its own id")
        seen[question.id] = line


def _question_of(raw: LineMap, loc: tuple[Any, ...]) -> str:
    """'question 'q2': ' when an error sits inside a question that has an id."""
    questions = raw.get("questions")
    if len(loc) < 2 or loc[0] != "questions" or not isinstance(questions, list) or not isinstance(loc[1], int):
        return ""
    entry = questions[loc[1]] if loc[1] < len(questions) else None
    ident = entry.get("id") if isinstance(entry, dict) else None
    return f"question {short_repr(ident)}: " if isinstance(ident, str) else f"question #{loc[1] + 1}: "
