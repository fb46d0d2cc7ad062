"""Benchmark (d): a 450,000-job SWF-sized replay under easy, end to end.

Tiles the Lublin-256 log (../shared/traces/swf/lublin_256.swf, 10,000 jobs over 89 days) 45
times, copy k shifted by k x 105 days (EASY drains one copy in 101 days, so copies do not
pile up), into one SWF file in a temporary folder; then times ``gpusim``'s whole path on
it: read the SWF, simulate EASY on the 256-GPU flat pool, write the results (no plots).
Prints the median of ``--repeat`` runs of each phase and the jobs/s of the simulation.

    python benchmarks/replay_swf.py [--copies 45] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sim.api import simulate
from sim.metrics import summarize
from sim.report import write_results
from sim.scenario import scenario_from_data

LUBLIN = Path(__file__).resolve().parents[1].parent / "shared" / "traces" / "swf" / "lublin_256.swf"


def tiled_swf(source: Path, copies: int, out: Path) -> int:
    """Write ``copies`` back-to-back copies of an SWF log's job lines to ``out``; returns the job count."""
    header, rows = [], []
    for line in source.read_text().splitlines():
        (header if line.startswith(";") else rows).append(line)
    fields = [row.split() for row in rows if row.strip()]
    span = 105 * 86400
    with out.open("w") as handle:
        handle.write("\n".join(header) + "\n")
        for copy in range(copies):
            for number, f in enumerate(fields):
                f = list(f)
                f[0] = str(copy * len(fields) + number + 1)
                f[1] = str(int(f[1]) + copy * span)
                handle.write(" ".join(f) + "\n")
    return copies * len(fields)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=45, help="copies of the Lublin log (45 = 450,000 jobs)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians are shown")
    args = parser.parse_args(argv)
    if not LUBLIN.is_file():
        print(f"replay_swf: {LUBLIN} not found (../shared/traces/swf/lublin_256.swf)", file=sys.stderr)
        return 2
    times: dict[str, list[float]] = {"load+simulate": [], "write": [], "total": []}
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "tiled.swf"
        jobs = tiled_swf(LUBLIN, args.copies, log)
        for run in range(args.repeat):
            scenario = scenario_from_data(
                {
                    "name": "swf-450k",
                    "cluster": {
                        "pods": [{"name": "pool", "nodes": 256, "gpus_per_node": 1, "gpu_type": "cpu"}]
                    },
                    "workload": {"trace": {"path": str(log), "format": "swf"}},
                    "scheduler": "easy",
                    "metrics": {"sample_interval": "1d"},
                }
            )
            began = time.perf_counter()
            records = simulate(scenario)
            simulated = time.perf_counter()
            summary = summarize(records)
            write_results(Path(folder) / f"out{run}", scenario=scenario, records=records, summary=summary,
                          manifest={}, plots=False)  # fmt: skip
            done = time.perf_counter()
            times["load+simulate"].append(simulated - began)
            times["write"].append(done - simulated)
            times["total"].append(done - began)
            print(
                f"run {run + 1}: {done - began:.2f} s, mean wait {summary['wait']['mean']:.0f} s",
                file=sys.stderr,
            )
    median = {phase: statistics.median(values) for phase, values in times.items()}
    print("| jobs | load+simulate s | jobs/s | metrics+write s | total s |\n|---:|---:|---:|---:|---:|")
    print(
        f"| {jobs:,} | {median['load+simulate']:.2f} | {jobs / median['load+simulate']:,.0f} | "
        f"{median['write']:.2f} | {median['total']:.2f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
