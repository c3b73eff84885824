"""``archcalc key lint``: questions about layers that do not exist, and questions whose answer
changes with a convention the key does not state (so students cannot know which to use)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ArchcalcError
from .key import Key
from .targets import Network, Targets

VARIANTS: dict[str, tuple[object, ...]] = {
    "rounding": ("floor", "ceil", "error"),
    "bias": (True, False),
    "bn_statistics": (False, True),
    "flops": ("2macs", "macs"),
    "memory_unit": ("MB", "MiB"),
    "shape_order": ("hwc", "chw"),
    "padding": ("per_side", "total"),
}


@dataclass(frozen=True)
class Finding:
    level: str  # 'error' or 'warning'
    question: str
    message: str
    line: int | None = None  # of the question in the key


def lint(key: Key) -> list[Finding]:
    network = Network(key)
    findings: list[Finding] = []
    answers: dict[str, str] = {}
    targets = Targets(network)
    for index, question in enumerate(key.model.questions):
        try:
            answers[question.id] = targets.target(question, key.question_source(index)).display
        except ArchcalcError as err:
            message = err.message.removeprefix(f"question '{question.id}': ")
            findings.append(Finding("error", question.id, message, key.question_source(index).line))
    stated = key.stated_conventions()
    for name, options in VARIANTS.items():
        if name in stated:
            continue
        current = getattr(key.model.convention, name)
        for option in options:
            if option == current:
                continue
            findings += _differences(key, network, name, option, answers)
    return findings


def _differences(key: Key, network: Network, name: str, option: object, answers: dict[str, str]) -> list[Finding]:
    profile = key.model.convention.model_copy(update={name: option})
    targets = Targets(network.under(profile), profile)
    findings = []
    for index, question in enumerate(key.model.questions):
        if question.id not in answers or question.expected is not None:
            continue
        other = targets.target(question, key.question_source(index)).display
        if other != answers[question.id]:
            current = getattr(key.model.convention, name)
            findings.append(Finding(
                "warning", question.id,
                f"the answer depends on '{name}', which the key does not state: {answers[question.id]} with "
                f"{name}: {_yaml(current)} (the default), {other} with {name}: {_yaml(option)}",
                key.question_source(index).line,
            ))
    return findings


def _yaml(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
