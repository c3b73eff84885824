"""Argument references in specs: ``$name`` and ``$(expression)``.

Modules and specs declare arguments; layer fields refer to them as ``$n3x3`` or compute
from them as ``$(width * 2)``. Parentheses, not braces, so that the expression needs no
quotes inside a YAML flow mapping (``{out: $(c * 2), kernel: 1}``); ``${...}`` is accepted
too where YAML allows it. Expressions are parsed with :mod:`ast` and evaluated by a
whitelist (numbers, names, + − × / // %, unary minus, parentheses): YAML is data, and
nothing in it is ever ``eval``-ed.
"""

from __future__ import annotations

import ast
import math
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
    if isinstance(node, ast.Name):
        return _lookup(node.id, env)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand, env)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        try:
            return _BINARY[type(node.op)](_evaluate(node.left, env), _evaluate(node.right, env))
        except (TypeError, ZeroDivisionError, OverflowError) as err:
            raise ExpressionError(f"cannot compute: {err}") from None
    raise ExpressionError("only numbers, argument names, + - * / // % and parentheses are allowed")


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
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExpressionError(f"cannot parse expression {short_repr(text)}") from None
    value = _evaluate(tree, env)
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
        raise ExpressionError(f"{short_repr(value)} is neither $name nor $(expression)")
    if isinstance(value, list):
        return [substitute(item, env) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, env) for key, item in value.items()}
    return value
