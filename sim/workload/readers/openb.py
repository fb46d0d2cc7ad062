"""Alibaba's openb GPU cluster trace (cluster-trace-gpu-v2023): a pod list and a node list.

Pod list columns (others ignored): ``name,num_gpu,gpu_milli,creation_time,deletion_time,
scheduled_time``, optional ``gpu_spec`` and ``qos``. Times are seconds from the trace start;
``gpu_milli`` is the share of each GPU a pod asks for (1000 = a whole GPU; below 1000 only
for one-GPU pods, which share a GPU). ``gpu_spec`` lists acceptable GPU models as
``V100M16|V100M32``, empty (or ``nan``) for any.

Mapping: job_id = name; submit_time = creation_time minus the first kept pod's; duration =
deletion_time - scheduled_time (the time it held its GPUs); gpus = num_gpu, and a fractional
request (gpu_milli < 1000) is rounded up to whole GPUs (counted in
``notes["rounded_fractional"]``); gpu_type = gpu_spec's models as acceptable types
(``V100M16|V100M32``: the engine binds the pod to one when it arrives; pods naming several
are counted in ``notes["gpu_spec_alternatives"]``), ``*`` (any GPU type) when it names
none; job_class = qos;
requested_time = duration. A pod never deleted (empty deletion_time) runs to the end of
the trace, the latest time in the file (counted in ``notes["never_deleted"]``). Dropped,
counted by the first reason that applies: no GPU (num_gpu = 0, CPU-only pods), never
scheduled (empty scheduled_time: Pending pods, which never held a GPU), run time <= 0.

The node list (``sn,gpu,model``; the ``nodes`` option) defines the cluster:
``notes["cluster"]`` holds pods of identical nodes, one per GPU model, largest first (so
the scenario's default GPU type is the biggest group). A model whose nodes have differing
GPU counts becomes one type per count, named ``<model>-<count>`` (``V100M16-8``), since a
GPU type has one gpus_per_node in a scenario. Nodes without GPUs are skipped (counted in
``notes["cpu_only_nodes"]``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sim.workload.jobs import ANY_GPU_TYPE
from sim.workload.readers.common import Columns, Drops, TraceResult, csv_rows, fail, integer, number

POD_COLUMNS = ("name", "num_gpu", "gpu_milli", "creation_time", "deletion_time", "scheduled_time")
NODE_COLUMNS = ("sn", "gpu", "model")
NONE = ("", "nan", "NaN", "None")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def read_openb(path: str | Path, nodes: str | Path | None = None) -> TraceResult:
    """The GPU pods of an openb pod list; with ``nodes``, the cluster its node list describes."""
    source = str(path)
    rows = []
    end = 0.0
    for line, row in csv_rows(path, POD_COLUMNS, source):
        creation = _time(row, "creation_time", source, line)
        deletion = _time(row, "deletion_time", source, line) if row["deletion_time"] else None
        scheduled = _time(row, "scheduled_time", source, line) if row["scheduled_time"] else None
        end = max(end, creation, deletion or 0.0, scheduled or 0.0)
        rows.append((line, row, creation, deletion, scheduled))
    columns = Columns(source, "creation_time")
    drops = Drops()
    rounded = alternatives = never_deleted = 0
    for line, row, creation, deletion, scheduled in rows:
        gpus = integer(row["num_gpu"], "num_gpu", source, line, "an integer >= 0", lambda v: v >= 0, "gpus")
        if gpus == 0:
            drops.add("no GPU")
            continue
        milli = integer(
            row["gpu_milli"], "gpu_milli", source, line, "an integer from 1 to 1000 for a GPU pod",
            lambda v: 1 <= v <= 1000,
        )  # fmt: skip
        if scheduled is None:
            drops.add("never scheduled")
            continue
        if deletion is None:
            deletion = end
            never_deleted += 1
        if deletion - scheduled <= 0:
            drops.add("run time <= 0")
            continue
        rounded += milli < 1000  # a share of one GPU still takes the whole GPU here
        spec = row.get("gpu_spec", "")
        models = [] if spec in NONE else [m.strip() for m in spec.split("|") if m.strip()]
        alternatives += len(models) > 1
        columns.add(
            line,
            row["name"],
            creation,
            gpus,
            deletion - scheduled,
            job_class=row.get("qos", ""),
            gpu_type="|".join(models) if models else ANY_GPU_TYPE,
            id_column="name",
        )
    jobs, offset = columns.table()
    notes: dict[str, Any] = {
        "time_offset": offset,
        "trace_end": end,
        "rounded_fractional": rounded,
        "gpu_spec_alternatives": alternatives,
        "never_deleted": never_deleted,
    }
    if nodes is not None:
        notes.update(read_nodes(nodes))
    return TraceResult(jobs, drops.counts, notes)


def _time(row: dict[str, str], column: str, source: str, line: int) -> float:
    return number(row[column], column, source, line, "a number of seconds >= 0", lambda v: v >= 0, "seconds")


def read_nodes(path: str | Path) -> dict[str, Any]:
    """``nodes``, ``node_gpus``, ``cpu_only_nodes`` and ``cluster`` (a scenario's pods) of a node list."""
    source = str(path)
    groups: dict[tuple[str, int], int] = {}
    seen: set[str] = set()
    cpu_only = 0
    for line, row in csv_rows(path, NODE_COLUMNS, source):
        name = row["sn"]
        if not name:
            raise fail("sn must not be empty (got '')", source, line, "sn")
        if name in seen:
            raise fail(f"sn must be unique (got {name!r} twice)", source, line, "sn")
        seen.add(name)
        gpus = integer(row["gpu"], "gpu", source, line, "an integer >= 0", lambda v: v >= 0, "gpus")
        if gpus == 0:
            cpu_only += 1
            continue
        if row["model"] in NONE:
            raise fail(
                f"model must name the GPU model of a GPU node (got {row['model']!r})", source, line, "model"
            )
        model = _UNSAFE.sub("_", row["model"])
        groups[model, gpus] = groups.get((model, gpus), 0) + 1
    counts: dict[str, int] = {}
    for model, _ in groups:
        counts[model] = counts.get(model, 0) + 1
    pods = [
        {
            "name": (gpu_type := model if counts[model] == 1 else f"{model}-{gpus}"),
            "nodes": n,
            "gpus_per_node": gpus,
            "gpu_type": gpu_type,
        }
        for (model, gpus), n in groups.items()
    ]
    pods.sort(key=lambda pod: (-pod["nodes"] * pod["gpus_per_node"], pod["name"]))
    return {
        "nodes": sum(groups.values()),
        "node_gpus": sum(n * gpus for (_, gpus), n in groups.items()),
        "cpu_only_nodes": cpu_only,
        "cluster": {"pods": pods},
    }
