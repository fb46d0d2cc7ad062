"""Preemption metrics, from run segments and job records.

preemptions       total preemptions, and jobs preempted at least once
restart_gpu_hours GPU-hours spent on restart overhead:
                  sum over segments s of gpus_s * min(restart_overhead_s, end_s - start_s) / 3600
                  (a segment cut short before its overhead ends only loses what it ran).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.metrics.columns import Columns, sequential_sum
from sim.records import JobRecord, Segment


def preemption_stats(jobs: Sequence[JobRecord]) -> dict[str, int]:
    """{count: total preemptions, jobs: jobs preempted at least once}."""
    if not jobs:
        return {"count": 0, "jobs": 0}
    preemptions = Columns.of_jobs(jobs).job_int("preemptions")
    return {"count": int(np.sum(preemptions)), "jobs": int(np.count_nonzero(preemptions))}


def restart_gpu_hours(segments: Sequence[Segment]) -> float:
    """GPU-hours lost to restart overhead (formula in the module docstring)."""
    if not segments:
        return 0.0
    columns = Columns.of_segments(segments)
    ran = columns.seg("end_time") - columns.seg("start_time")
    lost = columns.seg_gpus() * np.minimum(columns.seg("restart_overhead"), ran)
    return sequential_sum(lost) / 3600.0
