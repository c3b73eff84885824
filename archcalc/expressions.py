"""Argument references in specs: ``$name`` and ``$(expression)``.

Modules and specs declare arguments; layer fields refer to them as ``$n3x3`` or compute
from them as ``$(width * 2)``. Parentheses, not braces, so that the expression needs no
quotes inside a YAML flow mapping (``{out: $(c * 2), kernel: 1}``); ``${...}`` is accepted
too where YAML allows it. Expressions are parsed with :mod:`ast` and evaluated by a
whitelist: numbers, names, + − × / // %, unary minus, parentheses, comparisons, ``and``,
``or``, ``not``, ``true``/``false``, ``a if condition else b``, and the functions in
:data:`FUNCTIONS` (the rounding every width-multiplied network needs). YAML is data, and
nothing in it is ever ``eval``-ed.
"""

from __future__ import annotations

import ast
import math
from functools import lru_cache
import operator
import re
from collections.abc import Mapping
from typing import Any

from .errors import short_repr
from .limits import MAX_DIM, MAX_EXPRESSION_CHARS, MAX_INT_DIGITS

_NAME = re.compile(r"^\$([A-Za-z_]\w*)$")
_LONG_NUMBER = re.compile(r"\d{%d}" % (MAX_INT_DIGITS + 1))
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}


_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def divisible(value: float, divisor: int = 8, minimum: int | None = None) -> int:
    """``value`` rounded to the nearest multiple of ``divisor``, at least ``minimum`` (default
    ``divisor``) and never more than 10 % below ``value``: the channel rounding of MobileNet v2/v3,
    EfficientNet and RegNet (torchvision's ``_make_divisible``)."""
    minimum = divisor if minimum is None else minimum
    rounded = max(minimum, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _rounded(function: Any) -> Any:
    """``function`` (ceil, floor, round, int) on a finite number within MAX_DIM, as an int."""
    def call(value: float) -> int:
        if not math.isfinite(value) or abs(value) > MAX_DIM:
            raise ExpressionError(f"{short_repr(value)} is beyond the limit of {MAX_DIM:,} (MAX_DIM)")
        return int(function(value))
    return call


FUNCTIONS = {
    "ceil": _rounded(math.ceil),
    "floor": _rounded(math.floor),
    "round": _rounded(round),
    "int": _rounded(int),
    "min": min,
    "max": max,
    "divisible": divisible,
}
"""Functions an expression may call: ``ceil(3 * depth)``, ``divisible(32 * width, 8)``."""


class ExpressionError(ValueError):
    """A reference or expression that cannot be evaluated; the message says why."""


def _lookup(name: str, env: Mapping[str, Any]) -> Any:
    if name not in env:
        known = ", ".join(sorted(env)) or "none"
        raise ExpressionError(f"unknown argument '${name}' (arguments here: {known})")
    return env[name]


def _evaluate(node: ast.AST, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, env)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value  # compared with a text argument: $(norm == 'batch')
    if isinstance(node, ast.Name):
        if node.id in ("true", "True", "false", "False") and node.id not in env:
            return node.id in ("true", "True")
        return _lookup(node.id, env)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_number(_evaluate(node.operand, env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _evaluate(node.operand, env)
    if isinstance(node, ast.BoolOp):
        values = (_evaluate(value, env) for value in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _evaluate(node.left, env)
        for op, right_node in zip(node.ops, node.comparators):
            right = _evaluate(right_node, env)
            try:
                if not _COMPARE[type(op)](left, right):
                    return False
            except TypeError as err:
                raise ExpressionError(f"cannot compare: {err}") from None
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _evaluate(node.body if _evaluate(node.test, env) else node.orelse, env)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and not node.keywords:
        args = [_number(_evaluate(arg, env)) for arg in node.args]
        try:
            return FUNCTIONS[node.func.id](*args)
        except TypeError:
            raise ExpressionError(f"{node.func.id}() does not take {len(args)} argument(s)") from None
        except (OverflowError, ValueError, ZeroDivisionError) as err:
            raise ExpressionError(f"cannot compute {node.func.id}(): {err}") from None
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        try:
            return _BINARY[type(node.op)](_number(_evaluate(node.left, env)), _number(_evaluate(node.right, env)))
        except (TypeError, ZeroDivisionError, OverflowError) as err:
            raise ExpressionError(f"cannot compute: {err}") from None
    raise ExpressionError("only numbers, argument names, + - * / // %, comparisons, and/or/not, 'a if c else b', "
                          f"parentheses and the functions {', '.join(FUNCTIONS)} are allowed")


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"expected a number, got {short_repr(value)}")
    return value


@lru_cache(maxsize=4096)
def _parsed(text: str) -> ast.Expression:
    """The syntax tree of an expression (parsed once: a family's expressions repeat in every block)."""
    try:
        return ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExpressionError(f"cannot parse expression {short_repr(text)}") from None


def evaluate(text: str, env: Mapping[str, Any]) -> Any:
    """Value of an arithmetic expression over the arguments in ``env``.

    A float result that is a whole number becomes an int, so ``${c / 2}`` can be a
    channel count. The text is bounded before it is parsed (a 20,000-term sum would exhaust
    the parser's recursion, a long run of '-' its memory), and so is the result.
    """
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"an expression of {len(text):,} characters is over the limit of "
                              f"{MAX_EXPRESSION_CHARS} (MAX_EXPRESSION_CHARS)")
    if _LONG_NUMBER.search(text):
        raise ExpressionError(f"a number in the expression has more than {MAX_INT_DIGITS} digits (MAX_INT_DIGITS)")
    value = _evaluate(_parsed(text), env)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, float) and not math.isfinite(value) or isinstance(value, int) and abs(value) > MAX_DIM:
        raise ExpressionError(f"the expression {short_repr(text)} gives {short_repr(value)}, beyond the limit of "
                              f"{MAX_DIM:,} (MAX_DIM)")
    return value


def substitute(value: Any, env: Mapping[str, Any]) -> Any:
    """``value`` with every ``$name`` / ``${expr}`` string replaced, recursively."""
    if isinstance(value, str) and value.startswith("$"):
        match = _NAME.match(value)
        if match:
            return _lookup(match.group(1), env)
        if (value.startswith("$(") and value.endswith(")")) or (value.startswith("${") and value.endswith("}")):
            return evaluate(value[2:-1], env)
        if value.startswith("$(") and value.count("(") > value.count(")"):
            raise ExpressionError(f"{short_repr(value)} is an unclosed $(expression): inside {{ }} a comma ends "
                                  "the value, so quote an expression that has one: \"$(max(8, c))\"")
        raise ExpressionError(f"{short_repr(value)} is neither $name nor $(expression)")
    if isinstance(value, list):
        return [substitute(item, env) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, env) for key, item in value.items()}
    return value
