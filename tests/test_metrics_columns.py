"""The vectorised metrics: hand-computed values, the column helpers, and bit-for-bit agreement
with plain loops over the records (the formulas in the metric docstrings, added up in order)."""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import pytest

from sim.metrics import (
    busy_gpu_seconds,
    restart_gpu_hours,
    status_counts,
    summarize,
    tenant_mean_slowdowns,
)
from sim.metrics.billing import bill_rows, revenue_summary
from sim.metrics.columns import Columns, first_appearance, sequential_sum, shared
from sim.metrics.usage import utilisation_share_by
from sim.metrics.waits import wait_stats_by
from sim.records import JobRecord, JobRecords, RunRecords, Segment

NAN = math.nan


def record(job_id: str, tenant: str, job_class: str, tier: str, gpu_type: str, gpus: int, submit: float,
           start: float, end: float, status: str, *, cost: float = 0.0, preemptions: int = 0,
           reason: str = "", priority: int = 0) -> JobRecord:  # fmt: skip
    return JobRecord(
        job_id=job_id,
        tenant=tenant,
        job_class=job_class,
        gpu_type=gpu_type,
        gpus=gpus,
        submit_time=submit,
        duration=100.0,
        requested_time=NAN,
        priority=priority,
        start_time=start,
        end_time=end,
        status=status,
        reason=reason,
        preemptions=preemptions,
        cost=cost,
        tier=tier,
    )


def five_jobs() -> RunRecords:
    """b200: pod p, 2 nodes x 4 GPUs; h100: pod q, 1 node x 4. Horizon 400 s.

    a (t1, train, spot, b200) runs on both p nodes over [0, 100], is preempted, restarts over
    [150, 300] with 20 s of restart overhead; b (t2, infer, on-demand) holds 2 GPUs over
    [50, 150]; d (t1, infer, spot) waits 80 s and holds 1 GPU over [200, 400]; c and e are
    rejected (c without a reason).
    """
    jobs = [
        record("a", "t1", "train", "spot", "b200", 8, 0, 0, 300, "completed", cost=10.0, preemptions=1),
        record("b", "t2", "infer", "on-demand", "h100", 2, 50, 50, 150, "completed", cost=4.0),
        record("c", "t2", "train", "on-demand", "h100", 4, 100, NAN, NAN, "rejected"),
        record("d", "t1", "infer", "spot", "h100", 1, 120, 200, NAN, "unfinished"),
        record("e", "t3", "train", "on-demand", "b200", 2, 10, NAN, NAN, "rejected", reason="too large"),
    ]
    segments = [
        Segment("a", 0.0, 100.0, "b200", 4, "p/0;p/1", "p", "preempted", 0.0),
        Segment("b", 50.0, 150.0, "h100", 2, "q/0", "q", "completed", 0.0),
        Segment("a", 150.0, 300.0, "b200", 4, "p/0;p/1", "p", "completed", 20.0),
        Segment("d", 200.0, 400.0, "h100", 1, "q/0", "q", "horizon", 0.0),
    ]
    return RunRecords(jobs, {}, 12, {"b200": 8, "h100": 4}, {"p": 8, "q": 4}, 400.0, 400.0, 0, segments)


def test_summary_of_five_jobs_by_hand() -> None:
    """Busy GPU-seconds: a 8 x 100 + 8 x 150 = 2000, b 2 x 100 = 200, d 1 x 200 = 200, of 12 x 400."""
    summary = summarize(five_jobs())
    assert summary["utilisation"] == pytest.approx(2400 / 4800)
    assert summary["utilisation_by_type"] == pytest.approx({"b200": 2000 / 3200, "h100": 400 / 1600})
    assert summary["utilisation_by_class"] == pytest.approx({"infer": 400 / 4800, "train": 2000 / 4800})
    assert summary["utilisation_by_tier"] == pytest.approx({"on-demand": 200 / 4800, "spot": 2200 / 4800})
    # Waits: a 0, b 0, d 80; c and e never started.
    waits = {"mean": 80 / 3, "p50": 0.0, "p95": 72.0, "p99": 78.4, "max": 80.0}
    assert summary["wait"] == pytest.approx(waits)
    assert summary["wait_by_tier"]["on-demand"] == dict.fromkeys(waits, 0.0)
    assert summary["wait_by_tier"]["spot"] == pytest.approx(
        {"mean": 40.0, "p50": 40.0, "p95": 76.0, "p99": 79.2, "max": 80.0}
    )
    assert summary["wait_by_gpu_type"]["b200"]["max"] == 0.0
    assert summary["wait_by_gpu_type"]["h100"]["mean"] == 40.0
    assert summary["wait_by_class"]["train"]["mean"] == 0.0  # a only: c and e never started
    assert summary["jct"] == pytest.approx({"mean": 200.0, "p50": 200.0, "p95": 290.0})
    assert summary["fairness_jain"] == 1.0  # t1 and t2 each have bsld 1; t3 completed nothing
    assert summary["makespan"] == 300.0
    assert summary["jobs"] == {
        "completed": 2, "failed": 0, "cancelled": 0, "rejected": 2, "balked": 0, "unfinished": 1, "total": 5,
    }  # fmt: skip
    assert summary["unfinished"] == {"count": 1, "gpus": 1}
    assert summary["rejected"] == {"count": 2, "reasons": {"too large": 1, "unspecified": 1}}
    assert summary["preemptions"] == {"count": 1, "jobs": 1}
    assert summary["restart_gpu_hours"] == pytest.approx(8 * 20 / 3600)
    revenue = summary["revenue"]
    assert revenue["charges"] == 14.0 and revenue["total"] == 14.0
    assert revenue["by_tier"] == {"on-demand": 4.0, "spot": 10.0}
    assert revenue["by_class"] == {"infer": 4.0, "train": 10.0}
    assert revenue["gpu_hours"] == pytest.approx(2400 / 3600)
    assert revenue["mean_price_per_gpu_hour"] == pytest.approx(21.0)


