"""The walk every pass shares.

Like ``torch.fx.Interpreter``: the base class owns iteration in topological order, the
environment of results by node name, and the error context (which layer, where it was
written); a subclass supplies only :meth:`Pass.step`, the math for one node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from ..errors import ArchcalcError, RuleFailure
from ..graph import Graph, Node
from ..layers import RuleContext

if TYPE_CHECKING:
    from ..conventions import OpRecord
    from ..layers import ParamCount, Shape
    from ..receptive_field import RF

T = TypeVar("T")


@dataclass
class PassResults:
    """What the passes computed, by node name: one field per pass (its ``key``), filled in the
    pipeline's order, so a pass reads ``self.earlier.shape[name]`` of the passes before it."""

    shape: dict[str, Shape] = field(default_factory=dict)
    params: dict[str, ParamCount] = field(default_factory=dict)
    cost: dict[str, OpRecord] = field(default_factory=dict)
    activations: dict[str, int] = field(default_factory=dict)
    rf: dict[str, RF] = field(default_factory=dict)


class Pass(Generic[T]):
    """A walk over the graph producing one value of type T per node."""

    key: ClassVar[str] = ""
    by_shapes: ClassVar[bool] = False
    """True when :meth:`step` depends only on the node's layer, its ``functional`` flag and the shapes
    of its inputs (which, with the conventions, fix the output shape): layer rules are pure functions
    of those. Nodes that repeat one layer on the same shapes (the blocks of a ResNet stage, a
    generated stack) then share one value, computed once; a step that noted a warning or an inexact
    window is not shared, since each node must note its own."""

    def __init__(self, ctx: RuleContext, earlier: PassResults) -> None:
        self.ctx = ctx
        self.earlier = earlier

    def step(self, node: Node, inputs: Sequence[T]) -> T:
        """This node's value, given the values of its inputs."""
        raise NotImplementedError

    def shape_table(self, env: dict[str, T]) -> dict[str, Shape]:
        """Where the walk finds each node's output shape: the shape pass's (the shape pass's own values
        are the shapes)."""
        return self.earlier.shape

    def run(self, graph: Graph) -> dict[str, T]:
        env: dict[str, T] = {}
        ctx, step = self.ctx, self.step
        warnings, inexact = ctx.warnings, ctx.inexact
        shared: dict[tuple, T] | None = {} if self.by_shapes else None  # no pass's value is None
        shapes = self.shape_table(env)
        for node in graph.nodes:
            if shared is not None:
                # id(): the graph holds every layer for the whole walk, and equal layers are one object
                key = (id(node.layer), node.functional, tuple([shapes[name] for name in node.inputs]))
                value = shared.get(key)
                if value is not None:
                    env[node.name] = value
                    continue
            warnings_before, inexact_before = len(warnings), len(inexact)
            ctx.layer = node.name
            try:
                value = env[node.name] = step(node, [env[name] for name in node.inputs])
            except ArchcalcError as err:
                raise err.located(node.source, node.name) from None
            except Exception as err:  # a bug in a rule: say where it happened, as torch.fx's Interpreter does
                raise RuleFailure(f"{type(self).__name__} failed at {node.source}: layer '{node.name}' "
                                  f"({node.type}): {type(err).__name__}: {err}") from err
            if len(warnings) > warnings_before:  # rare: no call for the other nodes
                self._locate_warnings(node, warnings_before)
            elif shared is not None and len(inexact) == inexact_before:
                shared[key] = value
        return env

    def _locate_warnings(self, node: Node, start: int) -> None:
        for i in range(start, len(self.ctx.warnings)):
            self.ctx.warnings[i] = f"{node.source}: layer '{node.name}' ({node.type}): {self.ctx.warnings[i]}"
