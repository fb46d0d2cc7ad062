"""Benchmark (c): a shipped scenario end to end, phase by phase (default: munich.yaml, 28 days).

Times what ``gpusim run`` does, in one process per run: build the workload, simulate,
evaluate the inference SLOs, summarise, write the results directory (no plots unless
``--plots``). Prints the median of ``--repeat`` runs of each phase, the jobs/s of the
simulation and the peak RSS.

    python benchmarks/run_scenario.py [SCENARIO] [--repeat 3] [--set dotted.path=value ...]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1] / "scenarios" / "munich.yaml"


def one_run(scenario: str, settings: list[str], plots: bool) -> dict[str, float]:
    """Run once in this process and return the phase times (seconds), job count and peak RSS."""
    from sim.api import resolve, run_workload
    from sim.cluster.state import ClusterLayout
    from sim.metrics import summarize
    from sim.metrics.slo import evaluate
    from sim.report import write_results
    from sim.workload.build import build_workload

    overrides = dict(setting.split("=", 1) for setting in settings)
    phases: dict[str, float] = {}
    began = time.perf_counter()
    resolved = resolve(scenario, overrides)
    layout = ClusterLayout.from_scenario(resolved.cluster)
    workload = build_workload(resolved, layout)
    phases["build"] = time.perf_counter() - began
    mark = time.perf_counter()
    records = run_workload(resolved, layout, workload)
    phases["simulate"] = time.perf_counter() - mark
    mark = time.perf_counter()
    services = evaluate(records)
    summary = summarize(records, services, resolved)
    phases["metrics"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        write_results(
            Path(folder) / "run",
            scenario=resolved,
            records=records,
            summary=summary,
            manifest={},
            plots=plots,
            services=services,
        )
    phases["write"] = time.perf_counter() - mark
    phases["total"] = time.perf_counter() - began
    phases["jobs"] = len(records.jobs)
    phases["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return phases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(DEFAULT))
    parser.add_argument("--repeat", type=int, default=3, help="runs, each in a fresh process; medians shown")
    parser.add_argument("--set", action="append", default=[], help="dotted.path=value override")
    parser.add_argument("--plots", action="store_true", help="also draw the plots")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(one_run(args.scenario, args.set, args.plots)))
        return 0
    runs = []
    for _ in range(args.repeat):
        command = [sys.executable, __file__, args.scenario, "--child", *(f"--set={s}" for s in args.set)]
        if args.plots:
            command.append("--plots")
        result = subprocess.run(command, check=True, capture_output=True, text=True)
        runs.append(json.loads(result.stdout))
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    print(f"{args.scenario}: {int(median['jobs']):,} jobs, median of {len(runs)} runs")
    for phase in ("build", "simulate", "metrics", "write", "total"):
        print(f"  {phase:<9} {median[phase]:7.2f} s")
    print(f"  jobs/s    {median['jobs'] / median['simulate']:9,.0f} (simulation phase)")
    print(f"  peak RSS  {median['rss_mb']:7.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
