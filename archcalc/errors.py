"""The one exception hierarchy of archcalc.

Every error a user can cause is an :class:`ArchcalcError`; the CLI turns it into
``file:line: layer 'name': message`` plus a hint and a non-zero exit, in one place
(``archcalc.cli``). Anything else escaping is a bug in archcalc.
"""

from __future__ import annotations

from typing import NamedTuple


class Source(NamedTuple):
    """Where something was written: a file and a 1-based line (None when unknown). A NamedTuple:
    immutable, and quick to make for every layer."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


class ArchcalcError(Exception):
    """A problem with the user's input, located as precisely as we know it."""

    def __init__(
        self,
        message: str,
        *,
        source: Source | None = None,
        layer: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.layer = layer
        self.hint = hint

    def located(self, source: Source | None, layer: str | None) -> ArchcalcError:
        """A copy of this error of the same class, placed at ``source`` / ``layer``."""
        return type(self)(
            self.message,
            source=self.source or source,
            layer=self.layer or layer,
            hint=self.hint,
        )

    def __str__(self) -> str:
        parts = []
        if self.source is not None:
            parts.append(str(self.source))
        if self.layer is not None:
            parts.append(f"layer '{self.layer}'")
        parts.append(self.message)
        text = ": ".join(parts)
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


def short_text(text: str, width: int = 60) -> str:
    """``text`` cut to ``width`` characters: error messages quote untrusted values, which may
    be a megabyte long."""
    return text if len(text) <= width else text[: width - 1] + "…"


def close_matches(word: str, candidates: list[str], n: int = 1) -> list[str]:
    """The candidates most like ``word``, best first, for "did you mean" hints (difflib, imported
    only when an error needs it: no successful run pays for it)."""
    import difflib

    return difflib.get_close_matches(word, candidates, n=n)


def short_repr(value: object, width: int = 60) -> str:
    """``repr(value)``, cut like :func:`short_text`."""
    return short_text(repr(value), width)


class SpecError(ArchcalcError):
    """The YAML is malformed or does not follow the spec schema."""


class SpecErrors(SpecError):
    """Several independent errors found in one file (typos in three layers are three errors,
    reported together so a student fixes them in one go). Behaves as its first error for code
    that reads one message; :attr:`errors` holds all of them, at most ``MAX_REPORTED_ERRORS``,
    and :attr:`more` counts those left off."""

    def __init__(self, errors: list[ArchcalcError], more: int = 0) -> None:
        first = errors[0]
        super().__init__(first.message, source=first.source, layer=first.layer, hint=first.hint)
        self.errors = tuple(errors)
        self.more = more

    def located(self, source: Source | None, layer: str | None) -> ArchcalcError:
        return self  # every error in it is located already

    def lines(self) -> list[str]:
        """One entry per error, then how many there were."""
        total = len(self.errors) + self.more
        tail = f"{total} errors" + (f" ({self.more} more not shown)" if self.more else "") + "; fix them and run again"
        return [*(str(err) for err in self.errors), tail]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def collected(errors: list[ArchcalcError]) -> ArchcalcError:
    """The one error to raise for ``errors`` (non-empty): itself when alone, else a
    :class:`SpecErrors` of the distinct ones (a module's typo is one error, not one per instance)."""
    from .limits import MAX_REPORTED_ERRORS

    distinct: dict[tuple[Source | None, str], ArchcalcError] = {}
    for err in (one for group in errors for one in getattr(group, "errors", (group,))):
        distinct.setdefault((err.source, err.message), err)
    unique = list(distinct.values())
    if len(unique) == 1:
        return unique[0]
    return SpecErrors(unique[:MAX_REPORTED_ERRORS], max(0, len(unique) - MAX_REPORTED_ERRORS))


class GraphError(ArchcalcError):
    """The layers do not form a valid DAG (undefined names, cycles, input counts)."""


class LayerError(ArchcalcError):
    """A layer's rule rejects its inputs (a kernel larger than its input, ...)."""


class ZooError(ArchcalcError):
    """A spec name that is neither a file nor a built-in spec."""


class RuleFailure(Exception):
    """A layer rule raised something other than an ArchcalcError: a bug in archcalc, reported
    with the layer it happened at (not an input error, so not an ArchcalcError)."""
