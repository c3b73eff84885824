"""The cyclic garbage collector paused inside archcalc's library calls.

An analysis allocates hundreds of thousands of small objects that reference counting frees; the
cyclic collector finds nothing among them but walks them again and again as they accumulate
(about a quarter of a 10,000-layer analysis). The entry points (:func:`archcalc.load_spec_text`,
:func:`archcalc.build_graph`, :func:`archcalc.analyze`, ...) pause it and restore the caller's
setting afterwards, whatever it was; nothing archcalc builds needs it (no reference cycles).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def paused_gc(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` run with the cyclic collector off, the caller's setting restored after."""

    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return call
