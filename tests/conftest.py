"""Shared fixtures for the queueing, flat-pool and determinism tests.

``replay`` writes a job trace as a canonical CSV in a temporary directory and runs it on a
flat pool (one GPU per node). It is session-scoped and needs no ``tmp_path``, so
Hypothesis tests can use it too.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

import sim

Replay = Callable[..., sim.Result]


def flat_scenario(
    trace: Path, pods: Sequence[int], scheduler: str, sample_interval: float = 3600.0
) -> dict[str, Any]:
    """A scenario replaying ``trace`` on pods of ``pods[i]`` one-GPU nodes each."""
    return {
        "name": "flat",
        "cluster": {
            "pods": [
                {"name": f"pool{i}", "nodes": nodes, "gpus_per_node": 1, "gpu_type": "g"}
                for i, nodes in enumerate(pods)
            ]
        },
        "workload": {"trace": {"path": str(trace)}},
        "scheduler": scheduler,
        "metrics": {"sample_interval": sample_interval},
    }


def write_csv(
    path: Path,
    submit: Sequence[float],
    gpus: Sequence[int],
    duration: Sequence[float],
    requested: Sequence[float] | None = None,
) -> None:
    """Jobs ``j0, j1, ...`` as a canonical trace CSV; floats as repr, so they read back exactly."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["job_id", "submit_time", "gpus", "duration", "requested_time"])
        for i in range(len(submit)):
            estimate = "" if requested is None else repr(float(requested[i]))
            writer.writerow(
                [f"j{i}", repr(float(submit[i])), int(gpus[i]), repr(float(duration[i])), estimate]
            )


@pytest.fixture(scope="session")
def replay() -> Replay:
    """``replay(submit, gpus, duration, requested=None, *, pods=(n,), scheduler=, sample_interval=)``.

    Runs the jobs (in the given row order) on a flat pool; returns the ``sim.Result``.
    """

    def run(
        submit: Sequence[float],
        gpus: Sequence[int],
        duration: Sequence[float],
        requested: Sequence[float] | None = None,
        *,
        pods: Sequence[int],
        scheduler: str = "fifo",
        sample_interval: float = 3600.0,
    ) -> sim.Result:
        with tempfile.TemporaryDirectory() as folder:
            trace = Path(folder) / "trace.csv"
            write_csv(trace, submit, gpus, duration, requested)
            return sim.run(flat_scenario(trace, pods, scheduler, sample_interval))

    return run
