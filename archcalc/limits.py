"""Every bound archcalc puts on untrusted input, in one place.

Specs, answer keys, students' answers and command-line values are untrusted: a typo or a
hostile file must be refused early, with an error that names the limit, instead of running
for minutes or taking gigabytes. The bounds are chosen so that any input within them runs
every command in under 5 s and 1 GB on a small laptop (``tools/fuzz.py`` checks this), and
are generous for real networks (the largest built-in spec expands to about 600 layers).

``docs/limits.md`` shows :data:`LIMITS` as a table; a test keeps the two in step.
"""

from __future__ import annotations

from typing import NamedTuple

MAX_SPEC_BYTES = 2**20
MAX_YAML_VALUES = 250_000
MAX_YAML_DEPTH = 50
MAX_INT_DIGITS = 20
MAX_DIM = 2**31 - 1
MAX_TENSOR_VALUES = 2**48
MAX_RF = 2**62
MAX_LAYERS = 20_000
MAX_REPORTED_ERRORS = 20
MAX_MODULE_DEPTH = 32
MAX_VERIFY_LAYERS = 2_000
MAX_EXPRESSION_CHARS = 200
MAX_NAME_CHARS = 200
MAX_QUESTIONS = 200
MAX_BATCH = 2**20
MAX_DIAGRAM_NODES = 1_500
MAX_DIAGRAM_EDGES = 3_000
MAX_RENDER_SECONDS = 4
MAX_RASTER_PIXELS = 25_000_000
MAX_LABEL_CHARS = 48
MAX_ANSWER_BYTES = 1_000_000
MAX_ANSWER_VALUES = 10_000
MAX_ANSWER_DEPTH = 20
MAX_ANSWER_CHARS = 200
MAX_ANSWER_DIGITS = 40
MAX_ANSWER_EXPONENT = 60


class Limit(NamedTuple):
    name: str
    value: int
    applies_to: str
    what: str


LIMITS: tuple[Limit, ...] = (
    Limit("MAX_SPEC_BYTES", MAX_SPEC_BYTES, "spec, key", "bytes of a spec or answer-key file (checked before reading)"),
    Limit("MAX_YAML_VALUES", MAX_YAML_VALUES, "spec, key",
          "values in a spec or key once every YAML alias is expanded where it is used (alias bombs)"),
    Limit("MAX_YAML_DEPTH", MAX_YAML_DEPTH, "spec, key", "nesting of mappings and lists (a real spec nests about 6 deep)"),
    Limit("MAX_INT_DIGITS", MAX_INT_DIGITS, "spec, key, --set",
          "digits of an integer literal (wider than any size archcalc accepts)"),
    Limit("MAX_DIM", MAX_DIM, "spec, key, --input",
          "any size: channels, height, width, features, kernel, stride, padding, dilation, groups, repeat, and "
          "the value of an argument expression"),
    Limit("MAX_TENSOR_VALUES", MAX_TENSOR_VALUES, "spec, --input",
          "values of the network input and of each layer's output, batch 1"),
    Limit("MAX_RF", MAX_RF, "spec", "receptive-field size, effective stride and effective padding, in input pixels"),
    Limit("MAX_LAYERS", MAX_LAYERS, "spec", "layers once modules and `repeat` are expanded"),
    Limit("MAX_REPORTED_ERRORS", MAX_REPORTED_ERRORS, "spec",
          "independent errors reported from one file (the rest are counted)"),
    Limit("MAX_MODULE_DEPTH", MAX_MODULE_DEPTH, "spec", "modules instantiated inside modules"),
    Limit("MAX_VERIFY_LAYERS", MAX_VERIFY_LAYERS, "verify",
          "layers `archcalc verify` lowers to PyTorch (building and tracing modules costs about 1 ms a layer)"),
    Limit("MAX_EXPRESSION_CHARS", MAX_EXPRESSION_CHARS, "spec", "characters of one `$(expression)` (checked before parsing)"),
    Limit("MAX_NAME_CHARS", MAX_NAME_CHARS, "spec, key",
          "characters of a name: network, module, argument, layer; key title, question id"),
    Limit("MAX_QUESTIONS", MAX_QUESTIONS, "key", "questions in an answer key"),
    Limit("MAX_BATCH", MAX_BATCH, "--batch, key", "batch size for memory"),
    Limit("MAX_DIAGRAM_NODES", MAX_DIAGRAM_NODES, "render", "nodes drawn (after `--depth` and `--only`)"),
    Limit("MAX_DIAGRAM_EDGES", MAX_DIAGRAM_EDGES, "render", "edges drawn (after `--depth` and `--only`)"),
    Limit("MAX_RENDER_SECONDS", MAX_RENDER_SECONDS, "render",
          "seconds Graphviz may take to lay out and draw (some graphs within the node and edge limits take minutes)"),
    Limit("MAX_RASTER_PIXELS", MAX_RASTER_PIXELS, "render",
          "pixels of a PNG diagram; a larger drawing is scaled down to fit, with a warning"),
    Limit("MAX_LABEL_CHARS", MAX_LABEL_CHARS, "render",
          "characters of a name in a diagram label; longer names are shortened with '…' (the tooltip keeps all)"),
    Limit("MAX_ANSWER_BYTES", MAX_ANSWER_BYTES, "answers", "bytes of a student's answer file"),
    Limit("MAX_ANSWER_VALUES", MAX_ANSWER_VALUES, "answers", "values of an answer file once YAML aliases are expanded"),
    Limit("MAX_ANSWER_DEPTH", MAX_ANSWER_DEPTH, "answers", "nesting of an answer file"),
    Limit("MAX_ANSWER_CHARS", MAX_ANSWER_CHARS, "answers", "characters of one answer"),
    Limit("MAX_ANSWER_DIGITS", MAX_ANSWER_DIGITS, "answers", "digits of a number in an answer"),
    Limit("MAX_ANSWER_EXPONENT", MAX_ANSWER_EXPONENT, "answers", "size of the exponent in `3.49e4` or `3.49×10^4`"),
)


def _shown(value: int) -> str:
    """'2^31 − 1 (2,147,483,647)', '2^21 (2,097,152)', '50,000'."""
    bits = value.bit_length()
    if value >= 2**16 and value == 2 ** (bits - 1):
        return f"2^{bits - 1} ({value:,})"
    if value >= 2**16 and value == 2**bits - 1:
        return f"2^{bits} − 1 ({value:,})"
    return f"{value:,}"


def markdown_table() -> str:
    """The limits as the Markdown table of docs/limits.md."""
    lines = ["| limit | value | applies to | what |", "|---|---|---|---|"]
    lines += [f"| `{lim.name}` | {_shown(lim.value)} | {lim.applies_to} | {lim.what} |" for lim in LIMITS]
    return "\n".join(lines) + "\n"
