"""Metrics on hand-built records, with every expected number worked out by hand below."""

from __future__ import annotations

import json
import math

import pytest

from sim.metrics import (
    bounded_slowdowns,
    distribution,
    jain_index,
    observation_window,
    summarize,
    utilisation,
    utilisation_by_type,
)
from sim.records import JobRecord, RunRecords, Segment
from sim.report import summary_table

NAN = math.nan


def job(
    job_id: str,
    *,
    tenant: str,
    job_class: str,
    gpu_type: str,
    gpus: int,
    allocated: int,
    submit: float,
    start: float,
    end: float,
    status: str,
    reason: str = "",
) -> JobRecord:
    duration = end - start if not math.isnan(end) else 100.0
    return JobRecord(
        job_id=job_id,
        tenant=tenant,
        job_class=job_class,
        gpu_type=gpu_type,
        gpus=gpus,
        submit_time=submit,
        duration=duration,
        requested_time=NAN,
        priority=0,
        start_time=start,
        end_time=end,
        status=status,
        reason=reason,
        allocated_gpus=allocated,
    )


def six_jobs() -> list[JobRecord]:
    """Cluster: b200 x 8 + h100 x 4 = 12 GPUs. Waits 0, 20, 40, 100, 10 (j4 never starts)."""
    rows = [
        # id, tenant, class, type, gpus, allocated, submit, start, end, status, reason
        ("j1", "t1", "train", "b200", 4, 4, 0, 0, 100, "completed", ""),
        ("j2", "t1", "infer", "b200", 2, 2, 10, 30, 35, "completed", ""),
        ("j3", "t2", "train", "h100", 3, 4, 20, 60, 200, "failed", ""),
        ("j4", "t2", "train", "b200", 16, 0, 30, NAN, NAN, "rejected", "too large"),
        ("j5", "t2", "infer", "h100", 1, 1, 50, 150, NAN, "unfinished", "running at end"),
        ("j6", "t2", "infer", "h100", 1, 1, 40, 50, 54, "completed", ""),
    ]
    fields = (
        "tenant",
        "job_class",
        "gpu_type",
        "gpus",
        "allocated",
        "submit",
        "start",
        "end",
        "status",
        "reason",
    )
    return [job(row[0], **dict(zip(fields, row[1:], strict=True))) for row in rows]


def segments_of(jobs: list[JobRecord], end: float) -> list[Segment]:
    """One run segment per started job, on one node holding its allocated GPUs."""
    return [
        Segment(j.job_id, j.start_time, end if math.isnan(j.end_time) else j.end_time, j.gpu_type,
                j.allocated_gpus, "p/0", "p", j.status, 0.0)
        for j in jobs
        if j.started
    ]  # fmt: skip


def run(jobs: list[JobRecord], horizon: float | None = None) -> RunRecords:
    return RunRecords(
        segments=segments_of(jobs, 200.0 if horizon is None else horizon),
        jobs=jobs,
        timeseries={},
        capacity_gpus=12,
        capacity_by_type={"b200": 8, "h100": 4},
        capacity_by_pod={"p1": 8, "p2": 4},
        end_time=200.0,
        horizon=horizon,
        events=10,
    )


@pytest.fixture
def summary() -> dict:
    return summarize(run(six_jobs()))


def test_utilisation_counts_allocated_gpu_seconds_over_the_window(summary: dict) -> None:
    """U = sum(allocated * run inside window) / (capacity * window); a running job counts to the end."""
    # window [0, 200]; busy = 4*100 + 2*5 + 4*140 + 1*(200-150) + 1*4 = 1024
    assert summary["utilisation"] == pytest.approx(1024 / (12 * 200))
    # b200: 4*100 + 2*5 = 410 over 8 GPUs; h100: 560 + 50 + 4 = 614 over 4 GPUs
    assert summary["utilisation_by_type"] == pytest.approx({"b200": 410 / 1600, "h100": 614 / 800})


