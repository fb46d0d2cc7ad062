"""Energy of a cluster and of its tenants, every number worked out by hand.

Defaults: a B200 draws 1000 W busy and 150 W idle; a DGX B200 node (8 GPUs) 14,300 W at
full load, so the rest of the node draws 14300 - 8 x 1000 = 6300 W; PUE 1.2; electricity
0.1875 EUR/kWh; 363 g CO2/kWh. 1 kWh = 3.6e6 J.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from helpers import write_trace

import sim
from sim.cli import main
from sim.cluster.state import ClusterLayout, PodInfo
from sim.metrics.energy import energy_by_tenant, energy_summary
from sim.records import JobRecord, RunRecords, Segment
from sim.scenario.market import Energy

NAN = math.nan


def record(job_id: str, tenant: str) -> JobRecord:
    return JobRecord(job_id, tenant, "training", "B200", 4, 0.0, 3600.0, NAN, 0, 0.0, 3600.0, "completed")


def one_job(window: float = 7200.0) -> tuple[RunRecords, ClusterLayout]:
    """Two DGX B200 nodes (16 GPUs); acme's job holds 4 GPUs of node 0 over [0, 3600)."""
    layout = ClusterLayout([PodInfo(0, "dgx", "B200", 8, 0, 2, 14300.0)])
    segment = Segment("j1", 0.0, 3600.0, "B200", 4, "dgx/0", "dgx", "completed", 0.0)
    records = RunRecords(
        [record("j1", "acme")], {}, 16, {"B200": 16}, {"dgx": 16}, window, None, 0, [segment]
    )
    return records, layout


def test_cluster_energy_of_one_job_on_two_nodes() -> None:
    """Window 2 h. Busy 4 x 3600 GPU-s x 1000 W = 4 kWh; idle (16 x 7200 - 14400) x 150 W =
    4.2 kWh; nodes 2 x 6300 W x 7200 s = 25.2 kWh. IT 33.4 kWh; facility x 1.2 = 40.08 kWh
    (busy 4.8, idle 5.04, nodes 30.24): 40.08 x 0.1875 = 7.515 EUR, x 0.363 = 14.54904 kg CO2.
    """
    records, layout = one_job()
    summary = energy_summary(records, Energy(), layout)
    expected = {
        "kwh": 40.08,
        "it_kwh": 33.4,
        "busy_kwh": 4.8,
        "idle_kwh": 5.04,
        "node_kwh": 30.24,
        "eur": 7.515,
        "co2_kg": 14.54904,
    }
    assert {key: summary[key] for key in expected} == pytest.approx(expected, rel=1e-12)
    assert summary["pue"] == 1.2 and summary["window_s"] == 7200.0
    b200 = summary["by_gpu_type"]["B200"]
    assert b200["busy_gpu_hours"] == pytest.approx(4.0, rel=1e-12)
    assert b200["idle_gpu_hours"] == pytest.approx(28.0, rel=1e-12)
    assert b200["kwh"] == pytest.approx(40.08, rel=1e-12)


def test_tenant_energy_counts_busy_gpus_and_their_node_share() -> None:
    """acme: 4 GPUs x 3600 s x (1000 + 6300 / 8 W) = 25.74e6 J = 7.15 kWh, x 1.2 = 8.58 kWh:
    1.60875 EUR, 3.11454 kg CO2. Idle energy belongs to no tenant."""
    records, layout = one_job()
    assert energy_by_tenant(records, Energy(), layout) == {
        "acme": pytest.approx((8.58, 1.60875, 3.11454), rel=1e-12)
    }


