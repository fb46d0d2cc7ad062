"""Small helpers for the schedule, placement, CLI and trace tests: write a trace, run it.

Rows are tuples in the order of the header, ``TRACE_HEADER`` by default
(``job_id,submit_time,gpus,duration,requested_time``); a short row is padded with empty
fields, and an empty ``requested_time`` means a perfect estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sim
from sim.cluster.state import ClusterLayout, ClusterState, Placement
from sim.records import JobRecord
from sim.scenario.schema import Cluster

TRACE_HEADER = ("job_id", "submit_time", "gpus", "duration", "requested_time")


def write_trace(path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = TRACE_HEADER) -> Path:
    """Write ``rows`` under ``header`` as a canonical trace CSV at ``path``; returns ``path``."""
    lines = [",".join(header)]
    for row in rows:
        fields = [str(value) for value in row] + [""] * (len(header) - len(row))
        lines.append(",".join(fields))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def flat_pool(gpus: int, gpu_type: str = "g") -> list[dict[str, Any]]:
    """A flat pool of ``gpus`` one-GPU nodes."""
    return [{"name": "pool", "nodes": gpus, "gpus_per_node": 1, "gpu_type": gpu_type}]


def eight_gpu_nodes(nodes: int, name: str = "pod", gpu_type: str = "g") -> list[dict[str, Any]]:
    """One pod of ``nodes`` nodes with 8 GPUs each."""
    return [{"name": name, "nodes": nodes, "gpus_per_node": 8, "gpu_type": gpu_type}]


def run_trace(
    tmp_path: Path,
    rows: Sequence[Sequence[object]],
    pods: list[dict[str, Any]],
    scheduler: str = "easy",
    *,
    header: Sequence[str] = TRACE_HEADER,
    **settings: Any,
) -> dict[str, JobRecord]:
    """Replay ``rows`` on ``pods`` with ``scheduler``; job_id -> JobRecord (one per row).

    ``settings`` are extra top-level scenario keys, e.g. ``horizon=100``.
    """
    trace = write_trace(tmp_path / "trace.csv", rows, header)
    scenario = {
        "name": "t",
        "cluster": {"pods": pods},
        "workload": {"trace": {"path": str(trace)}},
        "scheduler": scheduler,
        **settings,
    }
    result = sim.run(scenario)
    jobs = {record.job_id: record for record in result.jobs}
    assert len(jobs) == len(result.jobs) == len(rows), "every row must give exactly one record"
    return jobs


def starts(jobs: dict[str, JobRecord]) -> dict[str, float]:
    """job_id -> start_time, for comparing a whole schedule at once."""
    return {job_id: record.start_time for job_id, record in jobs.items()}


def pod(name: str, nodes: int, gpu_type: str = "g", gpus_per_node: int = 8) -> dict[str, Any]:
    """A pod spec: ``nodes`` nodes of ``gpus_per_node`` GPUs of ``gpu_type``."""
    return {"name": name, "nodes": nodes, "gpus_per_node": gpus_per_node, "gpu_type": gpu_type}


def state_of(*pods: dict[str, Any]) -> ClusterState:
    """An empty ClusterState for ``pods``."""
    return ClusterState(ClusterLayout.from_scenario(Cluster.model_validate({"pods": list(pods)})))


def occupy(state: ClusterState, busy: dict[int, int], gpu_type: str = "g") -> None:
    """Allocate ``busy[node]`` GPUs on each node, as single-node jobs would."""
    for node, gpus in busy.items():
        state.allocate(Placement((node,), gpus), gpu_type)