def test_utilisation_is_clipped_at_the_horizon() -> None:
    """With a horizon the window ends there and work after it does not count."""
    jobs = six_jobs()[:4] + [
        job(
            "j7",
            tenant="t1",
            job_class="train",
            gpu_type="b200",
            gpus=2,
            allocated=2,
            submit=5,
            start=90,
            end=NAN,
            status="unfinished",
        ),
    ]
    jobs[2] = job(
        "j3",
        tenant="t2",
        job_class="train",
        gpu_type="h100",
        gpus=3,
        allocated=4,
        submit=20,
        start=60,
        end=NAN,
        status="unfinished",
    )
    records = run(jobs, horizon=120.0)
    assert observation_window(records) == (0.0, 120.0)
    # j1 400, j2 10, j3 4*(120-60)=240, j7 2*(120-90)=60 -> 710 of 12*120 = 1440
    assert utilisation(records) == pytest.approx(710 / 1440)
    assert utilisation_by_type(records) == pytest.approx({"b200": 470 / 960, "h100": 240 / 480})


def test_wait_percentiles_use_numpy_linear_interpolation(summary: dict) -> None:
    """Waits of started jobs: mean and linear-interpolated p50/p95/p99 at rank (n-1)*p."""
    # sorted waits [0, 10, 20, 40, 100]: p95 at rank 3.8 -> 40 + 0.8*60; p99 at 3.96 -> 40 + 0.96*60
    assert summary["wait"] == pytest.approx(
        {"mean": 34.0, "p50": 20.0, "p95": 88.0, "p99": 97.6, "max": 100.0}
    )


def test_wait_by_class_splits_started_jobs_by_class(summary: dict) -> None:
    """Each class gets the same statistics over its own started jobs."""
    assert summary["wait_by_class"]["train"] == pytest.approx(
        {"mean": 20.0, "p50": 20.0, "p95": 38.0, "p99": 39.6, "max": 40.0}
    )
    # infer waits [10, 20, 100]: p95 at rank 1.9 -> 20 + 0.9*80
    assert summary["wait_by_class"]["infer"] == pytest.approx(
        {"mean": 130 / 3, "p50": 20.0, "p95": 92.0, "p99": 98.4, "max": 100.0}
    )


def test_jct_is_end_minus_submit_over_completed_and_failed(summary: dict) -> None:
    """JCT over completed and failed jobs only: [100, 25, 180, 14]."""
    assert summary["jct"] == pytest.approx({"mean": 319 / 4, "p50": 62.5, "p95": 168.0})


def test_bounded_slowdown_uses_tau_10s_and_floor_1(summary: dict) -> None:
    """bsld = max(1, (wait + run) / max(run, 10 s)) over completed jobs."""
    # j1: 100/100 = 1; j2: 25/max(5,10) = 2.5; j6: 14/max(4,10) = 1.4
    assert list(bounded_slowdowns(six_jobs())) == pytest.approx([1.0, 2.5, 1.4])
    assert summary["bounded_slowdown"] == pytest.approx({"mean": 4.9 / 3, "p50": 1.4, "p95": 2.39})


def test_fairness_is_jain_over_tenant_mean_slowdowns(summary: dict) -> None:
    """J = (sum x)^2 / (n sum x^2) with x = each tenant's mean bounded slowdown."""
    x1, x2 = (1.0 + 2.5) / 2, 1.4
    assert summary["fairness_jain"] == pytest.approx((x1 + x2) ** 2 / (2 * (x1**2 + x2**2)))
    assert summary["fairness_jain"] == pytest.approx(0.98780488, abs=1e-8)


def test_jain_index_values() -> None:
    """Jain's index is 1 for equal shares and 1 for a single tenant, 0.8 for [1, 3]."""
    assert jain_index([1.0, 3.0]) == pytest.approx(0.8)
    assert jain_index([2.0, 2.0, 2.0]) == 1.0
    assert jain_index([5.0]) == 1.0
    assert jain_index([]) is None


