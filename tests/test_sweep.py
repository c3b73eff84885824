"""archcalc sweep: a design space costed point by point, locally or on Dask and Ray.

Each point must equal a separate `summarize` of the same arguments and input (itself checked
against published tables elsewhere), and a few anchor points equal torchvision's published
parameter counts. The Pareto marks are derived by hand on a small set.
"""

from __future__ import annotations

import csv
import io
import json
import os

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.sweeps.output import pareto_front
from archcalc.sweeps.space import Space, SpaceError, parse_inputs, parse_values

GRID = {"width": [1.0, 1.1], "depth": [1.0, 1.2]}
INPUTS = [(3, 224, 224), (3, 260, 260)]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# ---- the space -----------------------------------------------------------------------------------


def test_values_ranges_and_steps():
    assert parse_values("16,32,64", "w") == [16, 32, 64]
    assert parse_values("2..5", "d") == [2, 3, 4, 5]
    assert parse_values("2..9:3", "d") == [2, 5, 8]
    assert parse_values("0.5,1.0", "m") == [0.5, 1.0]
    for bad in ("5..2", "1,,2", "1..1000000000"):
        with pytest.raises(SpaceError):
            parse_values(bad, "x")


def test_input_patterns():
    assert parse_inputs("3,224,224") == [(3, 224, 224)]
    assert parse_inputs("3,{160,224}") == [(3, 160, 160), (3, 224, 224)]  # C and a size: square
    assert parse_inputs("3,{1,2},{5,6}") == [(3, 1, 5), (3, 1, 6), (3, 2, 5), (3, 2, 6)]
    for bad in ("3,{a}", "3,{0,2}", "", "3,{2"):
        with pytest.raises(SpaceError):
            parse_inputs(bad)


def test_points_decode_in_mixed_radix():
    space = Space((("a", (1, 2, 3)), ("b", ("x", "y"))), ((3, 8, 8), (3, 9, 9)))
    assert space.size == 12
    points = [space.point(i) for i in range(12)]
    assert points[0] == ({"a": 1, "b": "x"}, (3, 8, 8))
    assert points[1] == ({"a": 1, "b": "y"}, (3, 8, 8))  # the last argument varies fastest
    assert points[5] == ({"a": 3, "b": "y"}, (3, 8, 8))
    assert points[6] == ({"a": 1, "b": "x"}, (3, 9, 9))  # then the input
    assert len({str(p) for p in points}) == 12
    sample = list(space.indices(5, seed=3))
    assert sample == sorted(set(sample)) and len(sample) == 5 and sample == list(space.indices(5, seed=3))
    huge = Space((("a", tuple(range(100_000))), ("b", tuple(range(100_000)))))
    assert len(list(huge.indices(10, seed=1))) == 10  # 10^10 points: sampled without listing them


# ---- rows ------------------------------------------------------------------------------------------


def test_rows_equal_separate_summaries_and_torchvision():
    rows = list(archcalc.sweep("torchvision/efficientnet_b0", GRID, inputs=INPUTS))
    assert len(rows) == 8 and [row["point"] for row in rows] == list(range(8))
    for row in rows:
        shape = tuple(int(d) for d in row["input"].split("x"))
        alone = archcalc.summarize("torchvision/efficientnet_b0", input_shape=shape,
                                   args={"width": row["width"], "depth": row["depth"]})
        t = alone.totals
        assert (row["params"], row["macs"], row["flops"], row["activation_bytes"]) == (
            t.params, t.macs, t.flops, t.activation_bytes)
        assert row["rf"] == alone.rows[-1].rf.h.size and row["error"] is None
    by_point = {(r["width"], r["depth"], r["input"]): r for r in rows}
    # torchvision's published sizes: B0 is width 1.0, depth 1.0; B2 is width 1.1, depth 1.2 (at 260)
    assert by_point[(1.0, 1.0, "3x224x224")]["params"] == 5_288_548
    assert by_point[(1.1, 1.2, "3x260x260")]["params"] == 9_109_994


def test_invalid_points_are_rows_with_the_error():
    rows = list(archcalc.sweep("lenet5", inputs=[(1, 32, 32), (1, 8, 8), (1, 36, 36)]))
    assert [row["error"] is None for row in rows] == [True, False, True]
    assert "does not fit" in rows[1]["error"] and rows[1]["params"] is None
    assert rows[0]["params"] == 61_706  # LeNet-5 (LeCun et al. 1998) at 32×32, as test_lenet_zfnet.py derives


def test_pool_gives_the_rows_of_one_process():
    one = list(archcalc.sweep("torchvision/resnet50", {"b3": [2, 4, 6], "b4": [2, 3]}, jobs=1))
    two = list(archcalc.sweep("torchvision/resnet50", {"b3": [2, 4, 6], "b4": [2, 3]}, jobs=2))
    assert one == two