def as_columns(records: RunRecords) -> RunRecords:
    """The same records with the jobs stored as columns (``JobRecords``, as the engine makes them)."""
    columns = [list(column) for column in zip(*records.jobs, strict=True)]
    return dataclasses.replace(records, jobs=JobRecords(columns))


def test_jobs_stored_as_columns_give_the_same_numbers() -> None:
    records = five_jobs()
    assert summarize(as_columns(records)) == summarize(records)
    assert bill_rows(as_columns(records), {}, {}) == bill_rows(records, {}, {})


def test_bills_of_five_jobs_by_hand() -> None:
    """t1: a and d ran, (2000 + 200) / 3600 GPU-h, 10 EUR; t2: b ran (c did not); t3: nothing ran."""
    rows = {row[0]: row[1:7] for row in bill_rows(five_jobs(), {}, {})}
    assert rows["t1"] == ("spot", 2, pytest.approx(2200 / 3600), 10.0, 0.0, 10.0)
    assert rows["t2"] == ("on-demand", 1, pytest.approx(200 / 3600), 4.0, 0.0, 4.0)
    assert rows["t3"] == ("on-demand", 0, 0.0, 0.0, 0.0, 0.0)


def test_groups_by_a_non_string_field_sort_by_its_text() -> None:
    """wait_stats_by groups by str(value), sorted as text: "10" before "2"."""
    jobs = [
        record("x", "t", "c", "spot", "g", 1, 0, 5, 10, "completed", priority=2),
        record("y", "t", "c", "spot", "g", 1, 0, 7, 10, "completed", priority=10),
    ]
    assert list(wait_stats_by(jobs, "priority")) == ["10", "2"]
    assert wait_stats_by(jobs, "priority")["10"]["mean"] == 7.0


def test_status_counts_keep_unknown_statuses_in_order_of_appearance() -> None:
    jobs = [
        record("x", "t", "c", "spot", "g", 1, 0, 0, 1, "zeta"),
        record("y", "t", "c", "spot", "g", 1, 0, 0, 1, "alpha"),
        record("z", "t", "c", "spot", "g", 1, 0, 0, 1, "zeta"),
    ]
    counts = status_counts(jobs)
    assert list(counts)[-3:] == ["zeta", "alpha", "total"] and counts["zeta"] == 2


def test_segments_find_their_job_by_identity_or_by_value() -> None:
    """A segment whose job_id is an equal but distinct string still finds its job; one whose
    job has no record gets an index past the jobs, one per distinct id."""
    jobs = [record(name, "t", "c", "spot", "g", 1, 0, 0, 1, "completed") for name in ("j0", "j1")]
    distinct = "".join(["j", "1"])
    assert distinct is not jobs[1].job_id
    segments = [
        Segment(jobs[0].job_id, 0.0, 1.0, "g", 1, "p/0", "p", "completed", 0.0),
        Segment(distinct, 0.0, 1.0, "g", 1, "p/0", "p", "completed", 0.0),
        Segment("ghost", 0.0, 1.0, "g", 1, "p/0", "p", "completed", 0.0),
        Segment("j0", 0.0, 1.0, "g", 1, "p/0", "p", "completed", 0.0),
        Segment("ghost", 0.0, 1.0, "g", 1, "p/0", "p", "completed", 0.0),
    ]
    assert Columns(jobs, segments).seg_job().tolist() == [0, 1, 2, 0, 2]


