"""``archcalc import``: an existing model (PyTorch, ONNX) as a spec.

Each importer turns its model into :class:`.network.ImportedNetwork` (operations as layer types
and fields, in the model's module hierarchy); :func:`.network.to_spec` writes the YAML. torch and
onnx are imported only here, and only when a model of theirs is imported.
"""

from __future__ import annotations

from typing import Any

from .network import ImportedNetwork, to_spec


def import_network(source: str, input_shape: tuple[int, ...] | None, args: dict[str, Any] | None = None,
                   allow_unsupported: bool = False) -> ImportedNetwork:
    """The network SOURCE names: ``model.onnx``, ``torchvision:NAME``, ``FILE.py:NAME`` or ``MODULE:NAME``."""
    if source.lower().endswith(".onnx"):
        from .onnx_model import import_onnx

        return import_onnx(source, input_shape, allow_unsupported)
    from .pytorch import ImportFailed, import_torch

    if input_shape is None:
        raise ImportFailed("importing a PyTorch model needs --input (C,H,W), e.g. --input 3,224,224",
                           hint="a PyTorch model does not record the size of its input")
    return import_torch(source, input_shape, args or {}, allow_unsupported)


__all__ = ["ImportedNetwork", "import_network", "to_spec"]
