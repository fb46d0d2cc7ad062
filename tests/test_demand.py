"""Demand response: willingness to pay, balking, deferral, and the measured elasticity."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.cli import main

ELASTICITY = 1.5


def market(scale: float, **demand: Any) -> dict[str, Any]:
    """10,000 jobs over two days on a cluster big enough that none waits; on-demand jobs
    respond to price with elasticity 1.5; flat prices ``scale`` x the reference (6.5)."""
    return {
        "name": "demand",
        "horizon": "2d",
        "cluster": {"pods": [{"name": "p", "nodes": 400, "gpus_per_node": 8, "gpu_type": "B200"}]},
        "workload": {
            "tenants": [{"name": "sme", "count": 50, "tier": "on-demand"}],
            "synthetic": {
                "streams": [
                    {
                        "name": "batch",
                        "rate_per_hour": 210,
                        "gpus": {1: 0.6, 2: 0.3, 4: 0.1},
                        "duration": {"median": 1800, "sigma": 0.5},
                    },
                ]
            },  # fmt: skip
        },
        "pricing": {"name": "flat", "params": {"prices": {"B200": 6.5 * scale}}},
        "demand": {"rules": [{"tier": "on-demand", "elasticity": ELASTICITY}], **demand},
    }


@pytest.fixture(scope="module")
def by_scale() -> dict[float, sim.Result]:
    return {scale: sim.run(market(scale)) for scale in (1.0, 1.25, 1.5, 2.0)}


def test_higher_prices_submit_fewer_gpu_hours(by_scale: dict[float, sim.Result]) -> None:
    """Common random numbers: the same willingness at every price, so submitted GPU-hours
    fall strictly and the jobs that submit at a higher price are a subset of those at a
    lower one."""
    submitted = [by_scale[s].summary["demand"]["submitted_gpu_hours"] for s in sorted(by_scale)]
    assert all(a > b for a, b in zip(submitted, submitted[1:], strict=False))
    kept = [{j.job_id for j in by_scale[s].jobs if j.status != "balked"} for s in sorted(by_scale)]
    assert all(high <= low for low, high in zip(kept, kept[1:], strict=False))
    at_reference = by_scale[1.0].summary["demand"]
    assert at_reference["balked_jobs"] == 0 and at_reference["measured_elasticity"] is None


@pytest.mark.parametrize("scale", [1.25, 1.5, 2.0])
def test_measured_elasticity_is_close_to_the_configured_one(
    by_scale: dict[float, sim.Result], scale: float
) -> None:
    """-ln(S/P)/ln(price ratio) within 5% of 1.5 (seeds 0-3 measured 1.469-1.525); by job
    count the share submitting is within 1.5 points of scale^-1.5."""
    demand = by_scale[scale].summary["demand"]
    assert demand["price_ratio"] == pytest.approx(scale)
    assert demand["measured_elasticity"] == pytest.approx(ELASTICITY, rel=0.05)
    jobs = by_scale[scale].jobs
    share = sum(j.status != "balked" for j in jobs) / len(jobs)
    assert share == pytest.approx(scale**-ELASTICITY, abs=0.015)


def test_balked_jobs_are_rows_with_their_reason(by_scale: dict[float, sim.Result]) -> None:
    balked = [j for j in by_scale[2.0].jobs if j.status == "balked"]
    assert balked and all(math.isnan(j.start_time) and j.cost == 0.0 for j in balked)
    reason = "price 13.00 EUR/GPU-h above its willingness"
    assert all(j.price == 13.0 and j.reason.startswith(reason) for j in balked)
    assert all(j.end_time == j.submit_time for j in balked)


def test_deferrable_jobs_wait_for_off_peak(tmp_path: Path) -> None:
    """time_of_day at 2x the reference in peak (weekdays 08-20), 0.75x off peak: every
    deferrable job arriving in peak that would balk waits until 20:00 local and is then
    submitted; none balks."""
    scenario = market(1.0, max_defer="1d")
    scenario["demand"]["rules"][0]["deferrable"] = 1.0
    scenario["pricing"] = {"name": "time_of_day", "params": {"peak_factor": 2.0, "off_peak_factor": 0.75}}
    result = sim.run(scenario)
    assert result.summary["demand"]["balked_jobs"] == 0
    deferred = [j for j in result.jobs if j.price == 13.0 and j.start_time > j.submit_time]
    assert deferred and result.summary["demand"]["deferred_jobs"] == len(deferred)
    # The run starts Monday 00:00 local (winter: UTC+1 = sim time); peak ends at 20:00 = 72,000 s.
    assert {j.start_time for j in deferred if j.submit_time < 86400} == {72000.0}
    on_time = [j for j in result.jobs if j.price == 4.875]
    assert on_time and all(j.start_time == j.submit_time for j in on_time)


def test_demand_without_rules_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Jobs no rule matches always submit, so a demand section without rules did nothing (and
    reported an empty demand block): it is refused, at the section or at the rules' line."""
    (tmp_path / "t.csv").write_text("job_id,submit_time,gpus,duration\na,0,1,600\n")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: s\nhorizon: 1d\ncluster: {pods: [{name: p, nodes: 1, gpus_per_node: 8, gpu_type: B200}]}\n"
        "workload: {trace: {path: t.csv}}\ndemand:\n  reference_price: {B200: 3}\n"
    )
    rule = (
        "rules must list at least one rule, or every job submits at any price; for no demand response "
        "leave demand out (got [])"
    )
    assert main(["validate", str(scenario)]) == 2
    assert capsys.readouterr().err == f"gpusim: {scenario}:5: demand: {rule}\n"
    assert main(["validate", str(scenario), "--set", "demand.rules=[]"]) == 2
    assert capsys.readouterr().err == f"gpusim: --set: demand.rules: {rule}\n"
    assert main(["validate", str(scenario), "--set", "demand.rules=[{elasticity: 1}]"]) == 0
