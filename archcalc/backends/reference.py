"""Reference implementations the lowered models are compared with: torchvision's own models.

The built-in specs under ``torchvision/`` carry torchvision's module names; this module says
which torchvision constructor (and which arguments) each one reproduces, once, for
``archcalc bench --against torchvision`` and ``tools/compare_torchvision.py``.
"""

from __future__ import annotations

from typing import Any

from .torch import BackendError

PREFIX = "torchvision/"

KWARGS: dict[str, dict[str, Any]] = {
    "googlenet": {"aux_logits": False, "init_weights": False},  # as its pretrained weights ship
    "inception_v3": {"aux_logits": True, "init_weights": False},  # AuxLogits: training_only in the spec
    # the auxiliary FCN head (training_only in the spec); no backbone download
    "fcn_resnet50": {"aux_loss": True, "weights_backbone": None},
    "deeplabv3_resnet50": {"aux_loss": True, "weights_backbone": None},
}
"""Constructor arguments that give the model the specs describe (and skip slow initialisation)."""


def torchvision_name(spec: str) -> str:
    """``torchvision/resnet50`` -> ``resnet50``; a BackendError for specs with no reference."""
    if not spec.startswith(PREFIX):
        raise BackendError(f"'{spec}' has no torchvision reference: --against torchvision takes the built-in "
                           f"specs named {PREFIX}*", hint="archcalc zoo lists them")
    return spec.removeprefix(PREFIX)


def torchvision_model(spec: str) -> Any:
    """torchvision's model for a ``torchvision/*`` spec, randomly initialised (no download)."""
    name = torchvision_name(spec)
    try:
        import torchvision
    except ImportError:
        raise BackendError("--against torchvision needs torchvision, which is not installed",
                           hint="pip install torchvision (a version built for the installed torch)") from None
    family = next((module for module in (torchvision.models.segmentation, torchvision.models.video)
                   if hasattr(module, name)), torchvision.models)
    return getattr(family, name)(weights=None, **KWARGS.get(name, {}))
