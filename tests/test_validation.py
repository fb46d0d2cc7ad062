"""Validation against published results on real traces (../shared/traces; skipped if absent)."""

from __future__ import annotations

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
