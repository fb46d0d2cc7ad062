"""The job table's ordering: merge and sort by submit time, ties in input order, every column alike."""

from __future__ import annotations

from sim.workload.jobs import JobTable


def table(prefix: str, submits: list[float]) -> JobTable:
    n = len(submits)
    return JobTable(
        job_id=[f"{prefix}{k}" for k in range(n)],
        submit=list(submits),
        gpus=[k + 1 for k in range(n)],
        duration=[10.0 * (k + 1) for k in range(n)],
        requested=[20.0 * (k + 1) for k in range(n)],
        gpu_type=["g"] * n,
        tenant=[f"{prefix}-tenant" for _ in range(n)],
        job_class=["c"] * n,
        priority=[0] * n,
    )


def test_merge_orders_by_submit_ties_by_table_then_row_and_empties_the_inputs() -> None:
    first, second = table("a", [5.0, 1.0, 5.0]), table("b", [5.0, 0.0])
    merged = JobTable.merge([first, second])
    assert merged.job_id == ["b1", "a1", "a0", "a2", "b0"]
    assert merged.submit == [0.0, 1.0, 5.0, 5.0, 5.0]
    assert merged.gpus == [2, 2, 1, 3, 1]  # each column moved with its row
    assert merged.duration == [20.0, 20.0, 10.0, 30.0, 10.0]
    assert merged.tenant == ["b-tenant", "a-tenant", "a-tenant", "a-tenant", "b-tenant"]
    assert merged.outcome == ["completed"] * 5 and len(merged.end_by) == 5
    assert len(first) == 0 and len(second) == 0 and first.submit == [] and second.gpus == []


def test_sorted_by_submit_sorts_in_place_stably_and_keeps_the_objects() -> None:
    jobs = table("j", [3.0, 1.0, 3.0, 2.0])
    ids = list(jobs.job_id)
    assert jobs.sorted_by_submit() is jobs
    assert jobs.job_id == ["j1", "j3", "j0", "j2"]
    assert jobs.requested == [40.0, 80.0, 20.0, 60.0]
    assert jobs.job_id[0] is ids[1]  # the same strings, not copies
    already = table("k", [0.0, 0.0, 1.0])
    columns = [getattr(already, name) for name in JobTable.__slots__]
    assert already.sorted_by_submit() is already
    assert all(getattr(already, n) is c for n, c in zip(JobTable.__slots__, columns, strict=True))
