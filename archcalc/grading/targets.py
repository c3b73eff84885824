"""What each question's answer is under the key's conventions, how it is derived, and the
values the named mistakes would produce (so a wrong answer can get specific feedback)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any


from ..analysis import Analysis, LayerRow, analyze
from ..conventions import Conventions, Layout, Rounding, same_padding
from ..errors import ArchcalcError, GraphError
from ..explain import explain
from ..graph import Graph, build_graph
from ..layers.base import Window, shape_str
from ..metrics import Metric
from ..spec import Spec, load_spec, parse_spec, with_overrides

from .key import ConventionProfile, Key, Question

UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
_OTHER_UNIT = {"KB": "KiB", "MB": "MiB", "GB": "GiB", "KiB": "KB", "MiB": "MB", "GiB": "GB"}
INVALID = "invalid"


@dataclass(frozen=True)
class Alternative:
    mistake: str
    value: Any
    feedback: str


@dataclass
class Target:
    """The expected answer of one question."""

    kind: str  # 'count' (int), 'memory' (bytes), 'shape' (tuple) or 'invalid'
    value: Any
    formula: str
    display: str
    alternatives: list[Alternative] = field(default_factory=list)


def key_spec(key: Key) -> Spec:
    """The key's network with its ``input`` and ``set``; every error the key causes is located
    in the key (its ``network:``, ``input:`` or ``set:`` line)."""
    model = key.model
    try:
        if isinstance(model.network, dict):
            spec = parse_spec(key.raw["network"], str(key.path))
        else:
            spec = _network_spec(key.path.parent, model.network)
    except ArchcalcError as err:
        raise err.located(key.source("network"), None) from None
    try:
        return with_overrides(spec, model.input, model.set or None, origin="set")
    except ArchcalcError as err:
        raise type(err)(err.message, source=key.source("set"), hint=err.hint) from None


def _network_spec(folder: Path, network: str) -> Spec:
    """A spec file named relative to the key's folder, else a zoo name (or family member) or path."""
    from ..api import load_named

    try:
        candidate = folder / network
        if candidate.is_file():
            return load_spec(candidate)
    except OSError:
        pass
    return load_named(network)


