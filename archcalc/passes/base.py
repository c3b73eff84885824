"""The walk every pass shares.

Like ``torch.fx.Interpreter``: the base class owns iteration in topological order, the
environment of results by node name, and the error context (which layer, where it was
written); a subclass supplies only :meth:`Pass.step`, the math for one node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from ..errors import ArchcalcError
from ..graph import Graph, Node
from ..layers import RuleContext

T = TypeVar("T")
PassResults = dict[str, dict[str, Any]]
"""Results of earlier passes: pass key -> node name -> value."""


class Pass(Generic[T]):
    """A walk over the graph producing one value of type T per node."""

    key: ClassVar[str] = ""

    def __init__(self, ctx: RuleContext, earlier: PassResults) -> None:
        self.ctx = ctx
        self.earlier = earlier

    def step(self, node: Node, inputs: Sequence[T]) -> T:
        """This node's value, given the values of its inputs."""
        raise NotImplementedError

    def run(self, graph: Graph) -> dict[str, T]:
        env: dict[str, T] = {}
        for node in graph.nodes:
            warnings_before = len(self.ctx.warnings)
            self.ctx.layer = node.name
            try:
                env[node.name] = self.step(node, [env[name] for name in node.inputs])
            except ArchcalcError as err:
                raise err.located(node.source, node.name) from None
            self._locate_warnings(node, warnings_before)
        return env

    def _locate_warnings(self, node: Node, start: int) -> None:
        for i in range(start, len(self.ctx.warnings)):
            self.ctx.warnings[i] = f"{node.source}: layer '{node.name}' ({node.type}): {self.ctx.warnings[i]}"
