"""The numbers a comparison puts side by side: one flat dict per run, after a warm-up.

Only jobs submitted at or after ``warmup`` count (the cluster starts empty; early jobs see
a system that is not yet in its steady state). The window is ``[warmup, end]``, ``end``
the horizon or, without one, the run's last event. Jobs still waiting at the horizon
are never silently dropped: ``unfinished`` counts every job of the window that did not
end, ``queued_at_end`` those that never started, and the waits come twice:

    wait_*           jobs that started (the usual wait statistics)
    wait_*_censored  also every submitted job that never started, its wait cut at the end
                     (end - submit_time: a lower bound on its true wait)

Keys (seconds for waits):

    jobs, unfinished, queued_at_end
    wait_mean, wait_p50, wait_p95, wait_p99, wait_mean_censored, wait_p95_censored
    bounded_slowdown_mean, utilisation, throughput_jobs_per_hour, revenue_eur
    wait_p50.<class>, wait_p95.<class>, wait_p99.<class>, wait_mean.tier.<tier>
"""

from __future__ import annotations

import math

import numpy as np

from sim.metrics.usage import busy_gpu_seconds
from sim.metrics.waits import BSLD_TAU, bounded_slowdowns, distribution, wait_times
from sim.records import RunRecords

NEVER_SUBMITTED = "not submitted before the horizon"


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def comparison_metrics(records: RunRecords, warmup: float = 0.0) -> dict[str, float]:
    """The metrics of one run (module docstring); NaN where a metric has no data."""
    end = float(records.horizon) if records.horizon is not None else float(records.end_time)
    jobs = [j for j in records.jobs if j.submit_time >= warmup and j.reason != NEVER_SUBMITTED]
    started = [j for j in jobs if j.started]
    queued = [j for j in jobs if j.status == "unfinished" and not j.started]
    waits = wait_times(started)
    censored = np.concatenate([waits, np.array([end - j.submit_time for j in queued], dtype=float)])
    stats, cut = distribution(waits), distribution(censored)
    completed = [j for j in jobs if j.status == "completed"]
    window = end - warmup
    busy = busy_gpu_seconds(records.segments, warmup, end)
    metrics: dict[str, float] = {
        "jobs": float(len(jobs)),
        "unfinished": float(sum(j.status == "unfinished" for j in jobs)),
        "queued_at_end": float(len(queued)),
        "wait_mean": _nan(stats["mean"]),
        "wait_p50": _nan(stats["p50"]),
        "wait_p95": _nan(stats["p95"]),
        "wait_p99": _nan(stats["p99"]),
        "wait_mean_censored": _nan(cut["mean"]),
        "wait_p95_censored": _nan(cut["p95"]),
        "bounded_slowdown_mean": float(np.mean(bounded_slowdowns(completed, BSLD_TAU)))
        if completed
        else math.nan,
        "utilisation": busy / (records.capacity_gpus * window)
        if window > 0 and records.capacity_gpus
        else math.nan,
        "throughput_jobs_per_hour": len(completed) / (window / 3600.0) if window > 0 else math.nan,
        "revenue_eur": math.fsum(j.cost for j in jobs),
    }
    for job_class in sorted({j.job_class for j in jobs}):
        of_class = distribution(wait_times([j for j in started if j.job_class == job_class]))
        for q in ("p50", "p95", "p99"):
            metrics[f"wait_{q}.{job_class}"] = _nan(of_class[q])
    for tier in sorted({j.tier for j in jobs}):
        of_tier = wait_times([j for j in started if j.tier == tier])
        metrics[f"wait_mean.tier.{tier}"] = float(np.mean(of_tier)) if of_tier.size else math.nan
    return metrics
