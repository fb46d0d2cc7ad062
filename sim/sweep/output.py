"""What a sweep writes besides its cells: sweep.csv, sweep.parquet and sweep.json.

sweep.csv      one row per run, in plan order (cells in axis order, then replication):
               ``cell`` (the run's directory key under cells/), one column per axis path
               (empty where a ``cells:`` entry leaves that path at the base's value),
               ``replication``, ``seed``, then ``METRICS``, then the per-class and per-tier
               wait metrics of ``sim.compare.metrics`` (sorted by name)
sweep.parquet  the same table, typed, when pyarrow is importable
sweep.json     name, base scenario name, axes with their values, replications, warm-up,
               the metric columns, and per cell its axis values and run keys

Every file is written whole to a temporary name and renamed, and holds no timestamp, so
the same finished cells give byte-identical files whichever executor ran them.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.compare.metrics import comparison_metrics
from sim.report.writer import format_value, json_text
from sim.sweep.plan import Plan

CELL_METRICS = "metrics.json"
"""The file in each cell directory holding its sweep metrics (written just before publishing)."""

METRICS = (
    "utilisation",
    "wait_mean",
    "wait_p50",
    "wait_p95",
    "wait_p99",
    "wait_mean_censored",
    "wait_p95_censored",
    "bounded_slowdown_mean",
    "jobs",
    "unfinished",
    "queued_at_end",
    "throughput_jobs_per_hour",
    "revenue_eur",
    "energy_kwh",
    "energy_eur",
    "slo_attainment",
    "fairness_jain",
)
"""The fixed metric columns. Up to ``revenue_eur`` they are ``comparison_metrics`` after the
warm-up; ``energy_*``, ``slo_attainment`` (share of inference requests within their SLO) and
``fairness_jain`` come from summary.json and cover the whole run."""


def run_metrics(records: Any, summary: Mapping[str, Any], warmup: float) -> dict[str, float]:
    """The sweep metrics of one run: ``comparison_metrics`` plus the whole-run extras."""
    metrics = comparison_metrics(records, warmup)
    energy = summary.get("energy") or {}
    inference = summary.get("inference") or {}
    metrics["energy_kwh"] = _number(energy.get("kwh"))
    metrics["energy_eur"] = _number(energy.get("eur"))
    metrics["slo_attainment"] = _number(inference.get("attainment"))
    metrics["fairness_jain"] = _number(summary.get("fairness_jain"))
    return metrics


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def read_cell_metrics(cell_dir: Path) -> dict[str, float]:
    """A cell's metrics.json, null read back as NaN."""
    data = json.loads((cell_dir / CELL_METRICS).read_text(encoding="utf-8"))
    return {name: _number(value) for name, value in data["metrics"].items()}


def axis_text(value: Any) -> str:
    """An axis value in a CSV field: text as is, numbers as the writer writes them, a mapping
    or list as compact JSON; a path a cell leaves out (``None`` here) is empty."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return format_value(value)


def table(plan: Plan, cells_dir: Path) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of sweep.csv (module docstring), read from the cells' metrics."""
    metrics = [read_cell_metrics(cells_dir / run.key) for run in plan.runs]
    extra = sorted({name for row in metrics for name in row} - set(METRICS))
    names = [*METRICS, *extra]
    header = ["cell", *plan.axes, "replication", "seed", *names]
    rows = [
        [
            run.key,
            *(plan.values[run.cell].get(axis) for axis in plan.axes),
            run.replication,
            run.seed,
            *(values.get(name, math.nan) for name in names),
        ]
        for run, values in zip(plan.runs, metrics, strict=True)
    ]
    return header, rows


def describe(plan: Plan, metrics: Sequence[str]) -> dict[str, Any]:
    """sweep.json (module docstring)."""
    axes = []
    for axis in plan.axes:
        seen = list({axis_text(v[axis]): v[axis] for v in plan.values if axis in v}.items())
        axes.append({"path": axis, "values": [value for _, value in seen], "labels": [t for t, _ in seen]})
    runs: dict[int, list[str]] = {}
    for run in plan.runs:
        runs.setdefault(run.cell, []).append(run.key)
    return {
        "name": plan.name,
        "scenario": plan.scenario_name,
        "axes": axes,
        "replications": plan.replications,
        "warmup_s": plan.warmup,
        "metrics": list(metrics),
        "cells": [{"values": values, "runs": runs[i]} for i, values in enumerate(plan.values)],
    }


def write_outputs(plan: Plan, out: Path) -> list[Path]:
    """Write sweep.csv, sweep.json and (with pyarrow) sweep.parquet into ``out``; return them."""
    header, rows = table(plan, out / "cells")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(axis_text(value) for value in row)
    written = [_replace(out / "sweep.csv", buffer.getvalue().encode("utf-8"))]
    metrics = header[len(plan.axes) + 3 :]
    written.append(_replace(out / "sweep.json", json_text(describe(plan, metrics)).encode("utf-8")))
    parquet = out / "sweep.parquet"
    if importlib.util.find_spec("pyarrow") is not None:
        written.append(_write_parquet(parquet, header, rows, len(plan.axes)))
    else:
        parquet.unlink(missing_ok=True)  # a stale one would disagree with sweep.csv
    return written


def _replace(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary sibling and an atomic rename."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_parquet(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], n_axes: int) -> Path:
    """sweep.parquet: ``cell`` text, each axis a number column if all its values are numbers
    (else text, JSON for mappings), replication and seed int64, metrics float64."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, Any] = {}
    for index, name in enumerate(header):
        values = [row[index] for row in rows]
        if index == 0:
            columns[name] = pa.array(values, pa.string())
        elif index <= n_axes:
            present = [v for v in values if v is not None]
            numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
            if numeric and all(isinstance(v, int) for v in present):
                columns[name] = pa.array(values, pa.int64())
            elif numeric:
                columns[name] = pa.array(values, pa.float64())
            else:
                columns[name] = pa.array([None if v is None else axis_text(v) for v in values], pa.string())
        elif index <= n_axes + 2:
            columns[name] = pa.array(values, pa.int64())
        else:
            columns[name] = pa.array(values, pa.float64())
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        pq.write_table(pa.table(columns), tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
