"""Cluster-level metrics: the observation window, utilisation, throughput, makespan, counts.

Every function is pure: it reads ``RunRecords`` (or a list of ``JobRecord``) and returns
numbers. The observation window is ``[first submit_time, end]`` with ``end`` the horizon
when the run had one, else the last end_time (else the engine's ``end_time`` when no job
ended). Utilisation sums the GPUs held by run segments (whole nodes for multi-node jobs),
so it is the share of GPUs held, not the share jobs asked for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sim.records import STATUSES, JobRecord, RunRecords, Segment


def observation_window(records: RunRecords) -> tuple[float, float] | None:
    """(start, end) of the window: start = min submit_time; end = horizon if set, else the
    max end_time over jobs that ended, else ``records.end_time``. None when there are no jobs.
    """
    if not records.jobs:
        return None
    start = min(job.submit_time for job in records.jobs)
    if records.horizon is not None:
        return start, float(records.horizon)
    ends = [job.end_time for job in records.jobs if not math.isnan(job.end_time)]
    return start, (max(ends) if ends else float(records.end_time))


def busy_gpu_seconds(segments: Sequence[Segment], start: float, end: float) -> float:
    """Allocated GPU-seconds of run segments inside ``[start, end]``.

    busy = sum_s gpus_s * max(0, min(end_s, end) - max(start_s, start)) over segments s
    (a job preempted and restarted counts each of its runs, not the gap between them).
    """
    if not segments:
        return 0.0
    gpus = np.array([segment.gpus for segment in segments], dtype=float)
    seg_start = np.array([segment.start_time for segment in segments], dtype=float)
    seg_end = np.array([segment.end_time for segment in segments], dtype=float)
    overlap = np.minimum(seg_end, end) - np.maximum(seg_start, start)
    return float(np.sum(gpus * np.clip(overlap, 0.0, None)))


def utilisation(records: RunRecords) -> float | None:
    """Share of GPU capacity held over the window.

    U = busy_gpu_seconds(all segments, window) / (capacity_gpus * (end - start)).
    None when there are no jobs, no capacity or an empty window.
    """
    window = observation_window(records)
    if window is None or records.capacity_gpus <= 0 or window[1] <= window[0]:
        return None
    start, end = window
    return busy_gpu_seconds(records.segments, start, end) / (records.capacity_gpus * (end - start))


def utilisation_by_type(records: RunRecords) -> dict[str, float | None]:
    """U per GPU type: busy GPU-seconds of jobs of type g / (capacity_by_type[g] * window).

    Keys are the cluster's GPU types (sorted); a type's value is None as for ``utilisation``.
    """
    window = observation_window(records)
    result: dict[str, float | None] = {}
    for gpu_type in sorted(records.capacity_by_type):
        capacity = records.capacity_by_type[gpu_type]
        if window is None or capacity <= 0 or window[1] <= window[0]:
            result[gpu_type] = None
            continue
        start, end = window
        segments = [segment for segment in records.segments if segment.gpu_type == gpu_type]
        result[gpu_type] = busy_gpu_seconds(segments, start, end) / (capacity * (end - start))
    return result


def utilisation_share_by(records: RunRecords, key: str) -> dict[str, float | None]:
    """Share of the whole cluster's capacity held by the jobs of each value of ``key``
    (job_class, tier, tenant): busy_gpu_seconds(segments of those jobs, window) /
    (capacity_gpus * window). The shares add up to ``utilisation``. Keys sorted.
    """
    window = observation_window(records)
    value_of = {job.job_id: str(getattr(job, key)) for job in records.jobs}
    groups: dict[str, list[Segment]] = {}
    for segment in records.segments:
        groups.setdefault(value_of[segment.job_id], []).append(segment)
    if window is None or records.capacity_gpus <= 0 or window[1] <= window[0]:
        return dict.fromkeys(sorted(groups))
    start, end = window
    scale = records.capacity_gpus * (end - start)
    return {name: busy_gpu_seconds(groups[name], start, end) / scale for name in sorted(groups)}


def throughput_jobs_per_hour(records: RunRecords) -> float | None:
    """Completed jobs per hour of window: completed / ((end - start) / 3600). None if no window."""
    window = observation_window(records)
    if window is None or window[1] <= window[0]:
        return None
    completed = sum(1 for job in records.jobs if job.status == "completed")
    return completed / ((window[1] - window[0]) / 3600.0)


def makespan(jobs: Sequence[JobRecord]) -> float | None:
    """max end_time - min submit_time, seconds (jobs that never ended are ignored for the max).

    None when no job ended.
    """
    ends = [job.end_time for job in jobs if not math.isnan(job.end_time)]
    if not ends:
        return None
    return max(ends) - min(job.submit_time for job in jobs)


def status_counts(jobs: Sequence[JobRecord]) -> dict[str, int]:
    """Number of jobs per status (every status in ``STATUSES``, even at 0) plus ``total``."""
    counts = dict.fromkeys(STATUSES, 0)
    for job in jobs:
        counts[job.status] = counts.get(job.status, 0) + 1
    counts["total"] = len(jobs)
    return counts


def unfinished_stats(jobs: Sequence[JobRecord]) -> dict[str, int]:
    """{count, gpus}: unfinished jobs (queued or running at the horizon) and their requested GPUs."""
    left = [job for job in jobs if job.status == "unfinished"]
    return {"count": len(left), "gpus": sum(job.gpus for job in left)}


def rejected_stats(jobs: Sequence[JobRecord]) -> dict[str, int | dict[str, int]]:
    """{count, reasons: {reason: count}}: rejected jobs, by reason (an empty reason is "unspecified")."""
    reasons: dict[str, int] = {}
    for job in jobs:
        if job.status == "rejected":
            reason = job.reason or "unspecified"
            reasons[reason] = reasons.get(reason, 0) + 1
    return {"count": sum(reasons.values()), "reasons": {key: reasons[key] for key in sorted(reasons)}}
