"""A Philly-style job list: ``timestamp,duration,num_gpus[,gpu_time][,cluster]``.

This is the job list derived from Microsoft's Philly trace by the Pollux/AdaptDL authors
(``philly/pollux_philly_jobs.csv``): one row a job, the submission time as a date and time
(read as UTC), the run time in seconds, the GPUs, and the virtual cluster (an anonymised
hash such as ``6214e9``). Extra columns (``gpu_time``) are ignored.

Mapping: job_id = the row's number (1 = the first data row); submit_time = timestamp minus
the first kept job's (``notes["start"]`` is that instant); duration = duration; gpus =
num_gpus; tenant = cluster; requested_time = duration (Philly has no estimates). Dropped,
counted by the first reason that applies: run time <= 0, no GPU (num_gpus = 0), and, with the
``cluster`` option, virtual cluster not selected.

``notes["clusters"]`` gives per virtual cluster (jobs not dropped for their data): ``jobs``,
``max_gpus`` (the largest job), ``gpu_hours`` and ``peak_demand_gpus`` (the most GPUs in use
at once if every job started on submission: a hint at the cluster's size, which Philly does
not publish).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.errors import show
from sim.workload.readers.common import (
    Columns,
    Drops,
    TraceResult,
    csv_rows,
    fail,
    integer,
    iso,
    number,
    timestamp,
)

NOT_SELECTED = "virtual cluster not selected"


def read_philly(path: str | Path, cluster: str | Sequence[str] | None = None) -> TraceResult:
    """The jobs of a Philly job list; ``cluster`` keeps only that virtual cluster (or those)."""
    source = str(path)
    selected = None if cluster is None else ({cluster} if isinstance(cluster, str) else set(cluster))
    columns = Columns(source, "timestamp")
    drops = Drops()
    valid: dict[str, list[tuple[float, float, int]]] = {}
    required = ("timestamp", "duration", "num_gpus") + (("cluster",) if selected is not None else ())
    for row_number, (line, row) in enumerate(csv_rows(path, required, source), 1):
        submit = timestamp(row["timestamp"], "timestamp", source, line)
        duration = number(row["duration"], "duration", source, line, limit="seconds")
        gpus = integer(row["num_gpus"], "num_gpus", source, line, "an integer >= 0", lambda v: v >= 0, "gpus")
        name = row.get("cluster", "")
        if duration <= 0:
            drops.add("run time <= 0")
            continue
        if gpus == 0:
            drops.add("no GPU")
            continue
        valid.setdefault(name, []).append((submit, duration, gpus))
        if selected is not None and name not in selected:
            drops.add(NOT_SELECTED)
            continue
        columns.add(line, str(row_number), submit, gpus, duration, tenant=name)
    if selected is not None and not selected <= valid.keys():
        unknown = sorted(selected - valid.keys())
        raise fail(
            f"cluster must name virtual clusters of the trace ({', '.join(sorted(valid))}) "
            f"(got {show(unknown[0])})",
            source,
            column="cluster",
        )
    jobs, offset = columns.table()
    notes: dict[str, Any] = {
        "start": iso(offset) if len(jobs) else None,
        "time_offset": offset,
        "clusters": {name: _stats(valid[name]) for name in sorted(valid)},
        "selected": sorted(selected) if selected is not None else None,
    }
    return TraceResult(jobs, drops.counts, notes)


def _stats(jobs: list[tuple[float, float, int]]) -> dict[str, Any]:
    """Jobs, largest job, GPU hours and peak concurrent GPUs (if started on submission)."""
    events = sorted([(s + d, -g) for s, d, g in jobs] + [(s, g) for s, d, g in jobs])
    peak = busy = 0
    for _, change in events:  # at one instant ends (negative) sort before starts
        busy += change
        peak = max(peak, busy)
    return {
        "jobs": len(jobs),
        "max_gpus": max(g for _, _, g in jobs),
        "gpu_hours": round(sum(d * g for _, d, g in jobs) / 3600, 3),
        "peak_demand_gpus": peak,
    }
