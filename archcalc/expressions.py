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
import operator
import re
from collections.abc import Mapping
from typing import Any

_NAME = re.compile(r"^\$([A-Za-z_]\w*)$")
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
        except (TypeError, ZeroDivisionError) as err:
            raise ExpressionError(f"cannot compute: {err}") from None
    raise ExpressionError("only numbers, argument names, + - * / // % and parentheses are allowed")


def evaluate(text: str, env: Mapping[str, Any]) -> Any:
    """Value of an arithmetic expression over the arguments in ``env``.

    A float result that is a whole number becomes an int, so ``${c / 2}`` can be a
    channel count.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ExpressionError(f"cannot parse expression '{text}'") from None
    value = _evaluate(tree, env)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def substitute(value: Any, env: Mapping[str, Any]) -> Any:
    """``value`` with every ``$name`` / ``${expr}`` string replaced, recursively."""
    if isinstance(value, str) and value.startswith("$"):
        match = _NAME.match(value)
        if match:
            return _lookup(match.group(1), env)
        if (value.startswith("$(") and value.endswith(")")) or (value.startswith("${") and value.endswith("}")):
            return evaluate(value[2:-1], env)
        raise ExpressionError(f"'{value}' is neither $name nor $(expression)")
    if isinstance(value, list):
        return [substitute(item, env) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, env) for key, item in value.items()}
    return value
