"""EASY's quiet-pass cache (a pass after one that started nothing looks only at newcomers)
gives exactly the schedule of a full scan, also when a quota admits jobs late."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim
from sim.policies.scheduling.easy import Easy


def two_type_trace(path: Path, seed: int, jobs: int = 300) -> Path:
    rng = np.random.default_rng(seed)
    submit = np.sort(rng.uniform(0, 6000, jobs))
    duration = rng.exponential(400, jobs) + 1
    rows = ["job_id,submit_time,gpus,duration,requested_time,tenant,gpu_type"]
    for i in range(jobs):
        gpus, factor = rng.choice([1, 2, 4, 8]), rng.uniform(1, 3)
        tenant, gpu_type = rng.integers(0, 3), "A" if rng.random() < 0.5 else "B"
        times = f"{submit[i]:.0f},{gpus},{duration[i]:.0f},{duration[i] * factor:.0f}"
        rows.append(f"j{i},{times},t{tenant},{gpu_type}")
    path.write_text("\n".join(rows) + "\n")
    return path


def scenario(trace: Path) -> dict[str, Any]:
    pods = [
        {"name": "a", "nodes": 4, "gpus_per_node": 4, "gpu_type": "A"},
        {"name": "b", "nodes": 4, "gpus_per_node": 4, "gpu_type": "B"},
    ]
    return {
        "name": "cache",
        "cluster": {"pods": pods},
        "workload": {"trace": {"path": str(trace)}},
        "scheduler": "easy",
        # At most 12 GPUs per tenant: a B job ending admits a waiting A job numbered below
        # the queue's last job but above its own type's.
        "quota": {"name": "caps", "params": {"per_tenant": 12}},
    }


@pytest.mark.parametrize("seed", range(4))
def test_the_cache_gives_the_full_scans_schedule_under_late_admission(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = two_type_trace(tmp_path / "trace.csv", seed)
    cached = [(job.job_id, job.start_time) for job in sim.run(scenario(trace)).jobs]
    select = Easy.select

    def full_scan(self: Easy, ctx: Any) -> None:
        self._quiet = {}  # forget the last pass: every pass scans the whole queue
        select(self, ctx)

    monkeypatch.setattr(Easy, "select", full_scan)
    full = [(job.job_id, job.start_time) for job in sim.run(scenario(trace)).jobs]
    assert sum(start == start for _, start in full) > 250  # most jobs ran
    assert cached == full
