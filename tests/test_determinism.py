"""Determinism: same scenario + seed => same bytes; schedulers share one workload (common random numbers).

The scenario is scenarios/munich.yaml shrunk to one day on three pods (two B200, one RTX
PRO 6000): the same two synthetic streams, loads, estimate factors and policies.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

import sim

OUTPUTS = ("jobs.csv", "summary.json", "timeseries.csv")

SMALL_MUNICH = Path(__file__).resolve().parent / "data" / "small-munich.yaml"


def scenario(**changes: Any) -> dict[str, Any]:
    """The small two-class factory with top-level keys replaced."""
    return {**yaml.safe_load(SMALL_MUNICH.read_text(encoding="utf-8")), **changes}


def workload(result: sim.Result) -> list[tuple[Any, ...]]:
    """What the workload builder decided for every job, in queue order."""
    return [
        (
            job.job_id,
            job.tenant,
            job.job_class,
            job.gpu_type,
            job.submit_time,
            job.gpus,
            job.duration,
            job.requested_time,
        )
        for job in result.jobs
    ]


def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    """Running one scenario and seed twice writes byte-identical jobs.csv, summary.json, timeseries.csv."""
    first = sim.run(scenario(), out=tmp_path / "first", plots=False)
    sim.run(scenario(), out=tmp_path / "second", plots=False)
    assert first.summary["jobs"]["total"] > 1_000
    for name in OUTPUTS:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes(), name


def test_schedulers_see_the_identical_workload() -> None:
    """fifo and easy on one scenario and seed get the same jobs (ids, times, sizes, estimates)."""
    fifo = sim.run(scenario(scheduler="fifo"))
    easy = sim.run(scenario(scheduler="easy"))
    assert workload(fifo) == workload(easy)
    assert len(workload(fifo)) > 1_000
    # The schedules themselves differ, so the runs really were different.
    assert [job.start_time for job in fifo.jobs] != [job.start_time for job in easy.jobs]


def test_different_seed_gives_a_different_workload() -> None:
    """Seeds 1 and 2 give different jobs: almost no submit time of one occurs in the other."""
    one = sim.run(scenario(seed=1))
    two = sim.run(scenario(seed=2))
    submits_one = {job.submit_time for job in one.jobs}
    shared = sum(job.submit_time in submits_one for job in two.jobs)
    assert shared == 0
    assert [job.duration for job in one.jobs[:100]] != [job.duration for job in two.jobs[:100]]


def test_separate_processes_write_identical_bytes(tmp_path: Path) -> None:
    """`python -m sim run` in two processes with different PYTHONHASHSEED (so set and str-keyed
    dict orders differ between them) writes the same jobs.csv, segments.csv, summary.json,
    timeseries.csv, bills.csv and manifest.json (but for its wall time) bytes."""
    path = tmp_path / "munich-small.yaml"
    path.write_text(yaml.safe_dump(scenario()), encoding="utf-8")
    names = (*OUTPUTS, "segments.csv", "bills.csv")
    digests: list[dict[str, str]] = []
    manifests = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"run-hashseed-{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        completed = subprocess.run(
            [sys.executable, "-m", "sim", "run", str(path), "--out", str(out), "--quiet"],
            capture_output=True,
            text=True,
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
            timeout=300,
        )
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout == ""
        digests.append({name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in names})
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert manifest.pop("wall_time_s") > 0
        manifests.append(manifest)
    assert digests[0] == digests[1]
    assert manifests[0] == manifests[1] and manifests[0]["complete"] is True
    assert manifests[0]["jobs"] > 1_000
