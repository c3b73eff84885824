#!/usr/bin/env python3
"""Run the FLOP counters archcalc's presets reproduce on torchvision's models, and record what each
reports: the fixture tests/fixtures/peer_counts.json, against which tests/test_peer_presets.py
checks every preset on every model.

For each built-in spec under torchvision/, torchvision's own model (eval mode, random weights,
batch 1, the spec's input size), and for probes of single layer types, archcalc's own lowered
module, is given to:
- fvcore:     FlopCountAnalysis(model, x).total()                         -> preset 'fvcore'
- torchinfo:  summary(model, input_size).total_mult_adds                  -> preset 'torchinfo'
- thop:       profile(model, inputs=(x,))[0]                              -> preset 'thop'
- ptflops:    get_model_complexity_info(..., backend='pytorch' / 'aten')  -> 'ptflops' / 'ptflops_aten'
- calflops:   calculate_flops(model, input_shape)[0]                      -> preset 'calflops'
- PyTorch:    FlopCounterMode total                                       -> preset 'torch'
Each tool gets a fresh model (thop and ptflops attach hooks and buffers).

These tools need torch with torchvision, which the test environment does not have; run this where
they are installed and commit the fixture it writes:

    pip install torch==2.14.1 torchvision==0.29.1 fvcore torchinfo thop ptflops calflops
    python tools/peer_counts.py > tests/fixtures/peer_counts.json
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from importlib.metadata import version
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archcalc import analyze, build_graph, load  # noqa: E402
from archcalc.backends.reference import torchvision_model  # noqa: E402
from archcalc.zoo import zoo_entries  # noqa: E402

TOOLS = ("fvcore", "torchinfo", "thop", "ptflops", "calflops")


def quietly(call):
    """The tools print tables and warnings; the fixture is stdout."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return call()


PROBE_LAYERS = [
    "relu", "relu6", "leaky_relu: {negative_slope: 0.1}", "elu", "gelu", "silu", "sigmoid", "tanh", "hardswish",
    "hardsigmoid", "softmax", "dropout", "lrn: {size: 3}", "batch_norm", "max_pool2d: {kernel: 2}",
    "avg_pool2d: {kernel: 2}", "adaptive_avg_pool2d: {output: 3}", "adaptive_max_pool2d: {output: 3}", "global_avg_pool",
    "zero_pad2d: {padding: 1}", "conv_transpose2d: {out: 4, kernel: 3, stride: 2}", "conv2d: {out: 4, kernel: 3, bias: false}",
    "group_norm: {groups: 2}", "instance_norm: {affine: true}", "layer_norm: {over: channels}", "layer_norm: {over: all}",
    "stochastic_depth: {p: 0.2}", "channel_shuffle: {groups: 2}", "upsample: {scale: 2}",
    "upsample: {scale: 2, mode: bilinear}", "upsample: {size: [5, 7], mode: bilinear, align_corners: true}",
    "chunk: {chunks: 2, index: 1}", "mean", "center_crop: {size: [5, 6]}",
    "upsample: {mode: bilinear, inputs: [conv, input]}", "permute: {dims: [1, 2, 0]}", "layer_scale: {init: 0.5}",
    "linear: {out: 5, over: last}", "layer_norm: {over: last}", "reshape: {shape: [2, 2, 8, 8]}",
]
VOLUME_PROBES = [
    "conv1d: {out: 3, kernel: 3, stride: 2, padding: 1}", "max_pool1d: {kernel: 2}", "avg_pool1d: {kernel: 2}",
    "adaptive_avg_pool1d: {output: 3}", "adaptive_max_pool1d: {output: 3}",
    "conv3d: {out: 3, kernel: 3, stride: 2, padding: 1}", "max_pool3d: {kernel: 2}", "avg_pool3d: {kernel: 2}",
    "adaptive_avg_pool3d: {output: 2}", "adaptive_max_pool3d: {output: 2}",
]
"""Layer types over one or three spatial axes, probed on a C×L or C×D×H×W input after a convolution
of their own rank (the 2-D probe's convolution would not fit)."""
"""Layer types each probed on its own, after a 3×3 convolution (which every counter counts alike):
archcalc's lowered module is given to the tools, so the fixture shows what each tool counts for
each PyTorch module archcalc lowers to."""


