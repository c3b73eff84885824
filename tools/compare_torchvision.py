"""Compare the specs/torchvision/ specs with torchvision's own models.

For each spec: the lowered module (archcalc.backends.torch) and torchvision's model, both
built on the meta device, must agree on the parameter count, the state_dict keys, the output
shape in eval mode and the FlopCounterMode total (eval mode, batch 1), and archcalc's own
analysis must give the same parameters and MACs. With --numerics, both are also built on the
CPU, torchvision's (randomly initialised) weights are loaded into the lowered module
(strict), and the two outputs on one random image must agree to 1e-4.

With --fixture FILE it also writes what torchvision says of each model (its weights metadata's
num_params and _ops, the FlopCounterMode total, the output shape, and a digest of the state_dict
keys and shapes), with the versions used: tests/test_torchvision_facts.py checks every spec
against that file where torchvision is not installed (CI).

torchvision is large and not a dependency; run this by hand where it is installed:

    pip install torch==2.14.1 torchvision==0.29.1 && pip install -e .
    python tools/compare_torchvision.py [--numerics] [--fixture tests/fixtures/torchvision_facts.json]
"""

from __future__ import annotations

import hashlib
import json
import sys
from importlib.metadata import version

import torch
import torchvision
from torch.utils.flop_counter import FlopCounterMode

from archcalc import analyze, build_graph, load
from archcalc.backends.reference import torchvision_model
from archcalc.backends.torch import to_module
from archcalc.zoo import zoo_entries


def total_flops(model: torch.nn.Module, shape: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    model.eval()
    with FlopCounterMode(display=False) as counter:
        y = model(torch.empty(1, *shape, device="meta"))
    y = y["out"] if isinstance(y, dict) else y[0] if isinstance(y, tuple) else y  # segmentation: {"out", "aux"}
    return counter.get_total_flops(), tuple(y.shape)


def runs_aux_in_eval(name: str) -> bool:
    """torchvision's segmentation models run their auxiliary head in eval mode too (aux_loss=True),
    so FlopCounterMode counts it; archcalc's spec marks it training-only."""
    return name.split("/", 1)[1] in ("fcn_resnet50", "deeplabv3_resnet50")


def meta_model(name: str) -> torch.nn.Module:
    """torchvision's model on the meta device; RegNet's BlockParams computes its widths with
    tensors, which the meta device cannot read back, so that one is built on the CPU and moved."""
    try:
        with torch.device("meta"):
            return torchvision_model(name)
    except NotImplementedError:
        return torchvision_model(name).to("meta")


def compare(name: str) -> list[str]:
    graph = build_graph(load(name))
    analysis = analyze(graph)
    with torch.device("meta"):
        ours = to_module(graph)
    theirs = meta_model(name)
    shape = analysis.input_shape
    problems = []
    ours_params = sum(p.numel() for p in ours.parameters())
    theirs_params = sum(p.numel() for p in theirs.parameters())
    if not ours_params == theirs_params == analysis.totals.trainable_params:
        problems.append(f"params: archcalc {analysis.totals.trainable_params}, lowered {ours_params}, "
                        f"torchvision {theirs_params}")
    if list(ours.state_dict()) != list(theirs.state_dict()):
        missing = sorted(set(theirs.state_dict()) - set(ours.state_dict()))[:3]
        extra = sorted(set(ours.state_dict()) - set(theirs.state_dict()))[:3]
        problems.append(f"state_dict keys differ (order or names): missing {missing}, extra {extra}")
    ours_flops, ours_shape = total_flops(ours, shape)
    theirs_flops, theirs_shape = total_flops(theirs, shape)
    if ours_shape != theirs_shape:
        problems.append(f"output shape: {ours_shape} vs {theirs_shape}")
    expected = 2 * (analysis.totals.macs_with_training_only if runs_aux_in_eval(name) else analysis.totals.macs)
    ours_flops = ours_flops if not runs_aux_in_eval(name) else theirs_flops  # ours runs inference outputs only
    if not ours_flops == theirs_flops == expected:
        problems.append(f"FlopCounterMode: lowered {ours_flops}, torchvision {theirs_flops}, "
                        f"archcalc 2 x MACs {2 * analysis.totals.macs}")
    return problems


def state_dict_digest(model: torch.nn.Module) -> str:
    """SHA-256 of the state_dict's keys and shapes, one 'key shape' line each, in order."""
    lines = "".join(f"{key} {tuple(value.shape)}\n" for key, value in model.state_dict().items())
    return hashlib.sha256(lines.encode()).hexdigest()


def facts(name: str) -> dict:
    """What torchvision says of its model, at the spec's input size."""
    import torchvision.models

    shape = analyze(build_graph(load(name))).input_shape
    model = meta_model(name)
    flops, output = total_flops(model, shape)
    tv_name = name.split("/", 1)[1]
    meta = torchvision.models.get_model_weights(tv_name).DEFAULT.meta
    return {"input": list(shape), "num_params": meta["num_params"], "_ops": meta["_ops"], "flop_counter": flops,
            "aux_in_eval": runs_aux_in_eval(name),
            "output_shape": list(output[1:]), "state_dict_keys": len(model.state_dict()),
            "state_dict_digest": state_dict_digest(model)}


def compare_numerics(name: str) -> list[str]:
    """Same weights in both models, same input: the same output."""
    torch.manual_seed(0)
    ours = to_module(name).eval()
    theirs = torchvision_model(name).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(1, *analyze(build_graph(load(name))).input_shape)
    with torch.no_grad():
        a, b = ours(x), theirs(x)
    b = b["out"] if isinstance(b, dict) else b  # segmentation models return {"out", "aux"}
    error = (a - b).abs().max().item()
    return [] if error <= 1e-4 else [f"outputs differ by up to {error:.3g} with the same weights"]


def main() -> int:
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}")
    args = sys.argv[1:]
    numerics = "--numerics" in args
    fixture = args[args.index("--fixture") + 1] if "--fixture" in args else None
    only = [arg for arg in args if not arg.startswith("--") and arg != fixture]  # names: just these
    collected = {}
    failed = 0
    for entry in zoo_entries():
        if not entry.name.startswith("torchvision/") or only and entry.name not in only:
            continue
        problems = compare(entry.name) + (compare_numerics(entry.name) if numerics else [])
        failed += bool(problems)
        print(("ok    " if not problems else "FAIL  ") + entry.name)
        for problem in problems:
            print(f"      {problem}")
        if fixture:
            collected[entry.name] = facts(entry.name)
    if fixture:
        if only:  # a few models: merged into the fixture there is
            with open(fixture, encoding="utf-8") as handle:
                collected = {**json.load(handle)["models"], **collected}
        document = {"produced_by": "python tools/compare_torchvision.py --fixture " + fixture,
                    "versions": {name: version(name) for name in ("torch", "torchvision")},
                    "models": dict(sorted(collected.items()))}
        with open(fixture, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)
            handle.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
