"""Grade reports as text, JSON, Gradescope's results.json, PrairieLearn's results, and CSV.

Gradescope (autograder results.json): top-level ``score``, ``output`` and ``tests``; each test
has ``name``, ``number``, ``score``, ``max_score``, ``status`` ('passed'/'failed'), ``output``,
``output_format`` and ``visibility``. PrairieLearn (external grader results): ``gradable``,
``score`` in [0, 1], ``message``, ``output`` and ``tests`` (``name``, ``description``,
``points``, ``max_points``, ``message``, ``output``); an unreadable submission is
``gradable: false`` with ``format_errors``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from .grade import QuestionResult, Report


def _points(value: float) -> str:
    return f"{value:g}"


def _detail(result: QuestionResult) -> str:
    lines = [f"expected: {result.expected}", f"given:    {result.given or '(nothing)'}", f"verdict:  {result.verdict}"]
    if result.feedback:
        lines.append(f"feedback: {result.feedback}")
    lines.append(f"working:  {result.formula}")
    return "\n".join(lines)


def _title(result: QuestionResult) -> str:
    return f"{result.id}: {result.quantity.replace('_', ' ')} of {result.where}"


def text_report(report: Report, title: str) -> str:
    head = f"{title} — {report.student}"
    if not report.gradable:
        return f"{head}: ungradable: {report.error}\n"
    lines = [f"{head}: {_points(report.score)} / {_points(report.max_score)} points"]
    for r in report.results:
        lines.append(f"  {_title(r)}  [{r.verdict}, {_points(r.points)}/{_points(r.max_points)}]")
        lines += [f"    {line}" for line in _detail(r).splitlines()]
    if report.unknown:
        lines.append(f"  note: answers to questions the key does not have: {', '.join(report.unknown)}")
    return "\n".join(lines) + "\n"


def json_report(report: Report) -> dict[str, Any]:
    return {
        "student": report.student, "gradable": report.gradable, "error": report.error,
        "score": report.score, "max_score": report.max_score, "unknown_questions": list(report.unknown),
        "questions": [r.__dict__ for r in report.results],
    }


def gradescope(report: Report) -> dict[str, Any]:
    if not report.gradable:
        return {"score": 0.0, "output": f"Your submission could not be graded: {report.error}", "tests": []}
    tests = [{
        "name": _title(r), "number": r.id, "score": r.points, "max_score": r.max_points,
        "status": "passed" if r.verdict == "correct" else "failed", "output": _detail(r),
        "output_format": "text", "visibility": "visible",
    } for r in report.results]
    return {"score": report.score, "output": f"{_points(report.score)} / {_points(report.max_score)} points",
            "tests": tests}


def prairielearn(report: Report) -> dict[str, Any]:
    if not report.gradable:
        return {"gradable": False, "score": 0.0, "format_errors": [report.error], "message": report.error}
    tests = [{"name": _title(r), "description": r.text or _title(r), "points": r.points, "max_points": r.max_points,
              "message": r.feedback or r.verdict, "output": _detail(r)} for r in report.results]
    score = report.score / report.max_score if report.max_score else 0.0
    return {"gradable": True, "score": min(max(score, 0.0), 1.0),
            "message": f"{_points(report.score)} / {_points(report.max_score)} points", "output": "", "tests": tests}


def summary_csv(reports: Sequence[Report], question_ids: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "gradable", "score", "max_score", *question_ids, "error"])
    for report in reports:
        points = {r.id: r.points for r in report.results}
        writer.writerow([report.student, report.gradable, _points(report.score), _points(report.max_score),
                         *(_points(points[q]) if q in points else "" for q in question_ids), report.error or ""])
    return buffer.getvalue()


def render_reports(reports: Sequence[Report], fmt: str, title: str) -> str:
    if fmt == "text":
        return "\n".join(text_report(r, title) for r in reports)
    convert = {"json": json_report, "gradescope": gradescope, "prairielearn": prairielearn}[fmt]
    data: Any = convert(reports[0]) if len(reports) == 1 else {r.student: convert(r) for r in reports}
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