def probe_name(layer: str) -> str:
    """The fixture key of a probe: its type, with the fields that choose another operation
    (``layer_norm over all``, ``upsample bilinear``)."""
    kind = layer.split(":")[0]
    for field, word in (("over: all", "over all"), ("over: last", "over last"), ("mode: bilinear", "bilinear"),
                        ("align_corners: true", "corners"), ("inputs:", "like")):
        if field in layer:
            kind += f" {word}"
    return kind


def probe_spec(layer: str) -> str:
    if layer in VOLUME_PROBES:  # after a convolution of the same rank (calflops wants a parameter)
        rank = 1 if "1d" in layer.split(":")[0] else 3
        shape = "[3, 12]" if rank == 1 else "[3, 4, 6, 6]"
        return (f"name: probe\ninput: {shape}\nlayers:\n  - conv{rank}d: {{name: conv, out: 4, kernel: 3, padding: 1}}\n"
                f"  - {layer}\n")
    return f"name: probe\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {{name: conv, out: 4, kernel: 3, padding: 1}}\n  - {layer}\n"


def counts(spec: str, text: str | None = None) -> dict[str, int | None]:
    """What each tool reports for torchvision's model of ``spec``, or for archcalc's own lowered
    module of the spec ``text``."""
    from calflops import calculate_flops
    from fvcore.nn import FlopCountAnalysis
    from ptflops import get_model_complexity_info
    from thop import profile
    from torchinfo import summary

    from archcalc import load_spec_text
    from archcalc.backends.torch import to_module

    graph = build_graph(load_spec_text(text)) if text is not None else build_graph(load(spec))
    shape = tuple(analyze(graph).input_shape)

    def model():
        torch.manual_seed(0)
        return (to_module(graph) if text is not None else torchvision_model(spec)).eval()

    x = torch.randn(1, *shape)
    results: dict[str, int | None] = {}
    with torch.no_grad():
        results["fvcore"] = int(quietly(lambda: FlopCountAnalysis(model(), x).unsupported_ops_warnings(False)
                                        .uncalled_modules_warnings(False).total()))
        results["torchinfo"] = int(quietly(lambda: summary(model(), input_size=(1, *shape), verbose=0)).total_mult_adds)
        results["thop"] = int(quietly(lambda: profile(model(), inputs=(x,), verbose=False))[0])
        for backend, key in (("pytorch", "ptflops"), ("aten", "ptflops_aten")):
            macs, _ = quietly(lambda: get_model_complexity_info(model(), shape, as_strings=False, backend=backend,
                                                                print_per_layer_stat=False, verbose=False))
            results[key] = None if macs is None else int(macs)  # ptflops returns None when it gives up
        try:
            results["calflops"] = int(quietly(lambda: calculate_flops(model=model(), input_shape=(1, *shape),
                                                                      output_as_string=False, print_results=False,
                                                                      print_detailed=False))[0])
        except TypeError:  # calflops 0.3.2 fails on a per-axis scale_factor tuple: it gave up
            results["calflops"] = None
        with FlopCounterMode(display=False) as counter:
            model()(x)
        results["torch"] = int(counter.get_total_flops())
    return results


SEGMENTATION = ("torchvision/fcn_resnet50", "torchvision/deeplabv3_resnet50")
"""Left out: torchvision runs their auxiliary head in eval mode and returns a dict, which the tools
handle each in its own way; the specs mark that head training-only."""


def main() -> int:
    only = sys.argv[1:]  # model names: measure just these (and every probe)
    specs = [entry.name for entry in zoo_entries()
             if entry.name.startswith("torchvision/") and entry.name not in SEGMENTATION and (not only or entry.name in only)]
    fixture = {
        "produced_by": "python tools/peer_counts.py",
        "versions": {name: version(name) for name in ("torch", "torchvision", *TOOLS)},
        "input": "torchvision's model, eval mode, random weights, batch 1, the spec's input size",
        "counts": {spec: counts(spec) for spec in specs},
        "probes": {probe_name(layer): {"spec": probe_spec(layer), "counts": counts("probe", probe_spec(layer))}
                   for layer in PROBE_LAYERS + VOLUME_PROBES},
    }
    print(json.dumps(fixture, indent=1, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
