"""Per-job delay metrics: waits, job completion times, bounded slowdown and Jain's fairness.

Every function is pure: it reads a list of ``JobRecord`` and returns numbers. Per-job values
come back as numpy arrays in the order of the input list; ``distribution`` turns an array into
the summary statistics that ``summary.json`` shows.

Percentiles use numpy's default (``method="linear"``): for n sorted values x_0..x_{n-1}, the
p-th percentile is read at position h = (n - 1) * p / 100, interpolating linearly between
x_floor(h) and x_ceil(h). An empty set of values gives None for every statistic, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from sim.metrics.columns import Columns, split
from sim.records import JobRecord

BSLD_TAU = 10.0
"""Seconds: the bounded-slowdown threshold tau, so very short jobs do not dominate the mean."""

Stats = dict[str, float | None]


def _as_array(values: Iterable[float] | np.ndarray) -> np.ndarray:
    return np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=float)


def distribution(
    values: Iterable[float] | np.ndarray,
    *,
    percentiles: Sequence[int] = (50, 95, 99),
    maximum: bool = True,
) -> Stats:
    """``{"mean", "p<q>" for q in percentiles, "max"}`` of ``values``.

    mean = sum(x) / n; p<q> = numpy's default linear percentile (see the module docstring);
    max = max(x). Every value is None when ``values`` is empty.
    """
    data = _as_array(values)
    keys = ["mean", *(f"p{q}" for q in percentiles), *(["max"] if maximum else [])]
    if data.size == 0:
        return dict.fromkeys(keys)
    stats: Stats = {"mean": float(np.mean(data))}
    points = np.percentile(data, list(percentiles))
    for q, value in zip(percentiles, points, strict=True):
        stats[f"p{q}"] = float(value)
    if maximum:
        stats["max"] = float(np.max(data))
    return stats


def started_jobs(jobs: Sequence[JobRecord]) -> list[JobRecord]:
    """The jobs that started (start_time is not NaN), whatever their final status."""
    return [job for job in jobs if job.started]


def _waits(columns: Columns) -> np.ndarray:
    """start_time - submit_time of every job (NaN for those that never started)."""
    return columns.job("start_time") - columns.job("submit_time")


def wait_times(jobs: Sequence[JobRecord]) -> np.ndarray:
    """wait = start_time - submit_time, in seconds, for every job that started (input order)."""
    if not jobs:
        return np.empty(0, dtype=float)
    columns = Columns.of_jobs(jobs)
    return _waits(columns)[columns.started()]


def wait_stats(jobs: Sequence[JobRecord]) -> Stats:
    """{mean, p50, p95, p99, max} of ``wait_times(jobs)``, seconds; None each when none started."""
    return distribution(wait_times(jobs))


def group_by(jobs: Sequence[JobRecord], key: str) -> dict[str, list[JobRecord]]:
    """Jobs grouped by the value of attribute ``key`` (e.g. job_class, tenant), keys sorted."""
    groups: dict[str, list[JobRecord]] = {}
    for job in jobs:
        groups.setdefault(str(getattr(job, key)), []).append(job)
    return {name: groups[name] for name in sorted(groups)}


def wait_times_by(jobs: Sequence[JobRecord], key: str) -> dict[str, np.ndarray]:
    """``wait_times`` per value of attribute ``key`` (job_class, tier, gpu_type), sorted by value,
    each in input order; a group none of whose jobs started gets an empty array. From the
    columns: no record is made (``group_by`` would make one per job)."""
    if not jobs:
        return {}
    columns = Columns.of_jobs(jobs)
    codes, labels = columns.job_codes(key)
    started = columns.started()
    waits = _waits(columns)[started]
    groups = split(codes[started], len(labels))
    return {label: waits[group] for label, group in zip(labels, groups, strict=True)}


def wait_stats_by(jobs: Sequence[JobRecord], key: str) -> dict[str, Stats]:
    """``wait_stats`` per value of attribute ``key`` (job_class, tier, gpu_type), sorted by value.

    A group none of whose jobs started gets None for every statistic.
    """
    return {label: distribution(waits) for label, waits in wait_times_by(jobs, key).items()}


def wait_stats_by_class(jobs: Sequence[JobRecord]) -> dict[str, Stats]:
    """``wait_stats`` per job_class (see ``wait_stats_by``)."""
    return wait_stats_by(jobs, "job_class")


def completion_times(jobs: Sequence[JobRecord]) -> np.ndarray:
    """JCT = end_time - submit_time, seconds, for every completed or failed job (input order)."""
    if not jobs:
        return np.empty(0, dtype=float)
    columns = Columns.of_jobs(jobs)
    ended = columns.status_is("completed", "failed")
    return columns.job("end_time")[ended] - columns.job("submit_time")[ended]


def jct_stats(jobs: Sequence[JobRecord]) -> Stats:
    """{mean, p50, p95} of ``completion_times(jobs)``, seconds; None each when there are none."""
    return distribution(completion_times(jobs), percentiles=(50, 95), maximum=False)


def _slowdowns(columns: Columns, done: np.ndarray, tau: float) -> np.ndarray:
    submit, start, end = (columns.job(field)[done] for field in ("submit_time", "start_time", "end_time"))
    run = end - start
    return np.maximum(1.0, (end - submit) / np.maximum(run, tau))


def bounded_slowdowns(jobs: Sequence[JobRecord], tau: float = BSLD_TAU) -> np.ndarray:
    """Bounded slowdown of every completed job (input order).

    run = end_time - start_time, wait = start_time - submit_time,
    bsld = max(1, (wait + run) / max(run, tau)).
    """
    if not jobs:
        return np.empty(0, dtype=float)
    columns = Columns.of_jobs(jobs)
    return _slowdowns(columns, columns.status_is("completed"), tau)


def bounded_slowdown_stats(jobs: Sequence[JobRecord], tau: float = BSLD_TAU) -> Stats:
    """{mean, p50, p95} of ``bounded_slowdowns(jobs, tau)``; None each when none completed."""
    return distribution(bounded_slowdowns(jobs, tau), percentiles=(50, 95), maximum=False)


def jain_index(values: Iterable[float] | np.ndarray) -> float | None:
    """Jain's fairness index J = (sum x)^2 / (n * sum x^2), in [1/n, 1].

    1.0 means all values are equal (also for a single value or all zeros); None when empty.
    """
    data = _as_array(values)
    if data.size == 0:
        return None
    squares = float(np.sum(data * data))
    if squares == 0.0:
        return 1.0
    return float(np.sum(data) ** 2 / (data.size * squares))


def tenant_mean_slowdowns(jobs: Sequence[JobRecord], tau: float = BSLD_TAU) -> dict[str, float]:
    """Mean bounded slowdown of each tenant's completed jobs; tenants with none are left out."""
    if not jobs:
        return {}
    columns = Columns.of_jobs(jobs)
    done = columns.status_is("completed")
    slowdowns = _slowdowns(columns, done, tau)
    codes, labels = columns.job_codes("tenant")
    groups = split(codes[done], len(labels))
    return {
        label: float(np.mean(slowdowns[group]))
        for label, group in zip(labels, groups, strict=True)
        if group.size
    }


def fairness_jain(jobs: Sequence[JobRecord], tau: float = BSLD_TAU) -> float | None:
    """Jain's index over tenants of their mean bounded slowdown.

    J = (sum_t x_t)^2 / (n * sum_t x_t^2), x_t = mean bsld of tenant t's completed jobs,
    n = tenants with a completed job. 1.0 with a single tenant; None when no job completed.
    """
    return jain_index(list(tenant_mean_slowdowns(jobs, tau).values()))
