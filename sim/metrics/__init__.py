"""Metrics: pure functions of run records, each with its formula in its docstring.

``summarize(records)`` gathers the headline numbers into the dict written as summary.json;
the per-metric functions are public so reports and tests can use them one by one.
"""

from sim.metrics.preemption import preemption_stats, restart_gpu_hours
from sim.metrics.summary import json_ready, summarize
from sim.metrics.usage import (
    busy_gpu_seconds,
    makespan,
    observation_window,
    rejected_stats,
    status_counts,
    throughput_jobs_per_hour,
    unfinished_stats,
    utilisation,
    utilisation_by_type,
)
from sim.metrics.waits import (
    BSLD_TAU,
    bounded_slowdown_stats,
    bounded_slowdowns,
    completion_times,
    distribution,
    fairness_jain,
    group_by,
    jain_index,
    jct_stats,
    started_jobs,
    tenant_mean_slowdowns,
    wait_stats,
    wait_stats_by_class,
    wait_times,
    wait_times_by,
)

__all__ = [
    "BSLD_TAU",
    "bounded_slowdown_stats",
    "bounded_slowdowns",
    "busy_gpu_seconds",
    "completion_times",
    "distribution",
    "fairness_jain",
    "group_by",
    "jain_index",
    "jct_stats",
    "json_ready",
    "makespan",
    "observation_window",
    "preemption_stats",
    "rejected_stats",
    "restart_gpu_hours",
    "started_jobs",
    "status_counts",
    "summarize",
    "tenant_mean_slowdowns",
    "throughput_jobs_per_hour",
    "unfinished_stats",
    "utilisation",
    "utilisation_by_type",
    "wait_stats",
    "wait_stats_by_class",
    "wait_times",
    "wait_times_by",
]