def test_pareto_by_hand():
    rows = [{"point": 0, "params": 1, "macs": 9, "rf": 10, "error": None},
            {"point": 1, "params": 2, "macs": 5, "rf": 50, "error": None},
            {"point": 2, "params": 3, "macs": 5, "rf": 40, "error": None},  # beaten by 1 (fewer params, same MACs)
            {"point": 3, "params": 4, "macs": 1, "rf": 60, "error": None},
            {"point": 4, "params": 5, "macs": 6, "rf": 99, "error": None},  # beaten by 1 and 3 on params, macs
            {"point": 5, "params": 0, "macs": 0, "rf": 0, "error": "does not fit"},  # invalid: never on the front
            {"point": 6, "params": 2, "macs": 5, "rf": 50, "error": None}]  # equal to 1: neither beats the other
    assert pareto_front(rows, ["params", "macs"]) == {0, 1, 3, 6}
    assert pareto_front(rows, ["macs", "max:rf"]) == {3, 4}  # 4 has the largest field; 3 the fewest MACs


def test_to_pandas():
    pandas = pytest.importorskip("pandas")
    frame = archcalc.sweep("torchvision/resnet50", {"b4": [2, 3]}).to_pandas()
    assert isinstance(frame, pandas.DataFrame) and list(frame["b4"]) == [2, 3]
    assert frame["params"].iloc[1] == 25_557_032  # torchvision's resnet50 (b4 = 3)


# ---- the command -------------------------------------------------------------------------------


def test_cli_formats_agree(tmp_path):
    args = ["sweep", "torchvision/resnet50", "--grid", "b3=2..6:2", "--input", "3,{160,224}", "--no-progress", "--jobs", "1"]
    result = run(*args, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 6 and rows[5]["params"] == "25557032" and rows[5]["input"] == "3x224x224"
    out = tmp_path / "points.jsonl"
    assert run(*args, "-o", str(out)).exit_code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["params"] for r in records] == [int(r["params"]) for r in rows]
    pq = pytest.importorskip("pyarrow.parquet")
    parquet = tmp_path / "points.parquet"
    assert run(*args, "-o", str(parquet)).exit_code == 0
    table = pq.read_table(parquet).to_pylist()
    assert [r["macs"] for r in table] == [r["macs"] for r in records]


def test_cli_pareto_and_plot(tmp_path):
    plot = tmp_path / "front.svg"
    result = run("sweep", "torchvision/resnet50", "--grid", "b3=2,6", "--grid", "b4=2,3", "--input", "3,{160,224}",
                 "--pareto", "macs,max:rf", "--plot", str(plot), "--format", "jsonl", "--no-progress", "--jobs", "1")
    assert result.exit_code == 0, result.output
    marks = [json.loads(line)["pareto"] for line in result.stdout.splitlines()]
    assert marks.count(True) >= 2 and plot.read_text().lstrip().startswith("<?xml")


def test_cli_rejects_unknown_arguments_and_bad_grids():
    result = run("sweep", "lenet5", "--grid", "widht=1,2")
    assert result.exit_code == 1 and "declares no argument 'widht'" in result.output
    result = run("sweep", "lenet5", "--grid", "classes=9..2")
    assert result.exit_code == 2 and "empty range" in result.output
    result = run("sweep", "lenet5", "--format", "parquet")
    assert result.exit_code == 1 and "Parquet is written to a file" in result.output


def test_cli_grid_file(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("b3: 2..4:2\nb4: [2, 3]\ninput: ['3,{160,224}']\n", encoding="utf-8")
    result = run("sweep", "torchvision/resnet50", "--grid-file", str(grid), "--format", "csv", "--no-progress")
    assert result.exit_code == 0, result.output
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 2 * 2 * 2


# ---- clusters --------------------------------------------------------------------------------------


def _cluster_library(name: str):
    try:
        return __import__(name)
    except ImportError:
        if os.environ.get("ARCHCALC_REQUIRE_CLUSTER"):
            pytest.fail(f"ARCHCALC_REQUIRE_CLUSTER is set but {name} is not installed")
        pytest.skip(f"{name} is not installed")


@pytest.mark.parametrize("executor,library", [("dask", "distributed"), ("ray", "ray")])
def test_cluster_gives_the_rows_of_the_pool(executor, library):
    _cluster_library(library)
    grid = {"b3": [2, 4, 6], "b4": [2, 3]}
    local = list(archcalc.sweep("torchvision/resnet50", grid, inputs=[(3, 160, 160), (3, 224, 224)], jobs=1))
    remote = list(archcalc.sweep("torchvision/resnet50", grid, inputs=[(3, 160, 160), (3, 224, 224)], jobs=2,
                                 executor=executor))
    assert remote == local


def test_an_existing_dask_cluster_by_address():
    """--address tcp://...: the work goes to a scheduler someone else started."""
    distributed = _cluster_library("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        rows = list(archcalc.sweep("torchvision/resnet50", {"b4": [1, 2, 3]}, executor="dask",
                                   address=cluster.scheduler_address))
    assert [row["params"] for row in rows] == [
        row["params"] for row in archcalc.sweep("torchvision/resnet50", {"b4": [1, 2, 3]})]
    assert rows[2]["params"] == 25_557_032  # torchvision's resnet50
