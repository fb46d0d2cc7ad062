"""Cluster-level metrics: the observation window, utilisation, throughput, makespan, counts.

Every function is pure: it reads ``RunRecords`` (or a list of ``JobRecord``) and returns
numbers. The observation window is ``[first submit_time, end]`` with ``end`` the horizon
when the run had one, else the last end_time (else the engine's ``end_time`` when no job
ended). Utilisation sums the GPUs held by run segments (whole nodes for multi-node jobs),
so it is the share of GPUs held, not the share jobs asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.metrics.columns import Columns, first_appearance, split
from sim.records import STATUSES, JobRecord, RunRecords, Segment


def observation_window(records: RunRecords) -> tuple[float, float] | None:
    """(start, end) of the window: start = min submit_time; end = horizon if set, else the
    max end_time over jobs that ended, else ``records.end_time``. None when there are no jobs.
    """
    if not records.jobs:
        return None
    columns = Columns.of_records(records)
    start = float(np.min(columns.job("submit_time")))
    if records.horizon is not None:
        return start, float(records.horizon)
    ends = columns.job("end_time")
    ends = ends[~np.isnan(ends)]
    return start, (float(np.max(ends)) if ends.size else float(records.end_time))


def _held(columns: Columns, start: float, end: float) -> np.ndarray:
    """Per segment: gpus x max(0, min(end_s, end) - max(start_s, start))."""
    overlap = np.minimum(columns.seg("end_time"), end) - np.maximum(columns.seg("start_time"), start)
    return columns.seg_gpus() * np.clip(overlap, 0.0, None)


def busy_gpu_seconds(segments: Sequence[Segment], start: float, end: float) -> float:
    """Allocated GPU-seconds of run segments inside ``[start, end]``.

    busy = sum_s gpus_s * max(0, min(end_s, end) - max(start_s, start)) over segments s
    (a job preempted and restarted counts each of its runs, not the gap between them).
    """
    if not segments:
        return 0.0
    return float(np.sum(_held(Columns.of_segments(segments), start, end)))


def _valid_window(records: RunRecords) -> tuple[float, float] | None:
    window = observation_window(records)
    return None if window is None or window[1] <= window[0] else window


def utilisation(records: RunRecords) -> float | None:
    """Share of GPU capacity held over the window.

    U = busy_gpu_seconds(all segments, window) / (capacity_gpus * (end - start)).
    None when there are no jobs, no capacity or an empty window.
    """
    window = _valid_window(records)
    if window is None or records.capacity_gpus <= 0:
        return None
    start, end = window
    return busy_gpu_seconds(records.segments, start, end) / (records.capacity_gpus * (end - start))


def utilisation_by_type(records: RunRecords) -> dict[str, float | None]:
    """U per GPU type: busy GPU-seconds of jobs of type g / (capacity_by_type[g] * window).

    Keys are the cluster's GPU types (sorted); a type's value is None as for ``utilisation``.
    """
    window = _valid_window(records)
    result: dict[str, float | None] = dict.fromkeys(sorted(records.capacity_by_type))
    if window is None:
        return result
    start, end = window
    columns = Columns.of_records(records)
    held = _held(columns, start, end)
    codes, labels = columns.seg_codes("gpu_type")
    code = {label: k for k, label in enumerate(labels)}
    for gpu_type in result:
        capacity = records.capacity_by_type[gpu_type]
        if capacity <= 0:
            continue
        k = code.get(gpu_type)
        busy = float(np.sum(held[codes == k])) if k is not None else 0.0
        result[gpu_type] = busy / (capacity * (end - start))
    return result


def utilisation_share_by(records: RunRecords, key: str) -> dict[str, float | None]:
    """Share of the whole cluster's capacity held by the jobs of each value of ``key``
    (job_class, tier, tenant): busy_gpu_seconds(segments of those jobs, window) /
    (capacity_gpus * window). The shares add up to ``utilisation``. Keys sorted.
    """
    if not records.segments:
        return {}
    columns = Columns.of_records(records)
    job = columns.seg_job_known()
    codes, labels = columns.job_codes(key)
    groups = split(codes[job], len(labels))
    present = [(labels[k], group) for k, group in enumerate(groups) if group.size]
    window = _valid_window(records)
    if window is None or records.capacity_gpus <= 0:
        return dict.fromkeys(label for label, _ in present)
    start, end = window
    scale = records.capacity_gpus * (end - start)
    held = _held(columns, start, end)
    return {label: float(np.sum(held[group])) / scale for label, group in present}


def throughput_jobs_per_hour(records: RunRecords) -> float | None:
    """Completed jobs per hour of window: completed / ((end - start) / 3600). None if no window."""
    window = _valid_window(records)
    if window is None:
        return None
    completed = int(np.count_nonzero(Columns.of_records(records).status_is("completed")))
    return completed / ((window[1] - window[0]) / 3600.0)


def makespan(jobs: Sequence[JobRecord]) -> float | None:
    """max end_time - min submit_time, seconds (jobs that never ended are ignored for the max).

    None when no job ended.
    """
    if not jobs:
        return None
    columns = Columns.of_jobs(jobs)
    ends = columns.job("end_time")
    ends = ends[~np.isnan(ends)]
    if not ends.size:
        return None
    return float(np.max(ends)) - float(np.min(columns.job("submit_time")))


def status_counts(jobs: Sequence[JobRecord]) -> dict[str, int]:
    """Number of jobs per status (every status in ``STATUSES``, even at 0) plus ``total``."""
    counts = dict.fromkeys(STATUSES, 0)
    if jobs:
        codes, labels = Columns.of_jobs(jobs).job_codes("status")
        number = np.bincount(codes, minlength=len(labels))
        for k in first_appearance(codes).tolist():
            counts[labels[k]] = int(number[k])
    counts["total"] = len(jobs)
    return counts


def unfinished_stats(jobs: Sequence[JobRecord]) -> dict[str, int]:
    """{count, gpus}: unfinished jobs (queued or running at the horizon) and their requested GPUs."""
    if not jobs:
        return {"count": 0, "gpus": 0}
    columns = Columns.of_jobs(jobs)
    left = columns.status_is("unfinished")
    return {"count": int(np.count_nonzero(left)), "gpus": int(np.sum(columns.job_int("gpus")[left]))}


def rejected_stats(jobs: Sequence[JobRecord]) -> dict[str, int | dict[str, int]]:
    """{count, reasons: {reason: count}}: rejected jobs, by reason (an empty reason is "unspecified")."""
    reasons: dict[str, int] = {}
    if jobs:
        columns = Columns.of_jobs(jobs)
        why = columns.job_values("reason")
        for k in np.flatnonzero(columns.status_is("rejected")).tolist():
            reason = why[k] or "unspecified"
            reasons[reason] = reasons.get(reason, 0) + 1
    return {"count": sum(reasons.values()), "reasons": {key: reasons[key] for key in sorted(reasons)}}