def test_counts_throughput_and_makespan(summary: dict) -> None:
    """Counts by status, completed jobs per window hour, and last end minus first submit."""
    assert summary["capacity_gpus"] == 12
    assert summary["jobs"] == {
        "completed": 3,
        "failed": 1,
        "cancelled": 0,
        "rejected": 1,
        "balked": 0,
        "unfinished": 1,
        "total": 6,
    }
    assert summary["throughput_jobs_per_hour"] == pytest.approx(3 / (200 / 3600))
    assert summary["makespan"] == 200.0
    assert summary["unfinished"] == {"count": 1, "gpus": 1}
    assert summary["rejected"] == {"count": 1, "reasons": {"too large": 1}}


def test_summary_is_plain_json(summary: dict) -> None:
    """summarize returns only plain JSON types; it survives a strict dump and reload unchanged."""
    assert json.loads(json.dumps(summary, allow_nan=False)) == summary


def test_empty_records_give_none_not_errors() -> None:
    """With no jobs every statistic is None (or 0 for counts), and the table still renders."""
    summary = summarize(run([]))
    assert summary["utilisation"] is None
    assert summary["utilisation_by_type"] == {"b200": None, "h100": None}
    assert summary["wait"] == {"mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    assert summary["jct"] == {"mean": None, "p50": None, "p95": None}
    assert summary["fairness_jain"] is None
    assert summary["makespan"] is None
    assert summary["jobs"]["total"] == 0
    assert "wait" in summary_table(summary)


def test_a_class_that_never_started_gets_none() -> None:
    """A class whose jobs were all rejected appears in wait_by_class with None statistics."""
    summary = summarize(run(six_jobs()[:3] + [six_jobs()[3]._replace(job_class="huge")]))
    assert summary["wait_by_class"]["huge"]["p95"] is None


def test_distribution_single_value() -> None:
    """One value: mean, every percentile and the max all equal it."""
    assert distribution([7.0]) == {"mean": 7.0, "p50": 7.0, "p95": 7.0, "p99": 7.0, "max": 7.0}


def test_summary_table_lines(summary: dict) -> None:
    """The table shows utilisation as a percentage and waits humanised."""
    text = summary_table(summary)
    assert "42.7%" in text  # 1024 / 2400
    assert "mean 34s" in text and "p95 1.47m" in text  # 88 s
    assert "6 total, 3 completed, 1 failed, 1 rejected, 1 unfinished" in text
    assert "makespan" in text and "3.33m" in text


def test_summary_table_shows_inference_attainment_per_tier(summary: dict) -> None:
    """With services, one more row: attainment over all requests, then per tier; none without."""
    assert "inference SLO" not in summary_table(summary)
    inference = {
        "attainment": 0.8912,
        "by_tier": {"on-demand": {"attainment": 0.9041}, "reserved": {"attainment": None}},
    }
    text = summary_table({**summary, "inference": inference})
    assert "inference SLO     89.1% of requests (on-demand 90.4%, reserved -)" in text


def test_summary_table_shows_revenue_energy_and_balked_demand() -> None:
    """Revenue with the mean price, energy with its cost and CO2, balked of potential GPU-hours."""
    summary = {
        "revenue": {"total": 155730.07, "mean_price_per_gpu_hour": 4.7837},
        "energy": {"kwh": 72659.1, "eur": 13623.6, "co2_kg": 26375.3},
        "demand": {"balked_gpu_hours": 1234.4, "potential_gpu_hours": 5000.0},
    }
    lines = summary_table(summary).splitlines()
    assert "revenue           EUR 155,730 (4.78 EUR/GPU-h)" in lines
    assert "energy            72,659 kWh, EUR 13,624, 26,375 kg CO2" in lines
    assert "demand            1,234 of 5,000 GPU-h balked" in lines
    empty = summary_table({}).splitlines()
    assert not any(line.startswith(("revenue", "energy", "demand")) for line in empty)
