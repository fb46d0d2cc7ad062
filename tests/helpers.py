"""Small helpers for the schedule, placement, CLI and trace tests: write a trace, run it.

Rows are tuples in the order of the header, ``TRACE_HEADER`` by default
(``job_id,submit_time,gpus,duration,requested_time``); a short row is padded with empty
fields, and an empty ``requested_time`` means a perfect estimate.

The trace reader tests (``test_readers_*.py``) share the generated SWF, Philly, openb and
Azure LLM fixtures at the end, and helpers to write them, read real traces and catch errors.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.cluster.state import ClusterLayout, ClusterState, Placement
from sim.errors import TraceError
from sim.records import JobRecord
from sim.scenario.schema import Cluster
from sim.workload.calendar import Calendar
from sim.workload.readers import TraceResult, read_trace
from sim.workload.trace_csv import write_trace_csv

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


# --- trace readers (tests/test_readers_*.py) -----------------------------------------------------

TRACES = Path(__file__).resolve().parents[1].parent / "shared" / "traces"
# the full header of the canonical trace CSV the readers write
HEADER = "job_id,submit_time,gpus,duration,requested_time,tenant,job_class,gpu_type,priority,tier\n"


def write(tmp_path: Path, name: str, text: str, compress: bool = False) -> Path:
    """``text`` as file ``name`` in ``tmp_path``, gzip-compressed if asked."""
    path = tmp_path / name
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def plain_and_gzipped(tmp_path: Path, name: str, text: str, format: str) -> tuple[TraceResult, TraceResult]:
    """``text`` read by ``format``'s reader from file ``name`` and from ``name.gz``."""
    plain = read_trace(write(tmp_path, name, text), format)
    return plain, read_trace(write(tmp_path, f"{name}.gz", text, compress=True), format)


def canonical(result: TraceResult, tmp_path: Path) -> str:
    """The canonical trace CSV text of ``result``'s jobs."""
    out = tmp_path / "canonical.csv"
    write_trace_csv(result.jobs, out)
    return out.read_text()


def error_of(read: Callable[[], Any]) -> str:
    """The message ``read()`` fails with."""
    with pytest.raises(TraceError) as caught:
        read()
    return str(caught.value)


def real(*parts: str) -> Path:
    """A real trace file, or skip the test."""
    path = TRACES.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"real trace {path} not present (see /work/shared/traces/MANIFEST.tsv)")
    return path


def swf_line(
    job: int, submit: object, run: float, alloc: int, procs: int = -1, estimate: float = -1, user: int = -1
) -> str:
    """One 18-field SWF data line."""
    fields = [job, submit, -1, run, alloc, -1, -1, procs, estimate, -1, 1, user, -1, -1, 0, -1, -1, -1]
    return " ".join(str(f) for f in fields) + "\n"


SWF_GOOD = (
    "; Version: 2.2\n"
    "; MaxNodes: 32\n"
    "; MaxProcs: 64\n"
    "; UnixStartTime: 1000\n"
    ";\n"
    + swf_line(1, 100, 50, 8, estimate=120, user=3)
    + swf_line(2, 160, 30, 4, procs=2)
    + swf_line(3, 160, 10.5, 16, user=7)
    + swf_line(4, 130, 20, 1, user=3)
)


PHILLY = (
    "timestamp,duration,num_gpus,gpu_time,cluster\n"
    "2017-10-09 07:01:55,66.0,1,66.0,aa\n"
    "2017-10-09 06:13:03,100,2,200,bb\n"
    "2017-10-09 06:13:03,50.5,4,202,aa\n"
    "2017-10-09 08:00:00,0,1,0,aa\n"
    "2017-10-09 08:00:00,10,0,0,bb\n"
)


OPENB_HEADER = (
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,"
    "creation_time,deletion_time,scheduled_time\n"
)
OPENB = OPENB_HEADER + (
    "p0,1000,1,0,0,,BE,Running,5,50,5\n"
    "p1,1000,1,1,460,,LS,Running,10,110,12\n"
    "p2,1000,1,8,1000,V100M16|V100M32,Burstable,Succeeded,20,400,30\n"
    "p3,1000,1,1,1000,,LS,Pending,25,60,\n"
    "p4,1000,1,2,1000,T4,BE,Running,30,,40\n"
    "p5,1000,1,1,500,,LS,Failed,35,45,45\n"
)
NODES = (
    "sn,cpu_milli,memory_mib,gpu,model\n"
    "n0,1,1,8,V100M16\nn1,1,1,8,V100M16\nn2,1,1,4,V100M16\nn3,1,1,0,\nn4,1,1,2,T4\n"
)


AZURE = (
    "TIMESTAMP,ContextTokens,GeneratedTokens\n"
    "2023-11-16 18:00:00.5000000,100,10\n"
    "2023-11-16 18:00:59.9000000,200,20\n"
    "2023-11-16 18:01:00.5000000,300,30\n"
    "2023-11-16 18:03:10.0000000,400,40\n"
)


# Workload generator tests (test_workload*.py): time units, their seed, their calendar.
HOUR = 3600.0
DAY = 24 * HOUR
WEEK = 7 * DAY
SEED = 11
# Monday 2026-01-05 00:00 in Berlin; no DST change in the next 12 weeks.
CLOCK = Calendar(datetime(2026, 1, 5), "Europe/Berlin")
