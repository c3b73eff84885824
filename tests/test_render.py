"""Diagrams: every built-in spec renders to SVG whose nodes and edges are the graph's; colour
legend; golden DOT; hostile names; rendering without a system Graphviz."""

from __future__ import annotations

import struct
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from archcalc.diagram import engine
from archcalc.diagram.dot import DiagramOptions, build_dot
from archcalc.zoo import zoo_entries
from conftest import SPECS, from_text, zoo

SVG = "{http://www.w3.org/2000/svg}"
ZOO = [entry.name for entry in zoo_entries()]


def svg_of(path):
    """(node titles, edge titles, all text) of a rendered SVG."""
    root = ET.parse(path).getroot()
    nodes, edges = [], []
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        if group.get("class") == "node":
            nodes.append(title.text)
        elif group.get("class") == "edge":
            edges.append(title.text)
    text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    return nodes, edges, text


def expected_edges(analysis):
    return sorted(f"{src}->{row.name}" for row in analysis.rows for src in dict.fromkeys(row.inputs))


@pytest.mark.parametrize("name", ZOO)
def test_every_builtin_spec_renders(name, tmp_path, cli):
    out = tmp_path / "net.svg"
    result = cli("render", name, "-o", str(out), "--show", "params,macs", "--depth", "9")  # every layer
    assert result.exit_code == 0, result.output
    nodes, edges, text = svg_of(out)
    analysis = zoo(name)
    assert sorted(nodes) == sorted(row.name for row in analysis.rows)  # every layer exactly once
    assert sorted(edges) == expected_edges(analysis)
    first_conv = next((r for r in analysis.rows if r.type == "conv2d"), None)
    if first_conv is not None:  # labels carry shapes and counts
        c, h, w = first_conv.output_shape
        assert f"{c}x{h}x{w}" in text


def test_labels_carry_numbers(tmp_path, cli):
    out = tmp_path / "alexnet.svg"
    cli("render", "alexnet", "-o", str(out), "--show", "params,macs,rf", "--layout", "hwc", "--edge-labels")
    _, _, text = svg_of(out)
    assert "conv2d 11x11/4, 96" in text and "55x55x96" in text
    assert "params 34.9K" in text  # 34,944
    assert "MACs 105.4M" in text  # 105,415,200
    assert "RF 195" in text  # maxpool5


def test_color_by_draws_a_legend(tmp_path, cli):
    out = tmp_path / "vgg.svg"
    cli("render", "vgg16", "-o", str(out), "--color-by", "macs")
    nodes, _, text = svg_of(out)
    assert "MACs" in text and "log scale" in text  # the scale sits under the title, not in a node
    assert all(name.startswith(("conv", "pool", "fc", "relu", "input", "dropout", "flatten", "softmax")) for name in nodes)
    source = build_dot(zoo("vgg16"), DiagramOptions(color_by="macs"))
    assert "#800026" in source and "#ffffcc" in source  # both ends of the scale are used


def test_depth_collapses_modules(tmp_path, cli):
    out = tmp_path / "g.svg"
    cli("render", "googlenet", "-o", str(out), "--depth", "0")
    nodes, edges, _ = svg_of(out)
    assert "inception_3a" in nodes and not any(n.startswith("inception_3a/") for n in nodes)
    assert "pool2->inception_3a" in edges and "inception_3a->inception_3b" in edges
    assert "inception_4a->aux1" in edges


def test_a_large_network_is_collapsed_to_stay_legible(tmp_path, cli):
    """ResNet-50 has 177 layers (over LEGIBLE_NODES = 80): drawn as its 25 top-level entries
    (input, conv1, bn1, relu, maxpool, 16 bottleneck blocks, avgpool, flatten, fc, softmax), with a
    note; a depth or a part the user asks for is drawn as asked, and VGG-16's 41 layers in full."""
    out = tmp_path / "r.svg"
    result = cli("render", "resnet50", "-o", str(out))
    nodes, _, _ = svg_of(out)
    assert len(nodes) == 25 and "conv2_1" in nodes and not any("/" in node for node in nodes)
    assert "note: 177 layers: modules collapsed with --depth 0 (25 nodes)" in result.stderr
    assert "--depth 1: every layer" in result.stderr
    for extra in (("--depth", "1"), ("--only", "conv2_1/")):
        result = cli("render", "resnet50", "-o", str(out), *extra)
        assert "note:" not in result.stderr and any("/" in node for node in svg_of(out)[0])
    result = cli("render", "vgg16", "-o", str(out))
    assert "note:" not in result.stderr and len(svg_of(out)[0]) == 41


