"""Benchmark: how much faster a sweep runs on two workers than on one.

A sweep of 24 cells (12 training loads 0.40-0.95 x schedulers fifo and easy, one
replication each) over a flat pool of 128 GPUs fed 2-minute jobs of 1-2 GPUs for one day,
about 35,000 jobs a run. Each executor runs the whole sweep ``--repeat`` times into a fresh
directory (so nothing is skipped); the figure is the median wall time of ``run_sweep``
(planning excluded, writing every cell and sweep.csv included):

    local, 1 worker    the runs one after another in this process
    local, 2 workers   a process pool of two
    dask local, 2      a Dask LocalCluster of two single-threaded workers, started and
                       stopped inside the timing (with --dask; needs dask[distributed])

    python benchmarks/sweep_speedup.py [--repeat 3] [--dask]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from sim.sweep import make_plan, read_sweep, run_sweep

LOADS = [0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]

SWEEP = {
    "name": "speedup",
    "base": {
        "name": "pool",
        "horizon": "1d",
        "cluster": {"pods": [{"name": "p", "nodes": 128, "gpus_per_node": 1, "gpu_type": "G"}]},
        "workload": {
            "synthetic": {
                "streams": [
                    {
                        "name": "s",
                        "load": 0.8,
                        "gpus": {1: 0.7, 2: 0.3},
                        "duration": {"median": 120, "sigma": 1},
                    }
                ]
            }
        },
    },
    "axes": {"workload.synthetic.streams.0.load": LOADS, "scheduler": ["fifo", "easy"]},
    "warmup": "1h",
}


def timed(folder: Path, plan_path: Path, label: str, workers: int, dask: str | None) -> float:
    """Wall seconds of one whole sweep into a fresh directory."""
    plan = make_plan(read_sweep(plan_path))
    out = folder / f"{label.replace(' ', '-')}-{time.monotonic_ns()}"
    began = time.perf_counter()
    result = run_sweep(plan, out, workers=workers, dask=dask)
    wall = time.perf_counter() - began
    if len(result.ran) != len(plan.runs):
        raise RuntimeError(f"{label}: ran {len(result.ran)} of {len(plan.runs)} runs")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per executor (default 3)")
    parser.add_argument("--dask", action="store_true", help="also time a Dask LocalCluster of 2 workers")
    args = parser.parse_args()
    executors = [("local, 1 worker", 1, None), ("local, 2 workers", 2, None)]
    if args.dask:
        executors.append(("dask local, 2 workers", 2, "local"))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        plan_path = folder / "speedup.yaml"
        plan_path.write_text(yaml.safe_dump(SWEEP, sort_keys=False), encoding="utf-8")
        runs = len(make_plan(read_sweep(plan_path)).runs)
        print(f"{runs} cells x 1 replication, median of {args.repeat} runs each")
        medians: dict[str, float] = {}
        for label, workers, dask in executors:
            walls = [timed(folder, plan_path, label, workers, dask) for _ in range(args.repeat)]
            medians[label] = statistics.median(walls)
            shown = ", ".join(f"{w:.1f}" for w in walls)
            print(f"  {label:<24} {medians[label]:6.1f} s   (runs: {shown} s)")
    base = medians["local, 1 worker"]
    for label, wall in medians.items():
        if label != "local, 1 worker":
            print(f"speed-up of {label} over local, 1 worker: {base / wall:.2f}x")


if __name__ == "__main__":
    main()
