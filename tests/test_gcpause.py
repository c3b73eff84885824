"""The library pauses the cyclic collector inside its calls and gives the caller its setting back."""

from __future__ import annotations

import gc

import pytest

from archcalc import ArchcalcError, analyze, build_graph, load_spec_text
from archcalc.gcpause import paused_gc

SPEC = "name: t\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 3}\n"


@pytest.mark.parametrize("enabled", [True, False])
def test_the_callers_setting_is_restored(enabled):
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        seen = []
        probe = paused_gc(lambda: seen.append(gc.isenabled()))
        probe()
        analyze(build_graph(load_spec_text(SPEC)))
        assert seen == [False] and gc.isenabled() is enabled
        with pytest.raises(ArchcalcError):
            load_spec_text("name: t\n")  # an error inside a paused call restores it too
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