def test_only_draws_a_module_with_its_inputs(tmp_path, cli):
    out = tmp_path / "m.svg"
    assert cli("render", "googlenet", "--only", "inception_3a/", "-o", str(out)).exit_code == 0
    nodes, edges, _ = svg_of(out)
    assert "pool2" in nodes  # the module's input, as a stub
    assert sum(n.startswith("inception_3a/") for n in nodes) == 14
    result = cli("render", "googlenet", "--only", "nope/", "-o", str(tmp_path / "x.svg"))
    assert result.exit_code == 1 and "no layer name starts with it" in result.stderr


def test_golden_dot(golden):
    analysis = from_text((SPECS / "mini_inception_resnet.yaml").read_text())
    golden("mini_inception_resnet.dot", build_dot(analysis, DiagramOptions(show=("params", "macs"), color_by="params")))


HOSTILE = """
name: hostile "net" {x} <a>b> conv:1
input: [3, 8, 8]
modules:
  block:
    args: [note]
    layers:
      - relu: {name: 'x\\'}
layers:
  - conv2d: {name: 'a "quoted" <b>bold<i> {braced}', out: 4, kernel: 3, padding: 1}
  - relu: {name: "back\\\\slash & amp"}
  - relu: {name: "conv:1"}
  - relu: {name: "conv"}
  - relu: {name: "<a>b>"}
  - relu: {name: "a>b"}
  - relu: {name: 'ends\\'}
  - relu: {name: "LONG"}
  - block: {name: "m:2", args: ["\\x01\\u202e"]}
  - conv2d: {name: "ünïcödé → 卷积", out: 4, kernel: 1}
  - add: {name: "sum]>[", inputs: ['a "quoted" <b>bold<i> {braced}', "ünïcödé → 卷积"]}
""".replace("LONG", "n" * 200)


def dot_title(name: str) -> str:
    """How a layer name appears as a DOT id (and SVG title): DOT keeps a backslash pair as two
    characters, so names are written with their backslashes doubled (see dotsyntax)."""
    return name.replace("\\", "\\\\")


@pytest.mark.parametrize("renderer", ["graphviz-pure", "dot"])
def test_hostile_names(tmp_path, monkeypatch, renderer):
    """Names DOT helpers misread (ports, HTML ids, escapes) stay distinct nodes with the right
    edges; long names are shortened in labels; control characters cannot make SVG invalid XML."""
    if engine._find(renderer) is None:
        pytest.skip(f"{renderer} is not installed")
    real_find = engine._find
    monkeypatch.setattr(engine, "_find", lambda program: real_find(program) if program == renderer else None)
    analysis = from_text(HOSTILE)
    source = build_dot(analysis, DiagramOptions(show=("params",)))
    out = tmp_path / "h.svg"
    out.write_bytes(engine.render(source, "svg"))
    nodes, edges, text = svg_of(out)  # parses as XML
    assert sorted(nodes) == sorted(dot_title(row.name) for row in analysis.rows)
    assert sorted(edges) == sorted(f"{dot_title(src)}->{dot_title(row.name)}"
                                   for row in analysis.rows for src in dict.fromkeys(row.inputs))
    assert 'a "quoted" <b>bold<i> {braced}' in text  # shown as text, not markup
    assert "n" * 48 not in text and "n" * 47 + "..." in text  # a 200-character name shortened to MAX_LABEL_CHARS = 48 (ASCII dots: glyph widths)
    out.write_bytes(engine.render(build_dot(analysis, DiagramOptions(depth=0)), "svg"))
    assert "note=\\x01\\u202e" in svg_of(out)[2]  # a collapsed module's argument: control characters made visible


