"""Preemption metrics, from run segments and job records.

preemptions       total preemptions, and jobs preempted at least once
restart_gpu_hours GPU-hours spent on restart overhead:
                  sum over segments s of gpus_s * min(restart_overhead_s, end_s - start_s) / 3600
                  (a segment cut short before its overhead ends only loses what it ran).
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.records import JobRecord, Segment


def preemption_stats(jobs: Sequence[JobRecord]) -> dict[str, int]:
    """{count: total preemptions, jobs: jobs preempted at least once}."""
    return {"count": sum(job.preemptions for job in jobs), "jobs": sum(1 for job in jobs if job.preemptions)}


def restart_gpu_hours(segments: Sequence[Segment]) -> float:
    """GPU-hours lost to restart overhead (formula in the module docstring)."""
    return sum(s.gpus * min(s.restart_overhead, s.end_time - s.start_time) for s in segments) / 3600.0
