"""Read saved results back from their files: jobs.csv, segments.csv, timeseries.csv and JSON.

``gpusim plot`` and the comparison plots draw from a results directory, not from a run in
memory, so these readers undo ``sim.report.writer``: the writer wrote floats with ``repr``,
so ``float`` gives back the very same numbers, and an empty field is NaN. Only the ``csv``
module and numpy are used, so a results directory stays readable without pandas.

A missing file or column is the user's mistake (they named the directory), so it raises
``UserError`` naming the file rather than a bare ``KeyError``.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.compare.metrics import NEVER_SUBMITTED
from sim.errors import UserError
from sim.records import JOB_COLUMNS, JobRecord, RunRecords, Segment


def read_table(path: Path, columns: Sequence[str] | None = None) -> dict[str, list[str]]:
    """The columns of a CSV file, as lists of their text fields: every column, or ``columns``."""
    path = Path(path)
    if not path.is_file():
        raise UserError("must be a file of a gpusim results directory (it does not exist)", source=str(path))
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        wanted = list(header) if columns is None else list(columns)
        missing = [name for name in wanted if name not in header]
        if missing:
            raise UserError(f"must have the column(s) {', '.join(missing)} (got {header})", source=str(path))
        index = [header.index(name) for name in wanted]
        fields: list[list[str]] = [[] for _ in wanted]
        for row in reader:
            for slot, i in zip(fields, index, strict=True):
                slot.append(row[i])
    return dict(zip(wanted, fields, strict=True))


def floats(fields: Sequence[str]) -> np.ndarray:
    """Numbers of a CSV column; an empty field (the writer's NaN) is NaN."""
    return np.array([float(text) if text else math.nan for text in fields], dtype=float)


def ints(fields: Sequence[str]) -> list[int]:
    """Integers of a CSV column; an empty field is 0."""
    return [int(float(text)) if text else 0 for text in fields]


def read_json(path: Path) -> dict[str, Any]:
    """A JSON file of a results directory (manifest.json, summary.json, comparison.json)."""
    path = Path(path)
    if not path.is_file():
        raise UserError("must be a file of a gpusim results directory (it does not exist)", source=str(path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UserError(f"must be valid JSON ({error})", source=str(path)) from None
    if not isinstance(data, dict):
        raise UserError(f"must hold a JSON object (got {type(data).__name__})", source=str(path))
    return data


@dataclass(frozen=True, slots=True)
class JobTable:
    """The columns of jobs.csv a plot needs, one entry per job row, in file order.

    ``wait_time`` is NaN for a job that never started; ``submitted`` is False for the rows
    of arrivals that fell after the horizon (kept in jobs.csv so that nothing disappears).
    """

    job_id: list[str]
    job_class: np.ndarray
    tier: np.ndarray
    status: np.ndarray
    submit_time: np.ndarray
    wait_time: np.ndarray
    submitted: np.ndarray

    @property
    def started(self) -> np.ndarray:
        return ~np.isnan(self.wait_time)


def read_job_table(path: Path) -> JobTable:
    """jobs.csv as a JobTable; ``wait_time`` is recomputed from start and submit times."""
    wanted = ("job_id", "job_class", "tier", "status", "submit_time", "start_time", "reason")
    columns = read_table(path, wanted)
    submit = floats(columns["submit_time"])
    return JobTable(
        job_id=columns["job_id"],
        job_class=np.array(columns["job_class"], dtype=object),
        tier=np.array(columns["tier"], dtype=object),
        status=np.array(columns["status"], dtype=object),
        submit_time=submit,
        wait_time=floats(columns["start_time"]) - submit,
        submitted=np.array([reason != NEVER_SUBMITTED for reason in columns["reason"]], dtype=bool),
    )


def read_jobs(path: Path) -> list[JobRecord]:
    """jobs.csv as JobRecords, the inverse of ``sim.report.writer.jobs_csv``."""
    columns = read_table(path, [name for name in JOB_COLUMNS if name != "wait_time"])
    numbers = {
        name: floats(columns[name]).tolist()
        for name in ("submit_time", "duration", "requested_time", "start_time", "end_time", "cost", "price")
    }
    counts = {name: ints(columns[name]) for name in ("gpus", "priority", "preemptions", "allocated_gpus")}
    return [
        JobRecord(
            job_id=columns["job_id"][i],
            tenant=columns["tenant"][i],
            job_class=columns["job_class"][i],
            gpu_type=columns["gpu_type"][i],
            gpus=counts["gpus"][i],
            submit_time=numbers["submit_time"][i],
            duration=numbers["duration"][i],
            requested_time=numbers["requested_time"][i],
            priority=counts["priority"][i],
            start_time=numbers["start_time"][i],
            end_time=numbers["end_time"][i],
            status=columns["status"][i],
            reason=columns["reason"][i],
            preemptions=counts["preemptions"][i],
            pods=columns["pods"][i],
            allocated_gpus=counts["allocated_gpus"][i],
            cost=numbers["cost"][i],
            tier=columns["tier"][i],
            price=numbers["price"][i],
        )
        for i in range(len(columns["job_id"]))
    ]


def read_timeseries(path: Path) -> dict[str, np.ndarray]:
    """timeseries.csv as {column: values}, ``time`` first, in file order."""
    return {name: floats(fields) for name, fields in read_table(path).items()}


def read_segments(path: Path) -> list[Segment]:
    """segments.csv as Segments, the inverse of ``sim.report.writer.segments_csv``."""
    columns = read_table(path, Segment._fields)
    starts, ends = floats(columns["start_time"]).tolist(), floats(columns["end_time"]).tolist()
    overheads = floats(columns["restart_overhead"]).tolist()
    per_node = ints(columns["gpus_per_node"])
    return [
        Segment(
            job_id=columns["job_id"][i],
            start_time=starts[i],
            end_time=ends[i],
            gpu_type=columns["gpu_type"][i],
            gpus_per_node=per_node[i],
            nodes=columns["nodes"][i],
            pods=columns["pods"][i],
            reason=columns["reason"][i],
            restart_overhead=overheads[i],
        )
        for i in range(len(starts))
    ]


def run_horizon(run_dir: Path) -> float | None:
    """The run's horizon in seconds, from the resolved scenario in manifest.json (None if none)."""
    horizon = read_json(Path(run_dir) / "manifest.json").get("scenario", {}).get("horizon")
    return None if horizon is None else float(horizon)


def run_records(run_dir: Path) -> RunRecords:
    """The records of a single-run directory, as far as its files keep them.

    Enough for ``sim.report.plots.plot_all`` (jobs and timeseries) and for metrics over
    jobs and segments. Not kept in files, hence left empty: the capacity per type and
    per pod, the event count, inference service plans. The end time is the latest instant
    the files show.
    """
    run_dir = Path(run_dir)
    jobs = read_jobs(run_dir / "jobs.csv")
    sampled = read_timeseries(run_dir / "timeseries.csv")
    timeseries = {name: values.tolist() for name, values in sampled.items()}
    segments = read_segments(run_dir / "segments.csv") if (run_dir / "segments.csv").is_file() else []
    summary = read_json(run_dir / "summary.json") if (run_dir / "summary.json").is_file() else {}
    horizon = run_horizon(run_dir) if (run_dir / "manifest.json").is_file() else None
    instants = [t for job in jobs for t in (job.submit_time, job.end_time) if math.isfinite(t)]
    instants += [s.end_time for s in segments] + list(timeseries.get("time", []))
    return RunRecords(
        jobs=jobs,
        timeseries=timeseries,
        capacity_gpus=int(summary.get("capacity_gpus") or 0),
        capacity_by_type={},
        capacity_by_pod={},
        end_time=max(instants, default=0.0),
        horizon=horizon,
        events=0,
        segments=segments,
    )
