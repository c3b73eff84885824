"""archcalc report: the page read back with an HTML parser (the browser tests are in
test_report_browser.py). The numbers on the page are checked against `summary --format json`
and `summary --conventions --format json`, whose values the rest of the suite checks against
published tables and PyTorch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcalc.cli import main
from archcalc.diagram.engine import RenderError
from archcalc.diagram.inline import clean_svg
from archcalc.report.html import json_for_script
from conftest import zoo
from report_page import parse_page

HOSTILE = """
name: "<script>window.pwned = 1</script> & --> <!--"
input: [3, 16, 16]
modules:
  blk:
    args: [c]
    layers:
      - conv: {name: "<img src=x onerror=alert(1)>", out: $c, kernel: 3, padding: 1}
      - relu: {name: "<svg onload=window.pwned=2>"}
layers:
  - conv: {name: "--><script>window.pwned=3<\\\\script>", out: 4, kernel: 3}
  - blk: {name: "\\"onmouseover=\\"alert(1)", args: [4]}
  - relu: {name: "a\\"b'c<d>&e"}
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def report(tmp_path: Path, *specs: str, extra: tuple[str, ...] = ()):
    out = tmp_path / "report.html"
    result = run("report", *specs, "-o", str(out), *extra)
    assert result.exit_code == 0, result.output
    return parse_page(out.read_text(encoding="utf-8")), out


def summary_json(spec: str, *extra: str) -> dict:
    result = run("summary", spec, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def conventions_json(spec: str) -> dict[str, int]:
    result = run("summary", spec, "--conventions", "--format", "json")
    return {record["convention"]: record["total"] for record in json.loads(result.stdout)}


@pytest.mark.parametrize("spec", ["lenet5", "googlenet", "resnet50", "torchvision/inception_v3"])
def test_every_layer_once_and_totals_equal_the_json(tmp_path, spec):
    page, _ = report(tmp_path, spec)
    summary = summary_json(spec)
    (section,) = page.rows
    assert page.layer_names(section) == [layer["name"] for layer in summary["layers"]]  # each once, in order
    modules = [row.values[1] for row in page.rows[section] if row.kind == "module"]
    assert sorted(modules) == sorted(summary["modules"])
    layers = {row.values[1]: row for row in page.rows[section] if row.kind == "layer"}
    for layer in summary["layers"]:  # params, MACs, FLOPs and memory of every row, exact
        values = layers[layer["name"]].values
        assert [int(values[i]) for i in (5, 6, 7, 8)] == [layer["params"], layer["macs"], layer["flops"],
                                                          layer["activation_bytes"]], layer["name"]
    totals = page.totals[section]
    t = summary["totals"]
    assert totals["params"] == f"{t['params']:,}"
    assert totals["macs"] == f"{t['macs']:,}"
    assert totals["flops"] == f"{t['flops']:,}"
    assert totals["flops-training"] == f"{t['flops_with_training_only']:,}"


def test_module_rows_sum_their_layers(tmp_path):
    """A module's row: the sum of its layers' parameters, and of the MACs of those that run at
    inference (GoogLeNet's auxiliary classifiers run only in training)."""
    page, _ = report(tmp_path, "googlenet")
    summary = summary_json("googlenet")
    (section,) = page.rows
    for row in (row for row in page.rows[section] if row.kind == "module"):
        path = row.values[1]
        members = [layer for layer in summary["layers"] if path in layer["scope"]]
        counted = [layer for layer in members if not layer["training_only"]] or members
        assert int(row.values[5]) == sum(layer["params"] for layer in members)
        assert int(row.values[6]) == sum(layer["macs"] for layer in counted)


def test_every_flop_convention_is_embedded_with_its_total(tmp_path):
    """The switch needs each preset's per-layer numbers; they add up to the preset's total."""
    page, _ = report(tmp_path, "googlenet")
    (net,) = page.data()
    expected = conventions_json("googlenet")
    assert set(net["presets"]) == set(expected)
    inference = [not layer["training_only"] for layer in net["layers"]]
    for name, preset in net["presets"].items():
        assert preset["total"] == expected[name], name
        assert sum(value for value, counted in zip(preset["layers"], inference) if counted) == expected[name], name
        assert sum(preset["layers"]) == preset["total_training"]


def test_the_page_fetches_nothing(tmp_path):
    page, out = report(tmp_path, "resnet50")
    text = out.read_text(encoding="utf-8")
    assert all(value.startswith("#") for _, _, value in page.urls), page.urls  # in-page links only
    assert "link" not in page.elements and "iframe" not in page.elements and "img" not in page.elements
    assert "http://" not in text.replace("http://www.w3.org/", "") and "https://" not in text
    assert "url(" not in text and "@import" not in text
    assert "default-src 'none'" in page.csp  # and the browser would refuse a request anyway


def test_hostile_names_are_text_never_markup(tmp_path):
    spec = tmp_path / "hostile.yaml"
    spec.write_text(HOSTILE, encoding="utf-8")
    page, out = report(tmp_path, str(spec))
    scripts = [attrs for attrs, _ in page.scripts]
    assert len(scripts) == 2  # the data block and archcalc's own script, nothing a name added
    assert scripts[0]["type"] == "application/json" and "nonce" in scripts[1]
    assert "nonce-" + scripts[1]["nonce"] in page.csp
    assert "img" not in page.elements
    (section,) = page.rows
    assert page.layer_names(section)[1] == "--><script>window.pwned=3<\\script>"
    (net,) = page.data()  # the JSON block parses, names intact
    assert net["name"] == "<script>window.pwned = 1</script> & --> <!--"
    assert "<" not in page.scripts[0][1]
    assert not [name for name in page.attributes if name.startswith("on")]  # no event handler anywhere
    assert '"onmouseover="alert(1)' in page.layer_names(section)[2]  # the module's layers, names intact


def test_json_for_script_cannot_close_its_element():
    text = json_for_script({"name": "</script><!--\u2028&"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": "</script><!--\u2028&"}


def test_clean_svg_keeps_the_drawing_and_drops_what_could_run():
    svg = '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- conv1 -->\n<svg width="8pt"><g id="n0_L1" class="node"><title>x</title></g></svg>\n'
    assert clean_svg(svg) == '<svg width="8pt"><g id="n0_L1" class="node"><title>x</title></g></svg>'
    for active in ('<svg><script>alert(1)</script></svg>', '<svg><g onclick="x()"></g></svg>',
                   '<svg><a xlink:href="javascript:x()"></a></svg>', '<svg><foreignObject></foreignObject></svg>'):
        with pytest.raises(RenderError):
            clean_svg(active)
    assert clean_svg('<svg><text>onclick="x" &lt;script&gt;</text></svg>')  # text that merely reads so is fine


def test_diagram_nodes_link_to_rows(tmp_path):
    """Every row names the node that draws it, and that node is in the inline SVG: the layer's own
    node (LeNet-5, drawn in full) or its module's (ResNet-50, collapsed to stay legible)."""
    for spec, kind in (("lenet5", "L"), ("resnet50", "M")):
        page, _ = report(tmp_path, spec)
        (section,) = page.rows
        nodes = set(page.svg_nodes[section])
        linked = [row.attrs["data-node"] for row in page.rows[section] if "data-node" in row.attrs]
        assert linked and set(linked) <= nodes
        assert any(node[3] == kind for node in linked)
        layers = [row for row in page.rows[section] if row.kind == "layer"]
        assert all("data-node" in row.attrs for row in layers)


def test_compare_page_puts_networks_side_by_side(tmp_path):
    page, out = report(tmp_path, "googlenet", "resnet50")
    assert list(page.rows) == ["n0_net", "n1_net"]
    text = out.read_text(encoding="utf-8")
    # ratios to the first network: 25,557,032 / 13,378,280 params, 3,857,973,248 / 1,582,671,872 MACs
    assert "×1.910" in text and "×2.438" in text
    assert [net["name"] for net in page.data()] == ["GoogLeNet", "ResNet-50"]


def test_without_diagram_and_with_a_depth(tmp_path):
    page, out = report(tmp_path, "resnet50", extra=("--no-diagram",))
    assert page.svg_nodes["n0_net"] == [] and "No diagram" in out.read_text(encoding="utf-8")
    page, _ = report(tmp_path, "resnet50", extra=("--depth", "1"))
    assert any(node[3] == "L" for node in page.svg_nodes["n0_net"])  # every layer drawn
    page, _ = report(tmp_path, "resnet50", extra=("--only", "conv3_1/"))
    summary = summary_json("resnet50")
    drawn = {row.values[1] for row in page.rows["n0_net"] if row.attrs.get("data-node", "")[3:4] == "L"}
    assert drawn == {layer["name"] for layer in summary["layers"] if layer["name"].startswith("conv3_1/")}
    assert len(page.layer_names("n0_net")) == len(summary["layers"])  # the table keeps every layer


def test_a_bad_spec_writes_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ninput: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 9}\n", encoding="utf-8")
    out = tmp_path / "report.html"
    result = run("report", "lenet5", str(bad), "-o", str(out))
    assert result.exit_code == 1 and "bad.yaml:4" in result.output and not out.exists()


def test_layout_hwc_prints_shapes_channels_last(tmp_path):
    page, _ = report(tmp_path, "alexnet", extra=("--layout", "hwc"))
    (section,) = page.rows
    conv1 = next(row for row in page.rows[section] if row.values[1] == "conv1")
    assert conv1.cells[4] == "55×55×96"  # AlexNet's conv1: 96 maps of 55×55 (Krizhevsky et al. 2012)


def test_notebook_display():
    """Jupyter shows the HTML fragment: no script, the table (modules collapsed past 80 rows), the diagram."""
    lenet = zoo("lenet5")
    html = lenet._repr_html_()
    assert "<script" not in html and "<svg" in html
    page = parse_page(html)
    assert "table" in page.elements
    assert all(f">{row.name}<" in html for row in lenet.rows)
    resnet = zoo("resnet50")
    html = resnet._repr_html_()
    assert "Modules nested deeper than 0" in html and ">conv2_1<" in html and ">conv2_1/conv1<" not in html
    assert repr(resnet) == ("<Analysis 'ResNet-50': 177 layers, 25,557,032 params, 3,857,973,248 MACs, "
                            "7,715,946,496 FLOPs (torch)>")
    assert str(lenet).splitlines()[0].startswith("LeNet-5")


def test_notebook_escapes_names(tmp_path):
    from archcalc import analyze, build_graph, load_spec_text

    html = analyze(build_graph(load_spec_text(HOSTILE, "hostile.yaml")))._repr_html_()
    assert "<script" not in html and "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


EMPTY_MODULE = """
name: a module left without layers
input: [3, 8, 8]
modules:
  maybe:
    args: [use]
    layers:
      - conv2d: {name: c, out: 4, kernel: 3, if: $use}
layers:
  - maybe: {name: first, args: [false]}
  - maybe: {name: second, args: [true]}
  - relu
"""


def test_script_data_lines_up_with_row_indices(tmp_path):
    """The script finds a module's numbers at its row's data-index, its place among the analysis's
    modules: a module whose every layer is left out (if: false) keeps its place."""
    spec = tmp_path / "empty.yaml"
    spec.write_text(EMPTY_MODULE, encoding="utf-8")
    page, _ = report(tmp_path, str(spec))
    (net,) = page.data()
    assert [module["name"] for module in net["modules"]] == ["first", "second"]
    (row,) = [row for row in page.rows["n0_net"] if row.kind == "module"]
    assert row.values[1] == "second" and row.index == 1
    assert net["modules"][row.index]["params"] == int(row.values[5]) == 4 * 3 * 3 * 3 + 4
