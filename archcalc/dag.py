"""Checks and orderings of the layer DAG: topological order, cycles, outputs, unused layers.

Pure functions of the expanded nodes (archcalc.graph builds them); every problem is a
GraphError located at the layer that causes it.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from .errors import GraphError

if TYPE_CHECKING:
    from .graph import Node


def toposort(nodes: list[Node]) -> tuple[Node, ...]:
    """Topological order, stable: declaration order wherever the graph allows it."""
    position = {node.name: i for i, node in enumerate(nodes)}
    if all(position[src] < i for i, node in enumerate(nodes) for src in node.inputs):
        return tuple(nodes)
    consumers: dict[str, list[int]] = {node.name: [] for node in nodes}
    waiting = [0] * len(nodes)
    for i, node in enumerate(nodes):
        for src in node.inputs:
            consumers[src].append(i)
            waiting[i] += 1
    ready = [i for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order: list[Node] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(nodes[i])
        for j in consumers[nodes[i].name]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, j)
    if len(order) < len(nodes):
        raise _cycle_error(nodes, {i for i, count in enumerate(waiting) if count > 0})
    return tuple(order)


def _cycle_error(nodes: list[Node], stuck: set[int]) -> GraphError:
    """Name one cycle among the nodes that never became ready."""
    position = {node.name: i for i, node in enumerate(nodes)}
    start = min(stuck)
    path, seen = [start], {start}
    while True:
        nxt = next(position[src] for src in nodes[path[-1]].inputs if position[src] in stuck)
        if nxt in seen:
            cycle = path[path.index(nxt):] + [nxt]
            break
        path.append(nxt)
        seen.add(nxt)
    names = " ← ".join(nodes[i].name for i in cycle)
    first = nodes[cycle[0]]
    return GraphError(
        f"the inputs form a cycle: {names}",
        source=first.source,
        layer=first.name,
        hint="each layer's inputs must come from layers that do not depend on it",
    )


def check_inference_outputs(nodes: tuple[Node, ...], outputs: tuple[str, ...]) -> None:
    """An output used at inference must not depend on a training-only layer.

    One pass in topological order marks, for every node, the first training-only layer it
    depends on: linear however many outputs there are."""
    if not any(node.training_only for node in nodes):  # nearly every network: nothing to trace
        return
    tainted: dict[str, Node | None] = {}
    for node in nodes:
        tainted[node.name] = node if node.training_only else next(
            (tainted[src] for src in node.inputs if tainted[src] is not None), None)
    by_name = {node.name: node for node in nodes}
    for output in outputs:
        culprit = tainted[output]
        if culprit is not None and not by_name[output].training_only:
            raise GraphError(
                f"output '{output}' is used at inference but depends on training-only layer '{culprit.name}'",
                source=culprit.source,
                layer=culprit.name,
                hint="mark the output's branch training_only too, or take the input from an inference layer",
            )


def unused_warnings(nodes: tuple[Node, ...], outputs: tuple[str, ...]) -> tuple[str, ...]:
    """Warnings for layers no output depends on (a branch wired to nothing is usually a typo)."""
    needed = set(outputs)
    for node in reversed(nodes):
        if node.name in needed:
            needed.update(node.inputs)
    return tuple(
        f"{node.source}: layer '{node.name}' ({node.type}): no output depends on it "
        f"(outputs: {', '.join(outputs)}); list it under 'outputs:' if it is one"
        for node in nodes
        if node.name not in needed
    )
