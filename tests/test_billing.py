"""Billing: per-second charges of real runs, SLA credits, tenant bills and revenue, by hand.

List prices (EUR per GPU-hour): B200 6.5, other types 2.0; ``tiered`` takes 40% off reserved
and 65% off spot, so B200 costs 3.9 reserved and 2.275 spot.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from helpers import write_trace
from test_engine_workload import end_by_scenario

import sim
from sim.metrics.billing import BILL_COLUMNS, bill_rows, revenue_summary, sla_credits
from sim.metrics.slo import GroupResult, evaluate
from sim.records import JobRecord, RunRecords, Segment
from sim.scenario.market import Billing

HEADER = ("job_id", "submit_time", "gpus", "duration", "tenant", "job_class", "gpu_type", "tier")


@pytest.fixture(scope="module")
def tiered_run(tmp_path_factory: pytest.TempPathFactory) -> sim.Result:
    """One pod of 2 x 8 B200 GPUs, fifo, tiered prices.

    0: j1 (12 GPUs, spot, 1800 s) takes both nodes (16 GPUs); j2 (1 GPU, reserved, 90 s) waits.
    1800: j1 ends; j2 and j3 (2 GPUs, on-demand, 3600 s, submitted now) start.
    """
    rows = [
        ("j1", 0, 12, 1800, "acme", "training", "B200", "spot"),
        ("j2", 0, 1, 90, "lab", "training", "B200", "reserved"),
        ("j3", 1800, 2, 3600, "acme", "batch", "B200", "on-demand"),
    ]
    trace = write_trace(tmp_path_factory.mktemp("billing") / "trace.csv", rows, HEADER)
    return sim.run(
        {
            "name": "billing",
            "cluster": {"pods": [{"name": "b200", "nodes": 2, "gpus_per_node": 8, "gpu_type": "B200"}]},
            "workload": {"trace": {"path": str(trace)}},
            "scheduler": "fifo",
            "pricing": "tiered",
        }
    )


def test_jobs_pay_per_second_for_the_gpus_they_held(tiered_run: sim.Result) -> None:
    """j1 holds 16 GPUs for 0.5 h at 2.275: 18.2; j2 90 s at 3.9: 0.0975; j3 2 x 1 h x 6.5: 13."""
    cost = {job.job_id: job.cost for job in tiered_run.jobs}
    assert cost == pytest.approx({"j1": 18.2, "j2": 0.0975, "j3": 13.0}, rel=1e-12)


def test_revenue_of_the_run(tiered_run: sim.Result) -> None:
    """Charges 31.2975 EUR for 8 + 0.025 + 2 = 10.025 GPU-hours: 3.1219... EUR per GPU-hour."""
    revenue = revenue_summary(tiered_run.records, {})
    assert revenue["charges"] == pytest.approx(31.2975, rel=1e-12)
    assert revenue["total"] == pytest.approx(31.2975, rel=1e-12)
    assert revenue["sla_credits"] == 0
    assert revenue["gpu_hours"] == pytest.approx(10.025, rel=1e-12)
    assert revenue["mean_price_per_gpu_hour"] == pytest.approx(31.2975 / 10.025, rel=1e-12)
    assert revenue["by_tier"] == pytest.approx({"on-demand": 13.0, "reserved": 0.0975, "spot": 18.2})
    assert revenue["by_class"] == pytest.approx({"batch": 13.0, "training": 18.2975})


def test_bills_of_the_run(tiered_run: sim.Result) -> None:
    """acme: 2 jobs, 8 + 2 GPU-hours, 31.2 EUR and the energy given; lab: 1 job, 0.025 h, 0.0975."""
    rows = bill_rows(tiered_run.records, {}, {"acme": (1.0, 0.5, 0.25)})
    assert [dict(zip(BILL_COLUMNS, row, strict=True)) for row in rows] == [
        {
            "tenant": "acme",
            "tier": "on-demand;spot",
            "jobs": 2,
            "gpu_hours": pytest.approx(10.0, rel=1e-12),
            "charges_eur": pytest.approx(31.2, rel=1e-12),
            "sla_credit_eur": 0.0,
            "total_eur": pytest.approx(31.2, rel=1e-12),
            "kwh": 1.0,
            "energy_eur": 0.5,
            "co2_kg": 0.25,
        },
        {
            "tenant": "lab",
            "tier": "reserved",
            "jobs": 1,
            "gpu_hours": pytest.approx(0.025, rel=1e-12),
            "charges_eur": pytest.approx(0.0975, rel=1e-12),
            "sla_credit_eur": 0.0,
            "total_eur": pytest.approx(0.0975, rel=1e-12),
            "kwh": 0.0,
            "energy_eur": 0.0,
            "co2_kg": 0.0,
        },
    ]


# --- SLA credits on hand-built records --------------------------------------------------


def record(job_id: str, tenant: str, tier: str, job_class: str, cost: float) -> JobRecord:
    return JobRecord(
        job_id, tenant, job_class, "B200", 1, 0.0, 3600.0, 3600.0, 0, 0.0, 3600.0, "completed",
        cost=cost, tier=tier, allocated_gpus=1,
    )  # fmt: skip


def services() -> tuple[RunRecords, list[GroupResult]]:
    """Four chat services (target 0.95) and one training job; costs in EUR.

    chat-01 acme on-demand: r0 10 + r1 30 = 40, attainment 0.93 (2 points short)
    chat-02 lab spot: 20, attainment 0.80 (15 points short)
    chat-03 acme on-demand: 5, attainment 0.99 (met)
    chat-04 lab spot: 8, attainment 0.89 (6 points short)
    chat-05 acme on-demand: 0, no requests (attainment NaN)
    t1 acme reserved training: 100
    """
    jobs = [
        record("chat-01-r0", "acme", "on-demand", "inference", 10.0),
        record("chat-01-r1", "acme", "on-demand", "inference", 30.0),
        record("chat-02-r0", "lab", "spot", "inference", 20.0),
        record("chat-03-r0", "acme", "on-demand", "inference", 5.0),
        record("chat-04-r0", "lab", "spot", "inference", 8.0),
        record("t1", "acme", "reserved", "training", 100.0),
    ]
    records = RunRecords(jobs, {}, 8, {"B200": 8}, {"p": 8}, 3600.0, None, 0)
    plan: Any = SimpleNamespace(
        spec=SimpleNamespace(slo=SimpleNamespace(target=0.95)),
        names=["chat-01", "chat-02", "chat-03", "chat-04", "chat-05"],
        tenant=["acme", "lab", "acme", "lab", "acme"],
        replica_counts=np.array([2, 1, 1, 1, 0]),
    )
    totals: Any = SimpleNamespace(attainment=np.array([0.93, 0.80, 0.99, 0.89, math.nan]))
    return records, [GroupResult(plan, totals)]


def test_sla_credits_take_the_largest_share_whose_threshold_is_exceeded() -> None:
    """Default tiers: any miss 10%, > 5 points 25%, > 10 points 50%: credits 4, 10, 0, 2, 0."""
    records, results = services()
    credits = sla_credits(records, results, Billing())
    assert list(credits) == ["chat-01", "chat-02", "chat-03", "chat-04", "chat-05"]
    assert credits["chat-01"] == ("acme", 40.0, 0.93, 0.95, pytest.approx(4.0, rel=1e-12))
    assert credits["chat-02"] == ("lab", 20.0, 0.80, 0.95, pytest.approx(10.0, rel=1e-12))
    assert credits["chat-03"] == ("acme", 5.0, 0.99, 0.95, 0.0)
    assert credits["chat-04"] == ("lab", 8.0, 0.89, 0.95, pytest.approx(2.0, rel=1e-12))
    tenant, charges, attainment, target, credit = credits["chat-05"]
    assert (tenant, charges, target, credit) == ("acme", 0.0, 0.95, 0.0) and math.isnan(attainment)


def test_sla_credits_follow_the_scenario_tiers() -> None:
    """One tier [0, 0.2]: every service short of its target gets 20% back: 8, 4, 0, 1.6."""
    records, results = services()
    credits = sla_credits(records, results, Billing(sla_credits=[(0.0, 0.2)]))
    assert [entry[4] for entry in credits.values()] == pytest.approx([8.0, 4.0, 0.0, 1.6, 0.0], rel=1e-12)


def test_revenue_attributes_credits_to_the_tiers_and_classes_of_the_replicas() -> None:
    """Charges 173, credits 16: total 157; on-demand 45 - 4, spot 28 - 12, reserved 100."""
    records, results = services()
    revenue = revenue_summary(records, sla_credits(records, results, Billing()))
    assert revenue["charges"] == 173.0
    assert revenue["sla_credits"] == pytest.approx(16.0, rel=1e-12)
    assert revenue["total"] == pytest.approx(157.0, rel=1e-12)
    assert revenue["by_tier"] == pytest.approx({"on-demand": 41.0, "reserved": 100.0, "spot": 16.0})
    assert revenue["by_class"] == pytest.approx({"inference": 57.0, "training": 100.0})
    assert revenue["gpu_hours"] == 0 and revenue["mean_price_per_gpu_hour"] is None


def test_bills_subtract_each_tenants_credits() -> None:
    """acme: 145 - 4 = 141 (its chat-01 credit); lab: 28 - 12 = 16."""
    records, results = services()
    rows = bill_rows(records, sla_credits(records, results, Billing()), {})
    totals = {row[0]: (row[1], row[4], row[5], row[6]) for row in rows}
    assert totals == {
        "acme": ("on-demand;reserved", 145.0, pytest.approx(4.0), pytest.approx(141.0)),
        "lab": ("spot", 28.0, pytest.approx(12.0), pytest.approx(16.0)),
    }


def test_gpu_hours_count_every_segment_of_a_preempted_job() -> None:
    """A job run as 2 GPUs for 1800 s then 8 GPUs (one node) for 900 s held 1 + 2 = 3 GPU-hours."""
    segments = [
        Segment("a", 0.0, 1800.0, "B200", 2, "p/0", "p", "preempted", 0.0),
        Segment("a", 2000.0, 2900.0, "B200", 8, "p/1", "p", "completed", 60.0),
    ]
    jobs = [record("a", "acme", "spot", "training", 12.0)]
    records = RunRecords(jobs, {}, 16, {"B200": 16}, {"p": 16}, 2900.0, None, 0, segments)
    assert revenue_summary(records, {})["gpu_hours"] == pytest.approx(3.0, rel=1e-12)
    assert revenue_summary(records, {})["mean_price_per_gpu_hour"] == pytest.approx(4.0, rel=1e-12)
    assert bill_rows(records, {}, {})[0][2:4] == (1, pytest.approx(3.0, rel=1e-12))


# --- an inference run -------------------------------------------------------------------


def test_credit_of_a_simulated_service(tmp_path: Path) -> None:
    """The end-by run of test_engine_workload: 1 service, replicas r0, r1 for 7200 s and r2 for
    2900 s of 1 GPU of an unlisted type (2.0 EUR/h): 17300 / 3600 x 2 = 9.6111 EUR. It serves
    under 80% of its requests (55/252 unserved) against a 0.95 target: 50% back.
    """
    trace = write_trace(tmp_path / "trace.csv", [("blocker", 0, 1, 1000)])
    result = sim.run(end_by_scenario(trace))
    credits = sla_credits(result.records, evaluate(result.records), Billing())
    tenant, charges, attainment, target, credit = credits["web-00"]
    assert tenant.startswith("sme-") and target == 0.95 and attainment < 0.8
    assert charges == pytest.approx(17300 / 3600 * 2, rel=1e-12)
    assert credit == pytest.approx(17300 / 3600, rel=1e-12)
    revenue = revenue_summary(result.records, credits)
    # The blocker (1 GPU, 1000 s) is not credited: 1000 / 3600 x 2.
    assert revenue["total"] == pytest.approx((17300 / 3600) + 2000 / 3600, rel=1e-12)
    assert revenue["by_class"]["inference"] == pytest.approx(17300 / 3600, rel=1e-12)
