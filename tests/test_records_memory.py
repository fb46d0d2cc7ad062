"""A run's records keep float columns as 8-byte arrays, and read exactly as lists of floats did."""

from __future__ import annotations

import math
from array import array
from pathlib import Path

import numpy as np
from helpers import TRACE_HEADER, flat_pool, write_trace

import sim
from sim.cluster.state import ClusterLayout, PodInfo
from sim.engine.core import Engine
from sim.metrics import group_by, wait_times, wait_times_by
from sim.metrics.columns import Columns
from sim.policies import PLACEMENTS, SCHEDULERS
from sim.report.writer import jobs_csv
from sim.workload.jobs import JobTable

# Three 2-GPU jobs on 2 GPUs, horizon 250: a completes at 100, b runs 100-300 (running at the
# horizon), c (class other) never starts.
ROWS = [("a", 0, 2, 100), ("b", 10, 2, 200), ("c", 20, 2, 50)]


def small_run(tmp_path: Path) -> sim.api.Result:
    trace = write_trace(tmp_path / "trace.csv", ROWS, TRACE_HEADER)
    scenario = {
        "name": "t",
        "cluster": {"pods": flat_pool(2)},
        "workload": {"trace": {"path": str(trace)}},
        "scheduler": "fifo",
        "horizon": 250,
    }
    return sim.run(scenario)


def test_float_columns_are_arrays_and_their_nans_read_as_the_one_math_nan(tmp_path: Path) -> None:
    first, second = small_run(tmp_path), small_run(tmp_path)
    jobs, segments = first.records.jobs, first.records.segments
    for name in ("submit_time", "duration", "start_time", "end_time", "cost", "price"):
        assert isinstance(jobs.column(name), array), name
    assert isinstance(segments.column("start_time"), array) and isinstance(segments.column("end_time"), array)
    assert isinstance(jobs.column("gpus"), list) and isinstance(jobs.column("status"), list)
    a, b, c = jobs
    assert (a.start_time, a.end_time, b.start_time) == (0.0, 100.0, 100.0)
    assert b.end_time is math.nan and c.start_time is math.nan and c.end_time is math.nan
    assert jobs[1:][1].start_time is math.nan  # slices too
    # Records with NaN compare equal run to run, as lists of records do; a changed value does not.
    assert first.jobs == second.jobs and first.jobs == list(second.jobs)
    assert first.jobs != [*list(second.jobs)[:2], c._replace(duration=51.0)]
    # Metrics read the stored array itself, read-only.
    view = Columns.of_jobs(jobs).job("end_time")
    assert np.shares_memory(view, np.frombuffer(jobs.column("end_time"))) and not view.flags.writeable


def test_a_table_with_integer_times_keeps_them_as_written() -> None:
    """Only columns of floats become arrays: integer times from the API stay integers in jobs.csv."""
    jobs = JobTable(
        job_id=["x", "y"], submit=[0, 5], gpus=[1, 1], duration=[10, 20], requested=[10, 20],
        gpu_type=["g", "g"], tenant=["t", "t"], job_class=["c", "c"], priority=[0, 0],
    )  # fmt: skip
    layout = ClusterLayout([PodInfo(0, "pool", "g", 1, 0, 1)])
    records = Engine(layout, jobs, SCHEDULERS.create("fifo"), PLACEMENTS.create("pack")).run()
    assert isinstance(records.jobs.column("submit_time"), list)
    rows = jobs_csv(records.jobs).splitlines()
    # submit, start, end, wait, ..., duration, requested: as lists of ints and floats gave them.
    assert rows[1].split(",")[6:10] + rows[1].split(",")[15:17] == ["0", "0", "10.0", "0", "10", "10"]
    assert rows[2].split(",")[6:10] + rows[2].split(",")[15:17] == ["5", "10.0", "30.0", "5.0", "20", "20"]


def test_wait_times_by_equals_grouping_the_records(tmp_path: Path) -> None:
    rows = [(f"j{k}", 7 * k, 1 + k % 2, 30 + k, "", "", f"class{k % 3}") for k in range(40)]
    header = (*TRACE_HEADER[:4], "requested_time", "tenant", "job_class")
    trace = write_trace(tmp_path / "trace.csv", rows, header)
    scenario = {"name": "t", "cluster": {"pods": flat_pool(3)}, "workload": {"trace": {"path": str(trace)}}}
    jobs = sim.run(scenario).jobs
    by_class = wait_times_by(jobs, "job_class")
    grouped = group_by(list(jobs), "job_class")
    assert list(by_class) == list(grouped) == ["class0", "class1", "class2"]
    for name, waits in by_class.items():
        assert np.array_equal(waits, wait_times(grouped[name])), name
    assert sum(waits.size for waits in by_class.values()) == 40 and max(map(np.max, by_class.values())) > 0