def test_too_many_nodes_is_refused(tmp_path, cli):
    spec = tmp_path / "chain.yaml"
    spec.write_text("name: chain\ninput: [3, 8, 8]\nlayers:\n  - relu: {name: r, repeat: 1500}\n")
    result = cli("render", str(spec), "-o", str(tmp_path / "c.svg"), "--depth", "1")
    assert result.exit_code == 1 and "1,501 nodes, over the limit of 1,500 (MAX_DIAGRAM_NODES)" in result.stderr
    assert "--depth" in result.stderr and not (tmp_path / "c.svg").exists()
    assert cli("render", str(spec), "-o", str(tmp_path / "c.svg"), "--depth", "0").exit_code == 0


def test_large_png_is_scaled_to_the_pixel_budget(tmp_path, cli, monkeypatch):
    monkeypatch.setattr(engine, "MAX_RASTER_PIXELS", 50_000)  # LeNet-5 at 96 dpi is about 170,000 pixels
    result = cli("render", "lenet5", "-o", str(tmp_path / "l.png"))
    assert result.exit_code == 0 and "over the limit of 50,000 (MAX_RASTER_PIXELS): drawn at" in result.stderr
    width, height = struct.unpack(">II", (tmp_path / "l.png").read_bytes()[16:24])
    assert width * height <= 50_000 * 1.05  # Graphviz rounds the canvas to whole pixels


def test_slow_layout_is_stopped(tmp_path, monkeypatch):
    """A layout that outlives MAX_RENDER_SECONDS is killed and reported, not waited for."""
    monkeypatch.setattr(engine, "MAX_RENDER_SECONDS", 0)
    monkeypatch.setattr(engine, "choose_renderer", lambda fmt: [sys.executable, "-c", "import time; time.sleep(30)"])
    start = time.monotonic()
    with pytest.raises(engine.RenderError, match="did not finish within 0 s"):
        engine.render("digraph {}", "svg")
    assert time.monotonic() - start < 5


def test_renders_without_system_dot(monkeypatch, tmp_path):
    real_find = engine._find
    monkeypatch.setattr(engine, "_find", lambda program: None if program == "dot" else real_find(program))
    assert engine.choose_renderer("svg")[0].endswith("graphviz-pure")
    png = engine.render(build_dot(zoo("lenet5")), "png")
    assert png.startswith(b"\x89PNG")
    with pytest.raises(engine.RenderError, match="PDF output needs Graphviz's 'dot'"):
        engine.render(build_dot(zoo("lenet5")), "pdf")


def test_no_renderer_at_all(monkeypatch, tmp_path, cli):
    monkeypatch.setattr(engine, "_find", lambda program: None)
    result = cli("render", "lenet5", "-o", str(tmp_path / "l.svg"))
    assert result.exit_code == 1
    assert "no Graphviz renderer found" in result.stderr and "pip install graphviz-pure" in result.stderr
    assert not (tmp_path / "l.svg").exists()
    assert cli("render", "lenet5", "-o", str(tmp_path / "l.dot")).exit_code == 0  # DOT needs no renderer
    assert (tmp_path / "l.dot").read_text().startswith("digraph")


def test_unknown_extension(cli, tmp_path):
    result = cli("render", "lenet5", "-o", str(tmp_path / "l.gif"))
    assert result.exit_code == 2 and "use .svg, .png, .pdf or .dot" in result.output


def test_output_is_deterministic():
    analysis = zoo("torchvision/resnet18")
    assert build_dot(analysis) == build_dot(analysis)


def test_a_long_chain_is_drawn_as_its_two_ends(tmp_path, cli):
    """5,000 layers with no modules to collapse: the first and the last LEGIBLE_NODES / 2 = 40 nodes
    and one node for the 5,001 − 80 = 4,921 between, with a note (the limit of 1,500 nodes no longer
    refuses it); an explicit --depth draws what it asks for, and is refused."""
    spec = tmp_path / "chain.yaml"
    spec.write_text("name: chain\ninput: [3, 8, 8]\nlayers:\n" + "".join(f"  - relu: {{name: r{i}}}\n" for i in range(5000)))
    out = tmp_path / "c.svg"
    result = cli("render", str(spec), "-o", str(out))
    assert result.exit_code == 0 and "5,001 layers in a row: drawn as the first and the last 40" in result.stderr
    nodes, edges, text = svg_of(out)
    assert len(nodes) == 81 and "... 4,921 more layers ..." in text  # labels are ASCII (graphviz-pure fonts)
    assert "r38->/elided" in edges and "/elided->r4960" in edges