def test_scenario_power_overrides_and_pue() -> None:
    """busy 800 W, idle 100 W, node_w 500 W, PUE 1.5, 0.2 EUR/kWh, 400 g/kWh, window 1 h:
    busy 14400 x 800 = 3.2 kWh; idle (57600 - 14400) x 100 = 1.2 kWh; nodes 2 x 500 x 3600 = 1 kWh.
    Facility 5.4 x 1.5 = 8.1 kWh: 1.62 EUR, 3.24 kg. acme: 14400 x (800 + 62.5) x 1.5 = 5.175 kWh.
    """
    records, layout = one_job(window=3600.0)
    energy = Energy.model_validate(
        {
            "power": {"B200": {"busy_w": 800, "idle_w": 100, "node_w": 500}},
            "pue": 1.5,
            "price_eur_per_kwh": 0.2,
            "co2_g_per_kwh": 400,
        }
    )
    summary = energy_summary(records, energy, layout)
    assert (summary["kwh"], summary["eur"], summary["co2_kg"]) == pytest.approx((8.1, 1.62, 3.24), rel=1e-12)
    assert energy_by_tenant(records, energy, layout)["acme"][0] == pytest.approx(5.175, rel=1e-12)


def test_nodes_without_power_have_no_overhead_and_other_types_their_defaults() -> None:
    """An RTXPRO6000 pod without power_w (600 W busy, 90 W idle) and an unlisted type (700/100 W),
    1 node x 4 GPUs each, all idle for 1 h: (4 x 90 + 4 x 100) x 3600 J x 1.2 = 0.912 kWh."""
    layout = ClusterLayout([PodInfo(0, "rtx", "RTXPRO6000", 4, 0, 1), PodInfo(1, "mi", "MI300", 4, 1, 2)])
    records = RunRecords([], {}, 8, {"RTXPRO6000": 4, "MI300": 4}, {"rtx": 4, "mi": 4}, 3600.0, None, 0)
    summary = energy_summary(records, Energy(), layout)
    assert summary["kwh"] == pytest.approx(0.912, rel=1e-12)
    assert summary["node_kwh"] == 0 and summary["busy_kwh"] == 0
    assert summary["by_gpu_type"]["RTXPRO6000"]["kwh"] == pytest.approx(0.432, rel=1e-12)


def test_a_gang_across_pods_pays_each_nodes_power() -> None:
    """Whole nodes in pods of 14.3 kW and 12.3 kW for 1800 s: (14300 + 12300) x 1800 J x 1.2 = 15.96 kWh."""
    layout = ClusterLayout(
        [PodInfo(0, "a", "B200", 8, 0, 1, 14300.0), PodInfo(1, "b", "B200", 8, 1, 2, 12300.0)]
    )
    segment = Segment("j1", 0.0, 1800.0, "B200", 8, "a/0;b/0", "a;b", "completed", 0.0)
    records = RunRecords(
        [record("j1", "acme")], {}, 16, {"B200": 16}, {"a": 8, "b": 8}, 1800.0, None, 0, [segment]
    )
    assert energy_by_tenant(records, Energy(), layout)["acme"][0] == pytest.approx(15.96, rel=1e-12)
    # The cluster: both nodes fully busy, so the same energy and nothing idle.
    assert energy_summary(records, Energy(), layout)["kwh"] == pytest.approx(15.96, rel=1e-12)


def test_energy_of_a_simulated_run(tmp_path: Path) -> None:
    """The same cluster and job through ``sim.run`` (horizon 2 h) gives the hand numbers above."""
    trace = write_trace(
        tmp_path / "t.csv",
        [("j1", 0, 4, 3600, "acme")],
        ("job_id", "submit_time", "gpus", "duration", "tenant"),
    )
    scenario = {
        "name": "energy",
        "horizon": "2h",
        "cluster": {
            "node_types": {"dgx-b200": {"gpu_type": "B200", "gpus_per_node": 8, "power_w": 14300}},
            "pods": [{"name": "dgx", "node_type": "dgx-b200", "nodes": 2}],
        },
        "workload": {"trace": {"path": str(trace)}},
    }
    result = sim.run(scenario)
    layout = ClusterLayout.from_scenario(result.scenario.cluster)
    assert energy_summary(result.records, result.scenario.energy, layout)["kwh"] == pytest.approx(
        40.08, rel=1e-12
    )
    assert energy_by_tenant(result.records, result.scenario.energy, layout) == {
        "acme": pytest.approx((8.58, 1.60875, 3.11454), rel=1e-12)
    }