class _RowView:
    """``rows[name]`` and ``name in rows`` over an analysis, without copying it per view."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis

    def __getitem__(self, name: str) -> LayerRow:
        return self.analysis.row(name)

    def __contains__(self, name: object) -> bool:
        try:
            self.analysis.row(name)  # type: ignore[arg-type]
        except (KeyError, TypeError):
            return False
        return True


class Network:
    """The key's network, analysed under both roundings once; :meth:`under` views it through one
    convention profile (the key's, or a variant that lint tries)."""

    def __init__(self, key: Key) -> None:
        self.key = key
        self.graph: Graph = build_graph(key_spec(key))
        self.floor = analyze(self.graph, Conventions(rounding=Rounding.FLOOR))
        self.ceil = analyze(self.graph, Conventions(rounding=Rounding.CEIL))
        self.invalid_reasons = _invalid_layers(self.graph, self.floor)
        self.k_extra: dict[int, dict[str, Any]] = {}  # per analysis: what k instead of k − 1 adds, by layer
        self.cache: dict[Any, Any] = {}  # shared by every view: module rows and targets, computed once
        self._use(key.model.convention, self.ceil if key.model.convention.rounding == "ceil" else self.floor)

    def _use(self, profile: ConventionProfile, main: Analysis) -> None:
        self.profile = profile
        self.invalid: dict[str, str] = self.invalid_reasons if profile.rounding == "error" else {}
        self.main = main
        self.other = self.floor if main is self.ceil else self.ceil
        self.rows = _RowView(main)

    def under(self, profile: ConventionProfile) -> Network:
        """The same analyses read under another profile (its rounding picks the main one)."""
        return self.view(self.ceil if profile.rounding == "ceil" else self.floor, profile)

    def view(self, analysis: Analysis, profile: ConventionProfile | None = None) -> Network:
        """The same network seen through another analysis (the other rounding)."""
        other = object.__new__(Network)
        other.__dict__.update(self.__dict__)
        other._use(profile or self.profile, analysis)
        return other

    def rows_for(self, question: Question, source: Any) -> list[LayerRow]:
        if question.layer is None:
            return list(self.main.rows)
        if question.layer in self.rows:
            return [self.rows[question.layer]]
        rows = self.module_rows(self.main).get(question.layer, [])
        if not rows:
            raise GraphError(f"question '{question.id}': no layer or module '{question.layer}' in the network",
                             source=source, hint="'archcalc summary' lists the layer names")
        return rows

    def module_rows(self, analysis: Analysis) -> dict[str, list[LayerRow]]:
        """Module instance -> the rows inside it, built once per analysis."""
        key = id(analysis)
        if key not in self.cache:
            index: dict[str, list[LayerRow]] = {}
            for row in analysis.rows:
                for scope in row.scope:
                    index.setdefault(scope, []).append(row)
            self.cache[key] = index
        return self.cache[key]

    def explained(self, layer: str, analysis: Analysis | None = None) -> dict[str, str]:
        """The worked formulas of one layer, shapes in the key's order."""
        return explain(self.graph, analysis or self.main, layer, Layout(self.profile.shape_order))[0].steps


def _invalid_layers(graph: Graph, floor: Analysis) -> dict[str, str]:
    """Under the CS231n convention: every layer whose window does not tile its input, and every
    layer that depends on one, with the formula that shows why (of its first such ancestor)."""
    reasons: dict[str, str] = {}
    rows = {row.name: row for row in floor.rows}
    for node in graph.nodes:
        own = rows[node.name].inexact
        if own:
            reasons[node.name] = f"{node.name}: {own} is not an integer"
        else:
            inherited = next((reasons[src] for src in node.inputs if src in reasons), None)
            if inherited is not None:
                reasons[node.name] = inherited
    return reasons


def _sum_formula(rows: list[LayerRow], value_of, total: int, unit: str = "") -> str:
    terms = [(row.name, value_of(row)) for row in rows if value_of(row)]
    shown = " + ".join(f"{v:,}" for _, v in terms[:6]) + (" + …" if len(terms) > 6 else "")
    return f"sum over {len(terms)} layer{'s' if len(terms) != 1 else ''}: {shown} = {total:,}{unit}"


def _where(question: Question) -> str:
    return f"layer {question.layer}" if question.layer else "the network"


class Targets:
    """Expected answers for the questions of one key (under its conventions, or others: lint)."""

    def __init__(self, network: Network, profile: ConventionProfile | None = None) -> None:
        self.net = network
        self.profile: ConventionProfile = profile or network.profile

    def target(self, question: Question, source: Any) -> Target:
        """The expected answer; computed once per analysis, profile, quantity and layer (a key may
        ask the same thing many times, and lint asks every question under every variant)."""
        key = (id(self.net.main), self.profile, question.quantity, question.layer)
        if key not in self.net.cache:
            self.net.cache[key] = self._target(question, source)
        return self.net.cache[key]

    def _target(self, question: Question, source: Any) -> Target:
        rows = self.net.rows_for(question, source)
        invalid = [self.net.invalid[r.name] for r in rows if r.name in self.net.invalid]
        computed = getattr(self, f"_{question.quantity}")(question, rows)
        if invalid and self._depends_on_rounding(question, source, computed):
            return self._invalid(question, rows, invalid[0])
        return computed

    def _depends_on_rounding(self, question: Question, source: Any, computed: Target) -> bool:
        """Under the CS231n convention, an answer is 'invalid' when it depends on a size that is
        not an integer: when rounding down and rounding up give different answers (conv1's
        parameters do not depend on its output size; its MACs do)."""
        ceil = Targets(self.net.view(self.net.ceil, self.profile.model_copy(update={"rounding": "ceil"})), self.profile)
        return ceil.target(question, source).value != computed.value

    # ---- quantities ------------------------------------------------------------------------

    def _ordered(self, shape: tuple[int, ...], order: str | None = None) -> tuple[int, ...]:
        order = order or self.profile.shape_order
        return shape if order == "chw" or len(shape) != 3 else (shape[1], shape[2], shape[0])

    def _output_shape(self, question: Question, rows: list[LayerRow]) -> Target:
        row = rows[-1]
        value = self._ordered(row.output_shape)
        alternatives = []
        other = self.net.other.row(row.name).output_shape
        if other != row.output_shape:
            alternatives.append(Alternative("floor_vs_ceil", self._ordered(other),
                                            f"{'ceil' if self.profile.rounding != 'ceil' else 'floor'} instead of "
                                            f"{'floor' if self.profile.rounding != 'ceil' else 'ceil'}: this key rounds "
                                            f"non-integer sizes {'down' if self.profile.rounding != 'ceil' else 'up'}"))
        swapped = self._ordered(row.output_shape, "chw" if self.profile.shape_order == "hwc" else "hwc")
        if swapped != value:
            alternatives.append(Alternative("shape_order_swapped", swapped,
                                            f"the key writes shapes as {self.profile.shape_order.upper()} "
                                            f"({'H×W×C' if self.profile.shape_order == 'hwc' else 'C×H×W'})"))
        for batch in {1, self.profile.mentioned_batch or 1}:
            alternatives.append(Alternative("batch_included", (batch, *value),
                                            "the shape of one example has no batch dimension"))
        steps = self.net.explained(row.name)
        return Target("shape", value, steps[Metric.OUTPUT_SHAPE], shape_str(value), alternatives)

    def _param_value(self, row: LayerRow, bias: bool | None = None, stats: bool | None = None) -> int:
        bias = self.profile.bias if bias is None else bias
        stats = self.profile.bn_statistics if stats is None else stats
        return row.params.trainable - (0 if bias else row.params.bias) + (row.params.non_trainable if stats else 0)

    def _params(self, question: Question, rows: list[LayerRow]) -> Target:
        value = sum(self._param_value(r) for r in rows)
        biases = sum(r.params.bias for r in rows)
        stats = sum(r.params.non_trainable for r in rows)
        alternatives = []
        if biases and self.profile.bias:
            alternatives.append(Alternative("bias_omitted", value - biases,
                                            f"the biases are missing ({biases:,}: one per output channel)"))
        elif biases:
            alternatives.append(Alternative("bias_counted", value + biases,
                                            f"this key does not count biases ({biases:,})"))
        if stats:
            alternatives.append(Alternative(
                "bn_statistics", value + (-stats if self.profile.bn_statistics else stats),
                "BatchNorm's running mean and variance " + ("are counted in this key (as Keras does)"
                                                            if self.profile.bn_statistics else
                                                            "are not trainable parameters in this key")))
        depthless = self._without_input_depth(rows, "params")
        if depthless is not None:
            alternatives.append(Alternative("input_depth_ignored", depthless,
                                            "each filter spans the full input depth (all input channels)"))
        if len(rows) == 1:
            formula = self.net.explained(rows[0].name)[Metric.PARAMS]
            if rows[0].params.bias and not self.profile.bias:
                formula += f"; without the {rows[0].params.bias:,} biases (this key): {value:,}"
        else:
            formula = _sum_formula(rows, self._param_value, value)
        return Target("count", value, formula, f"{value:,}", alternatives)

    def _without_input_depth(self, rows: list[LayerRow], quantity: str) -> int | None:
        """For one convolution: the count a student gets by forgetting the input channels."""
        if len(rows) != 1:
            return None
        row = rows[0]
        window = self._window(row)
        depth = window.depth if window is not None else None
        if depth is None or depth <= 1 or not row.macs:
            return None
        if quantity == "params":
            return (self._param_value(row) - row.params.bias) // depth + (row.params.bias if self.profile.bias else 0)
        return row.macs // depth

    def _window(self, row: LayerRow) -> Window | None:
        """The layer's sliding window on its input (its ``window`` rule), or None."""
        layer = self.net.graph.node(row.name).layer
        inputs = [self.net.rows[name].output_shape for name in row.inputs]
        return layer.window(inputs) if inputs and len(inputs[0]) == 3 else None

    def _inference(self, rows: list[LayerRow]) -> list[LayerRow]:
        return [r for r in rows if not r.training_only] or rows

    def _macs(self, question: Question, rows: list[LayerRow], factor: int = 1) -> Target:
        counted = self._inference(rows)
        macs = sum(r.macs for r in counted)
        value = factor * macs
        if factor == 2:
            alternatives = [Alternative("macs_for_flops", macs, "MACs given for FLOPs: this key counts a "
                                                                "multiply-add as 2 FLOPs (FLOPs = 2 × MACs)")]
        else:
            alternatives = [Alternative("macs_for_flops", 2 * macs,
                                        "FLOPs given for MACs: a multiply-accumulate counts once")]
        depthless = self._without_input_depth(rows, "macs")
        if depthless is not None:
            alternatives.append(Alternative("input_depth_ignored", factor * depthless,
                                            "each output sums over all input channels"))
        if len(rows) == 1:
            formula = self.net.explained(rows[0].name)[Metric.MACS]
        else:
            formula = _sum_formula(counted, lambda r: r.macs, macs)
        if factor == 2:
            formula += f"; FLOPs = 2 × MACs = {value:,}"
        return Target("count", value, formula, f"{value:,}", alternatives)

    def _flops(self, question: Question, rows: list[LayerRow]) -> Target:
        return self._macs(question, rows, factor=2 if self.profile.flops == "2macs" else 1)

    def _rf(self, question: Question, rows: list[LayerRow]) -> Target:
        row = rows[-1]
        h, w = row.rf.h.size, row.rf.w.size
        value = int(h) if h == w and h.denominator == 1 else (int(h), int(w))
        extra = self._k_instead_of_k_minus_1(row)
        alternatives = []
        if extra:
            wrong = int(h + extra) if isinstance(value, int) else (int(h + extra), int(w + extra))
            alternatives.append(Alternative("rf_k_not_k_minus_1", wrong,
                                            "each layer adds (k − 1)·jump, not k·jump: a 3×3 layer widens the field by 2"))
        display = str(value) if isinstance(value, int) else shape_str(value)
        return Target("count" if isinstance(value, int) else "shape", value, self.net.explained(row.name)[Metric.RF],
                      display, alternatives)

    def _k_instead_of_k_minus_1(self, row: LayerRow) -> int:
        """What using k instead of k − 1 adds: one jump per windowed layer, along the path of the
        widest field (at a merge, the branch that sets the union's size). Computed for every layer
        in one pass and kept, so that many questions cost one walk."""
        cache = self.net.k_extra
        if id(self.net.main) not in cache:
            extra: dict[str, Any] = {}
            for node in self.net.graph.nodes:
                if not node.inputs:
                    extra[node.name] = 0
                    continue
                widest = max(node.inputs, key=lambda src: self.net.rows[src].rf.h.size)
                step = self.net.rows[widest].rf.h.jump if self._window(self.net.rows[node.name]) else 0
                extra[node.name] = extra[widest] + step
            cache[id(self.net.main)] = extra
        return int(cache[id(self.net.main)][row.name])

    def _activation_memory(self, question: Question, rows: list[LayerRow]) -> Target:
        counted = self._inference(rows) if len(rows) > 1 else rows
        values = sum(r.activation_elems for r in counted)
        p = self.profile
        value = values * p.bytes_per_value * p.batch
        unit = UNITS[p.memory_unit]
        display = f"{_round_sig(Decimal(value) / unit, 4)} {p.memory_unit} ({value:,} bytes)"
        alternatives = []
        if p.memory_unit in _OTHER_UNIT:
            other = UNITS[_OTHER_UNIT[p.memory_unit]]
            alternatives.append(Alternative("mb_vs_mib", Decimal(value) / other * unit,
                                            f"{_OTHER_UNIT[p.memory_unit]} instead of {p.memory_unit}: "
                                            f"1 {p.memory_unit} = {unit:,} bytes"))
        if p.mentioned_batch and p.batch == 1:
            alternatives.append(Alternative("batch_included", value * p.mentioned_batch,
                                            "the question asks for one example, not a batch"))
        formula = (f"{values:,} values × {p.bytes_per_value} bytes" + (f" × batch {p.batch}" if p.batch > 1 else "")
                   + f" = {value:,} bytes = {display.split(' (')[0]}")
        return Target("memory", value, formula, display, alternatives)

    def _same_padding(self, question: Question, rows: list[LayerRow]) -> Target:
        row = rows[-1]
        window = self._window(row) if len(rows) == 1 else None
        if window is None:
            raise ArchcalcError(f"question '{question.id}': 'same_padding' needs a convolution or pooling layer")
        in_shape = self.net.rows[row.inputs[0]].output_shape
        pads = [same_padding(in_shape[1 + i], window.kernel[i], window.stride[i], window.dilation[i]) for i in range(2)]
        value = self._padding_value(pads, self.profile.padding)
        other = self._padding_value(pads, "total" if self.profile.padding == "per_side" else "per_side")
        alternatives = [Alternative("total_vs_per_side", other,
                                    f"this key gives the padding {'per side' if self.profile.padding == 'per_side' else 'in total'}")] \
            if other != value else []
        length, stride = in_shape[1], window.stride[0]
        k_eff = window.effective[0]
        formula = (f"'same' keeps ⌈L/s⌉ = ⌈{length}/{stride}⌉ = {-(-length // stride)}: total padding "
                   f"({-(-length // stride)} − 1)·{stride} + {k_eff} − {length} = {sum(pads[0])}, "
                   f"{pads[0][0]} before and {pads[0][1]} after (the extra pixel, if any, after)")
        display = str(value) if isinstance(value, int) else shape_str(value)
        return Target("count" if isinstance(value, int) else "shape", value, formula, display, alternatives)

    @staticmethod
    def _padding_value(pads: list[tuple[int, int]], style: str) -> int | tuple[int, ...]:
        if style == "total":
            totals = (sum(pads[0]), sum(pads[1]))
            return totals[0] if totals[0] == totals[1] else totals
        if all(a == b for a, b in pads) and pads[0] == pads[1]:
            return pads[0][0]
        if all(a == b for a, b in pads):
            return (pads[0][0], pads[1][0])
        return (*pads[0], *pads[1])

    def _invalid(self, question: Question, rows: list[LayerRow], reason: str) -> Target:
        alternatives = []
        if question.quantity == "output_shape":
            for analysis, name in ((self.net.floor, "floor"), (self.net.ceil, "ceil")):
                shape = analysis.row(rows[-1].name).output_shape
                alternatives.append(Alternative("rounded_invalid", self._ordered(shape),
                                                f"{reason}, so these hyper-parameters are invalid (the key follows "
                                                f"CS231n); rounding it ({name}) is what PyTorch would do"))
        return Target("invalid", INVALID, f"{reason}: the layer cannot be built under this key's convention",
                      "invalid", alternatives)


def _round_sig(value: Decimal, digits: int) -> str:
    if value == 0:
        return "0"
    return f"{float(value):.{digits}g}"
