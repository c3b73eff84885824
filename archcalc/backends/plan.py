"""The framework-neutral lowering plan: for every node, its module path and its TorchOp.

A node's module path splits its name on '/' (module scopes) and '.' (torchvision-style
indices), so ``inception3a/branch2.0/conv`` becomes the module ``inception3a.branch2.0.conv``
and its weight the ``state_dict`` key ``inception3a.branch2.0.conv.weight``: the same key
torchvision uses when a spec carries torchvision's names. Nodes without modules (the input,
concat, add, mul) have an empty path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..analysis import Analysis, analyze
from ..errors import ArchcalcError, GraphError
from ..graph import Graph
from ..layers.base import TorchOp

_SPLIT = re.compile(r"[/.]")


@dataclass(frozen=True)
class Step:
    name: str
    path: tuple[str, ...]
    inputs: tuple[str, ...]
    op: TorchOp
    training_only: bool


@dataclass(frozen=True)
class Plan:
    name: str
    input_shape: tuple[int, ...]
    steps: tuple[Step, ...]
    outputs: tuple[str, ...]
    analysis: Analysis

    def leaves(self) -> list[Step]:
        return [step for step in self.steps if step.op.modules or step.op.parameter]


def module_path(name: str) -> tuple[str, ...]:
    return tuple(part for part in _SPLIT.split(name) if part)


def make_plan(graph: Graph, analysis: Analysis | None = None) -> Plan:
    """Lower every node (each layer's ``torch_op`` rule) and check the module paths form a tree."""
    analysis = analysis or analyze(graph)
    shapes = {row.name: row.output_shape for row in analysis.rows}
    steps = []
    for node in graph.nodes:
        try:
            op = node.layer.torch_op([shapes[name] for name in node.inputs], shapes[node.name])
        except ArchcalcError as err:
            raise err.located(node.source, node.name) from None
        path = module_path(node.name) if op.modules or op.parameter else ()
        steps.append(Step(node.name, path, node.inputs, op, node.training_only))
    _check_tree(graph, steps)
    return Plan(graph.name, analysis.input_shape, tuple(steps), graph.outputs, analysis)


def _check_tree(graph: Graph, steps: list[Step]) -> None:
    """A module path may not be both a layer and a group of layers, nor two layers."""
    leaves = {step.path: step for step in steps if step.path}
    prefixes = {step.path[:i]: step for step in steps for i in range(1, len(step.path))}
    for path, step in leaves.items():
        if path in prefixes:
            other = prefixes[path]
            raise GraphError(
                f"module path '{'.'.join(path)}' is both this layer and a group containing '{other.name}'",
                source=graph.node(step.name).source, layer=step.name,
                hint="PyTorch modules nest by name; rename one of them",
            )
    if len(leaves) != len([s for s in steps if s.path]):
        seen: dict[tuple[str, ...], str] = {}
        for step in steps:
            if step.path and step.path in seen:
                raise GraphError(
                    f"layers '{seen[step.path]}' and '{step.name}' map to the same PyTorch module "
                    f"'{'.'.join(step.path)}'",
                    source=graph.node(step.name).source, layer=step.name,
                    hint="'/' and '.' both separate module names in PyTorch; rename one of them",
                )
            seen[step.path] = step.name
