"""Grading: compare each answer with its target, recognise named mistakes, give points.

Matching rules:
- an answer written as a plain integer must be exact;
- an approximate answer ("62.4M", "3.4944e4", "1.16 MB") is right when the true value, rounded
  at the place of its last written digit, equals it, and it has at least the key's
  ``min_sig_figs`` significant figures; a question's ``tolerance`` (relative) replaces both;
- shapes compare element by element, in the key's order;
- "invalid" is right only where the key's rounding convention makes the layer invalid.
A wrong answer that equals what a named mistake produces gets that mistake's feedback and the
partial credit the key gives it (none unless the key says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from ..errors import Source, SpecError, short_repr
from .answers import DECIMALS, Answer, Submission, parse_answer
from .key import Key, Question
from .targets import Alternative, Network, Target, Targets


@dataclass(frozen=True)
class QuestionResult:
    id: str
    quantity: str
    where: str
    text: str | None
    expected: str
    given: str
    verdict: str  # 'correct', 'partial', 'wrong', 'unreadable', 'missing'
    points: float
    max_points: float
    formula: str
    feedback: str
    mistake: str | None = None


@dataclass(frozen=True)
class Report:
    student: str
    gradable: bool
    results: tuple[QuestionResult, ...]
    possible: float  # the key's total points
    error: str | None = None
    unknown: tuple[str, ...] = ()  # answers to questions the key does not have

    @property
    def score(self) -> float:
        return round(sum(r.points for r in self.results), 6)

    @property
    def max_score(self) -> float:
        return round(self.possible, 6)

    @property
    def fully_correct(self) -> bool:
        return self.gradable and all(r.verdict == "correct" for r in self.results)


def _matches(expected: Any, kind: str, answer: Answer, question: Question, min_sig: int) -> tuple[bool, str]:
    """(matches, why not) for one candidate value."""
    if kind == "invalid" or expected == "invalid":
        return answer.kind == "invalid", ""
    if answer.kind == "invalid":
        return False, "this one has an answer: only quantities that depend on a non-integer size are invalid"
    if isinstance(expected, tuple):
        if answer.kind == "shape":
            return answer.value == expected, ""
        return False, "expected a shape"
    if answer.kind == "shape":
        square = question.quantity in ("rf", "same_padding") and len(set(answer.value)) == 1  # 7×7 for 7
        if len(answer.value) == 1 or square:
            return _matches(expected, kind, Answer(answer.raw, "number", Decimal(answer.value[0])), question, min_sig)
        return False, "expected one number"
    true = Decimal(expected)
    given = answer.value
    if question.tolerance is not None:
        return abs(given - true) <= Decimal(str(question.tolerance)) * abs(true), ""
    if answer.quantum is None:
        return given == true, ""
    rounded = (true / answer.quantum).quantize(Decimal(1), rounding=ROUND_HALF_UP) * answer.quantum
    if rounded != given:
        return False, ""
    if (answer.sig_figs or 0) < min_sig:
        return False, f"{answer.raw.strip()} has {answer.sig_figs} significant figure{'s' if answer.sig_figs != 1 else ''}; give at least {min_sig}"
    return True, ""


def _truncated(target: Target, answer: Answer) -> bool:
    if target.kind not in ("count", "memory") or answer.kind != "number" or answer.quantum is None:
        return False
    true = Decimal(target.value)
    return (true / answer.quantum).quantize(Decimal(1), rounding=ROUND_FLOOR) * answer.quantum == answer.value


def grade_question(question: Question, target: Target, raw: Any, key: Key) -> QuestionResult:
    with localcontext(DECIMALS):
        return _grade_question(question, target, raw, key)


def _grade_question(question: Question, target: Target, raw: Any, key: Key) -> QuestionResult:
    profile = key.model.convention
    base = dict(id=question.id, quantity=question.quantity, where=question.layer or "network", text=question.text,
                expected=target.display, max_points=question.points, formula=target.formula)
    if raw is None:
        return QuestionResult(**base, given="", verdict="missing", points=0.0, feedback="no answer")
    answer = parse_answer(raw, question.quantity, profile.memory_unit, profile.shape_order)
    given = answer.raw if isinstance(answer.raw, str) else str(answer.raw)
    if answer.kind == "unreadable":
        return QuestionResult(**base, given=given, verdict="unreadable", points=0.0, feedback=answer.message)
    ok, why = _matches(target.value, target.kind, answer, question, profile.min_sig_figs)
    if ok:
        return QuestionResult(**base, given=given, verdict="correct", points=question.points, feedback="")
    if why:
        return QuestionResult(**base, given=given, verdict="wrong", points=0.0, feedback=why)
    alternatives = list(target.alternatives)
    if _truncated(target, answer):
        alternatives.append(Alternative("truncated", answer.value,
                                        f"{given.strip()} is the true value cut, not rounded; rounded it is "
                                        f"{_rounded_text(target, answer)}"))
    for alternative in alternatives:
        if _matches(alternative.value, "count", answer, question, profile.min_sig_figs)[0]:
            fraction = question.partial.get(alternative.mistake, key.model.partial.get(alternative.mistake, 0.0))
            verdict = "partial" if fraction > 0 else "wrong"
            return QuestionResult(**base, given=given, verdict=verdict, points=round(question.points * fraction, 6),
                                  feedback=alternative.feedback, mistake=alternative.mistake)
    return QuestionResult(**base, given=given, verdict="wrong", points=0.0, feedback="")


def _rounded_text(target: Target, answer: Answer) -> str:
    """The true value rounded at the student's precision, written the student's way (62.4M)."""
    steps = (Decimal(target.value) / answer.quantum).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    mantissa = steps * answer.quantum / answer.scale
    places = max(-(answer.quantum / answer.scale).normalize().as_tuple().exponent, 0)
    return f"{mantissa:.{places}f}{answer.suffix}"


class Grader:
    """A key with its network analysed once, grading any number of submissions."""

    def __init__(self, key: Key) -> None:
        self.key = key
        self.network = Network(key)
        targets = Targets(self.network)
        self.targets: dict[str, Target] = {}
        for index, question in enumerate(key.model.questions):
            target = targets.target(question, key.question_source(index))
            if question.expected is not None:
                target = self._override(question, target, key.source("questions", index, "expected"))
            self.targets[question.id] = target

    def _override(self, question: Question, computed: Target, source: Source) -> Target:
        """The key's own expected value, parsed like an answer; the note says why."""
        expected = question.expected
        written = [str(v) for v in expected] if isinstance(expected, list) else str(expected)
        with localcontext(DECIMALS):
            answer = parse_answer(written, question.quantity, self.key.model.convention.memory_unit,
                                  self.key.model.convention.shape_order)
        if answer.kind == "unreadable":
            raise SpecError(f"question '{question.id}': expected value {short_repr(expected)}: {answer.message}",
                            source=source)
        value = answer.value if answer.kind != "invalid" else "invalid"
        if answer.kind == "number" and answer.quantum is None:
            value = int(value)
        kind = "shape" if answer.kind == "shape" else "invalid" if answer.kind == "invalid" else computed.kind
        note = f" (set by the key: {question.note})" if question.note else " (set by the key)"
        display = str(expected)
        return Target(kind, value, f"{computed.display} by archcalc's count{note}; {computed.formula}", display,
                      computed.alternatives)

    def grade(self, submission: Submission) -> Report:
        """The report of one submission. Never raises: whatever a file holds makes at most that
        one student ungradable, so the rest of a class is still graded."""
        possible = sum(q.points for q in self.key.model.questions)
        if not submission.gradable:
            return Report(submission.student, False, (), possible, submission.error)
        try:
            results = tuple(grade_question(question, self.targets[question.id], submission.answers.get(question.id),
                                           self.key) for question in self.key.model.questions)
        except Exception as err:  # noqa: BLE001 - the last line of defence for the batch; tests keep it unused
            return Report(submission.student, False, (), possible,
                          f"archcalc failed on this file (a bug, please report it): {type(err).__name__}: {err}")
        known = {q.id for q in self.key.model.questions}
        unknown = tuple(sorted(k for k in submission.answers if k not in known))
        return Report(submission.student, True, results, possible, unknown=unknown)
