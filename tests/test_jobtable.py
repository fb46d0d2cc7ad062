"""The job table's ordering (merge and sort by submit time, ties in input order, every column alike)
and its float columns kept as arrays."""

from __future__ import annotations

import math
from array import array
from pathlib import Path

from sim.cluster.state import ClusterLayout
from sim.scenario import load_scenario
from sim.workload.build import build_workload
from sim.workload.jobs import FLOAT_COLUMNS, JobTable

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


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


def as_arrays(jobs: JobTable) -> JobTable:
    """The table with its float columns as ``array("d")``, as a built workload keeps them."""
    return jobs.compact()


def test_compact_keeps_columns_of_floats_as_arrays_and_any_column_with_an_int_as_it_is() -> None:
    jobs = table("j", [3.0, 1.0])
    jobs.duration = [10, 20.0]  # an int given through the API: written as given, so kept as a list
    duration = jobs.duration
    assert jobs.compact() is jobs
    for name in ("submit", "requested", "end_by"):
        assert isinstance(getattr(jobs, name), array), name
    assert jobs.duration is duration and jobs.submit.tolist() == [3.0, 1.0]
    assert jobs.end_by.tolist() == [math.inf, math.inf]


def test_merge_and_sort_of_array_columns_give_arrays_with_the_rows_of_lists() -> None:
    """Float arrays move row for row with the other columns, as lists do, and stay arrays."""
    lists = JobTable.merge([table("a", [5.0, 1.0, 5.0]), table("b", [5.0, 0.0])])
    arrays = JobTable.merge([as_arrays(table("a", [5.0, 1.0, 5.0])), as_arrays(table("b", [5.0, 0.0]))])
    for name in JobTable.__slots__:
        column = getattr(arrays, name)
        assert isinstance(column, array) == (name in FLOAT_COLUMNS), name
        assert list(column) == getattr(lists, name), name
    mixed = JobTable.merge([as_arrays(table("a", [5.0, 1.0, 5.0])), table("b", [5.0, 0.0])])
    assert mixed.submit == lists.submit and mixed.job_id == lists.job_id  # an array and a list: a list
    jobs = as_arrays(table("j", [3.0, 1.0, 3.0, 2.0])).sorted_by_submit()
    assert isinstance(jobs.requested, array) and jobs.requested.tolist() == [40.0, 80.0, 20.0, 60.0]
    assert jobs.job_id == ["j1", "j3", "j0", "j2"]


def test_a_built_workload_keeps_its_float_columns_as_arrays() -> None:
    """Streams, service groups and their merge give arrays; the values are the generator's floats."""
    scenario = load_scenario(SCENARIOS / "sme-inference-surge.yaml", ["horizon=1d"])
    layout = ClusterLayout.from_scenario(scenario.cluster)
    jobs = build_workload(scenario, layout).jobs
    assert len(jobs) > 1000
    for name in FLOAT_COLUMNS:
        assert isinstance(getattr(jobs, name), array), name
    assert list(jobs.submit) == sorted(jobs.submit)
    replicas = [i for i, end in enumerate(jobs.end_by) if end != math.inf]
    assert replicas and all(jobs.duration[i] == jobs.end_by[i] - jobs.submit[i] for i in replicas)