def test_a_busy_power_without_idle_power_idles_at_15_percent_of_it() -> None:
    """busy 400 W, idle unset: idle 60 W (not the B200's 150 W), node 14300 - 8 x 400 = 11100 W.
    Window 2 h: busy 14400 x 400 = 1.6 kWh; idle (115200 - 14400) x 60 = 1.68 kWh; nodes
    2 x 11100 x 7200 = 44.4 kWh. Facility x 1.2: busy 1.92, idle 2.016, nodes 53.28, 57.216 kWh."""
    records, layout = one_job()
    energy = Energy.model_validate({"power": {"B200": {"busy_w": 400}}})
    assert energy.gpu_power("B200") == (400.0, 60.0)
    summary = energy_summary(records, energy, layout)
    expected = {"busy_kwh": 1.92, "idle_kwh": 2.016, "node_kwh": 53.28, "kwh": 57.216}
    assert {key: summary[key] for key in expected} == pytest.approx(expected, rel=1e-12)
    # Neither given: the type's defaults; an unlisted type keeps its 100 W idle.
    assert Energy().gpu_power("B200") == (1000.0, 150.0) and Energy().gpu_power("MI300") == (700.0, 100.0)


ENERGY_SCENARIO = """\
name: energy
horizon: 2h
cluster:
  node_types:
    dgx-b200: {gpu_type: B200, gpus_per_node: 8, power_w: 14300}
  pods:
    - {name: dgx, node_type: dgx-b200, nodes: 2}
workload:
  trace: {path: t.csv}
energy:
  power:
    B200: {busy_w: 1000}
"""


def test_power_that_cannot_be_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An idle power above the busy one (given or default), and a node's power_w below its GPUs
    at busy power (14.3: kW written as W, which used to give the node 0 W), exit 2."""
    write_trace(tmp_path / "t.csv", [("j1", 0, 4, 3600)], ("job_id", "submit_time", "gpus", "duration"))
    scenario = tmp_path / "s.yaml"
    scenario.write_text(ENERGY_SCENARIO)
    refused = {
        "energy.power.B200.idle_w=1200": (
            "--set: energy.power.B200.idle_w: idle_w must be at most busy_w (1000 W) (got 1200)"
        ),
        "energy.power.B200={idle_w: 1200}": (
            "--set: energy.power.B200.idle_w: idle_w must be at most busy_w (1000 W, its default) (got 1200)"
        ),
        "cluster.node_types.dgx-b200.power_w=14.3": (
            "--set: cluster.node_types.dgx-b200.power_w: power_w must be the whole node's watts at full "
            "load, at least gpus_per_node x busy_w = 8 x 1000 = 8000 W (got 14.3)"
        ),
    }
    for override, message in refused.items():
        assert main(["validate", str(scenario), "--set", override]) == 2
        assert capsys.readouterr().err == f"gpusim: {message}\n"
    # In the file, at power_w's line; a busy power that the node cannot hold is refused the same way.
    scenario.write_text(ENERGY_SCENARIO.replace("busy_w: 1000", "busy_w: 1800"))
    assert main(["validate", str(scenario)]) == 2
    assert capsys.readouterr().err == (
        f"gpusim: {scenario}:5: cluster.node_types.dgx-b200.power_w: power_w must be the whole node's "
        "watts at full load, at least gpus_per_node x busy_w = 8 x 1800 = 14400 W (got 14300)\n"
    )
    # With node_w given, power_w is not used.
    assert main(["validate", str(scenario), "--set", "energy.power.B200.node_w=500"]) == 0