def test_shared_columns_live_only_inside_the_block() -> None:
    records = five_jobs()
    with shared(records) as columns:
        assert Columns.of_records(records) is columns
        assert Columns.of_jobs(records.jobs) is columns
        assert Columns.of_segments(records.segments) is columns
        assert Columns.of_jobs(list(records.jobs)) is not columns
    assert Columns.of_records(records) is not columns


def test_helpers() -> None:
    assert first_appearance(np.array([3, 1, 3, 0, 1])).tolist() == [3, 1, 0]
    rng = np.random.default_rng(1)
    values = rng.normal(size=1000) * 10.0 ** rng.integers(-5, 12, 1000)
    total = 0.0
    for value in values.tolist():
        total += value
    assert sequential_sum(values) == total
    assert sequential_sum(np.zeros(0)) == 0


def random_records(seed: int) -> RunRecords:
    """Jobs with random fields; each started job has one to three segments, some multi-node."""
    rng = random.Random(seed)
    jobs, segments = [], []
    for i in range(300):
        submit = rng.uniform(0, 1000)
        started = rng.random() < 0.8
        start = submit + rng.expovariate(0.01) if started else NAN
        end = start + rng.uniform(1, 500) if started and rng.random() < 0.9 else NAN
        status = rng.choice(["completed", "failed"]) if not math.isnan(end) else "unfinished"
        job = record(f"j{i}", f"t{rng.randrange(7)}", rng.choice("xyz"), rng.choice(["spot", "on-demand"]),
                     rng.choice(["g1", "g2"]), rng.choice([1, 2, 8, 16]), submit, start, end,
                     status if started else "rejected", cost=rng.uniform(0, 50))  # fmt: skip
        jobs.append(job)
        at = start
        for _ in range(rng.randint(1, 3) if started else 0):
            stop = at + rng.uniform(0.1, 300)
            nodes = ";".join(f"p/{k}" for k in range(rng.randint(1, 3)))
            segments.append(Segment(job.job_id, at, stop, job.gpu_type, rng.choice([1, 4, 8]), nodes, "p",
                                    "completed", rng.choice([0.0, rng.uniform(0, 100)])))  # fmt: skip
            at = stop + rng.uniform(0, 50)
    rng.shuffle(segments)
    return RunRecords(jobs, {}, 64, {"g1": 32, "g2": 32}, {"p": 64}, 2000.0, None, 0, segments)


@pytest.mark.parametrize(("seed", "columns"), [(1, False), (2, False), (3, True)])
def test_the_vectorised_metrics_equal_plain_loops_bit_for_bit(seed: int, columns: bool) -> None:
    """Each metric against its formula as a loop over the records, summing in the same order."""
    records = as_columns(random_records(seed)) if columns else random_records(seed)
    jobs, segments = records.jobs, records.segments
    held = [s.gpus * (s.end_time - s.start_time) / 3600.0 for s in segments]
    hours: dict[str, float] = {}
    for segment, value in zip(segments, held, strict=True):
        hours[segment.job_id] = hours.get(segment.job_id, 0.0) + value
    total = 0.0
    for value in hours.values():
        total += value
    revenue = revenue_summary(records, {})
    assert revenue["gpu_hours"] == total
    by_tier: dict[str, float] = {}
    for job in jobs:
        by_tier[job.tier] = by_tier.get(job.tier, 0.0) + job.cost
    assert revenue["by_tier"] == dict(sorted(by_tier.items()))
    lost = 0.0
    for s in segments:
        lost += s.gpus * min(s.restart_overhead, s.end_time - s.start_time)
    assert restart_gpu_hours(segments) == lost / 3600.0
    tenant_of = {job.job_id: job.tenant for job in jobs}
    shares = utilisation_share_by(records, "tenant")
    start = min(job.submit_time for job in jobs)
    end = max(job.end_time for job in jobs if not math.isnan(job.end_time))
    for tenant, share in shares.items():
        mine = [s for s in segments if tenant_of[s.job_id] == tenant]
        assert share == busy_gpu_seconds(list(mine), start, end) / (64 * (end - start))
    for tenant, mean in tenant_mean_slowdowns(jobs).items():
        done = [j for j in jobs if j.tenant == tenant and j.status == "completed"]
        bsld = [max(1.0, (j.end_time - j.submit_time) / max(j.end_time - j.start_time, 10.0)) for j in done]
        assert mean == float(np.mean(bsld))
