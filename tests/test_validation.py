"""Validation against published results on real traces (../shared/traces; skipped if absent)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import sim

TRACES = Path(__file__).resolve().parents[1].parent / "shared" / "traces"
LUBLIN = TRACES / "swf" / "lublin_256.swf"


def swf_replay(path: Path, processors: int, scheduler: str) -> dict[str, Any]:
    """Summary of an SWF log replayed on a flat pool of ``processors`` GPUs."""
    if not path.is_file():
        pytest.skip(f"{path} not found (../shared/traces is not beside the repository)")
    pool = {"name": "pool", "nodes": processors, "gpus_per_node": 1, "gpu_type": "cpu"}
    scenario = {
        "name": "swf",
        "cluster": {"pods": [pool]},
        "workload": {"trace": {"path": str(path), "format": "swf"}},
        "scheduler": scheduler,
    }
    return sim.run(scenario).summary


def test_lublin_easy_cuts_bounded_slowdown_tenfold_and_raises_utilisation() -> None:
    """Lublin-256 on 256 processors: easy's mean bounded slowdown (tau 10 s) is > 10x below fifo's,
    and its utilisation higher (measured: 66,502 vs 590, i.e. 113x; utilisation 0.655 vs 0.936)."""
    fifo, easy = swf_replay(LUBLIN, 256, "fifo"), swf_replay(LUBLIN, 256, "easy")
    assert fifo["bounded_slowdown"]["mean"] > 10 * easy["bounded_slowdown"]["mean"]
    assert easy["utilisation"] > fifo["utilisation"]


PHILLY = TRACES / "philly" / "pollux_philly_jobs.csv"


def philly_waits(cluster: str) -> dict[str, float]:
    """Mean queueing delay per scheduler for one Philly virtual cluster, offered load 0.8.

    A VC's GPU count is not in the trace: it is sized so that its jobs keep 80% of it busy
    on average, ``max(largest job, ceil(GPU-hours * 3600 / trace span / 0.8))``.
    """
    from sim.workload.readers import read_trace

    if not PHILLY.is_file():
        pytest.skip(f"{PHILLY} not found (../shared/traces is not beside the repository)")
    trace = read_trace(PHILLY, "philly")
    vc = trace.notes["clusters"][cluster]
    capacity = max(vc["max_gpus"], math.ceil(vc["gpu_hours"] * 3600 / max(trace.jobs.submit) / 0.8))
    waits = {}
    for scheduler in ("fifo", "sjf", "srtf"):
        scenario = {
            "name": "philly",
            "cluster": {"pods": [{"name": "vc", "nodes": capacity, "gpus_per_node": 1, "gpu_type": "gpu"}]},
            "workload": {"trace": {"path": str(PHILLY), "format": "philly", "options": {"cluster": cluster}}},
            "scheduler": scheduler,
        }
        waits[scheduler] = sim.run(scenario).summary["wait"]["mean"]
    return waits


@pytest.mark.parametrize("cluster", ["11cb48", "103959"])
def test_philly_srtf_beats_sjf_beats_fifo(cluster: str) -> None:
    """Philly VCs 11cb48 (16,091 jobs, 16 GPUs) and 103959 (1,934 jobs, 21 GPUs): mean wait
    srtf < sjf < fifo, as the Helios study reports on Philly (measured 2,614 < 20,580 < 1,633,981 s
    and 53,225 < 66,805 < 725,335 s)."""
    waits = philly_waits(cluster)
    assert waits["srtf"] < waits["sjf"] < waits["fifo"]


@pytest.mark.slow
@pytest.mark.parametrize("cluster", ["6214e9", "6c71a0", "b436b2", "ee9e8c", "0e4a51", "ed69ec", "7f04ca"])
def test_philly_srtf_beats_sjf_beats_fifo_on_every_large_vc(cluster: str) -> None:
    """The same order on every other VC with >= 500 jobs (about 65 s in all)."""
    waits = philly_waits(cluster)
    assert waits["srtf"] < waits["sjf"] < waits["fifo"]
