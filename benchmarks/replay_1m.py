"""Replay 1,000,000 synthetic jobs on the Munich cluster and time the engine.

The cluster is munich.yaml's: 14 pods of 90 nodes x 8 GPUs = 10,080 GPUs (10 pods of B200,
4 of RTXPRO6000). The workload is one B200 stream and one RTX stream with munich.yaml's
GPU-count and duration laws, each at offered load 0.8 (``--load`` changes it). The arrival
window is chosen so that the expected job count is ``--jobs``: arrivals_for = jobs / (sum
of the streams' arrival rates). There is no horizon: every job runs to completion.

For each scheduler, each of ``--repeat`` runs happens in a fresh process (so peak RSS is
that run's own) and measures:

* build: workload generation (``build_jobs``), seconds;
* sim: ``Engine(...).run()`` only, seconds, and jobs/s = jobs / sim (no writing, no metrics);
* peak RSS: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of that process at the end.

The figures printed are the medians over the runs. A bare reference (reference, not
gpusim) replays the same jobs with a minimal heapq FIFO loop that only counts free GPUs
per GPU type (no nodes, no SimPy); "x ref" is gpusim's sim time over the reference's.

    python benchmarks/replay_1m.py                       # 1M jobs, fifo and easy, 3 runs each
    python benchmarks/replay_1m.py --jobs 100000 --repeat 1 --schedulers fifo
"""

from __future__ import annotations

import argparse
import concurrent.futures
import heapq
import math
import multiprocessing
import resource
import statistics
import sys
import time
from collections import deque
from pathlib import Path

from sim.cluster.state import ClusterLayout
from sim.engine.core import Engine
from sim.policies import PLACEMENTS, SCHEDULERS
from sim.scenario import Scenario, load_scenario
from sim.workload.build import build_jobs
from sim.workload.jobs import JobTable
from sim.workload.synthetic import arrival_rate

LOAD = 0.8
REFERENCE = "reference"


SCENARIO = Path(__file__).resolve().parent / "replay-1m.yaml"


def scenario_with(scheduler: str, arrivals_for: float, seed: int, load: float) -> Scenario:
    """benchmarks/replay-1m.yaml with the scheduler, window, seed and per-stream load set."""
    return load_scenario(
        SCENARIO,
        [
            f"scheduler={scheduler}",
            f"seed={seed}",
            f"workload.synthetic.arrivals_for={arrivals_for!r}",
            f"workload.synthetic.streams.0.load={load!r}",
            f"workload.synthetic.streams.1.load={load!r}",
        ],
    )


def make_scenario(scheduler: str, jobs: int, seed: int, load: float = LOAD) -> Scenario:
    """The scenario whose arrival window makes the expected job count ``jobs``."""
    probe = scenario_with(scheduler, 1.0, seed, load)
    layout = ClusterLayout.from_scenario(probe.cluster)
    assert probe.workload.synthetic is not None
    rate = sum(arrival_rate(s, layout, s.gpu_type or "") for s in probe.workload.synthetic.streams)
    return scenario_with(scheduler, jobs / rate, seed, load)


def peak_rss_mb() -> float:
    """This process's peak resident set size, MB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def reference_fifo(jobs: JobTable, layout: ClusterLayout) -> list[float]:
    """Start times under strict FIFO with free GPUs counted per type: reference, not gpusim.

    Same rules as gpusim's fifo at one instant (completions, then arrivals, then start heads
    while they fit), but no nodes: a job needs its allocated GPUs (whole nodes rounded up)
    from its type's pool. A heap of completions; no SimPy, no records.
    """
    types = {gpu_type: k for k, gpu_type in enumerate(layout.gpu_types)}
    capacity = [layout.capacity_by_type[gpu_type] for gpu_type in layout.gpu_types]
    kind = [types[gpu_type] for gpu_type in jobs.gpu_type]
    need = [layout.allocated_gpus(g, t) for g, t in zip(jobs.gpus, jobs.gpu_type, strict=True)]
    submit, duration = jobs.submit, jobs.duration
    n = len(submit)
    start = [math.nan] * n
    free = list(capacity)
    ends: list[tuple[float, int]] = []
    queue: deque[int] = deque()
    i = 0
    while i < n or ends:
        now = submit[i] if i < n else math.inf
        if ends and ends[0][0] < now:
            now = ends[0][0]
        while ends and ends[0][0] == now:
            job = heapq.heappop(ends)[1]
            free[kind[job]] += need[job]
        while i < n and submit[i] == now:
            if need[i] <= capacity[kind[i]]:
                queue.append(i)
            i += 1
        while queue and need[queue[0]] <= free[kind[queue[0]]]:
            job = queue.popleft()
            free[kind[job]] -= need[job]
            start[job] = now
            heapq.heappush(ends, (now + duration[job], job))
    return start


def mean_wait(jobs: JobTable, start: list[float]) -> float:
    waits = [s - t for s, t in zip(start, jobs.submit, strict=True) if not math.isnan(s)]
    return sum(waits) / len(waits) if waits else math.nan


def one_run(engine_name: str, jobs: int, seed: int, load: float) -> dict[str, float]:
    """Build the workload and simulate it once, in this (fresh) process; return the figures."""
    scheduler = "fifo" if engine_name == REFERENCE else engine_name
    scenario = make_scenario(scheduler, jobs, seed, load)
    layout = ClusterLayout.from_scenario(scenario.cluster)
    began = time.perf_counter()
    table = build_jobs(scenario, layout)
    build = time.perf_counter() - began
    if engine_name == REFERENCE:
        began = time.perf_counter()
        start = reference_fifo(table, layout)
        sim = time.perf_counter() - began
    else:
        engine = Engine(
            layout,
            table,
            SCHEDULERS.create(scenario.scheduler.name, scenario.scheduler.params),
            PLACEMENTS.create(scenario.placement.name, scenario.placement.params),
            horizon=scenario.horizon,
            sample_interval=scenario.metrics.sample_interval,
        )
        began = time.perf_counter()
        records = engine.run()
        sim = time.perf_counter() - began
        start = [record.start_time for record in records.jobs]
    return {
        "jobs": len(table),
        "build_s": build,
        "sim_s": sim,
        "peak_rss_mb": peak_rss_mb(),
        "mean_wait_s": mean_wait(table, start),
    }


def measure(engine_name: str, jobs: int, seed: int, load: float, repeat: int) -> dict[str, float]:
    """Medians over ``repeat`` runs, each in a new process (spawned, so nothing is inherited)."""
    context = multiprocessing.get_context("spawn")
    runs = []
    for _ in range(repeat):
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
            runs.append(pool.submit(one_run, engine_name, jobs, seed, load).result())
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    median["jobs_per_s"] = statistics.median(run["jobs"] / run["sim_s"] for run in runs)
    return median


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000, help="expected job count (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scheduler; medians are shown")
    parser.add_argument("--schedulers", default="fifo,easy", help="comma-separated (default fifo,easy)")
    parser.add_argument("--seed", type=int, default=1, help="scenario seed (default 1)")
    parser.add_argument(
        "--load", type=float, default=LOAD, help=f"offered load of each stream (default {LOAD})"
    )
    parser.add_argument("--no-reference", action="store_true", help="skip the bare heapq FIFO reference")
    args = parser.parse_args(argv)
    schedulers = [name.strip() for name in args.schedulers.split(",") if name.strip()]
    unknown = [name for name in schedulers if name not in SCHEDULERS.names()]
    if unknown or not schedulers:
        valid = ", ".join(SCHEDULERS.names())
        parser.error(f"--schedulers must name some of {valid} (got {args.schedulers!r})")
    if args.jobs <= 0 or args.repeat <= 0 or not 0 < args.load <= 100:
        parser.error("--jobs and --repeat must be > 0, --load in (0, 100]")

    scenario = make_scenario(schedulers[0], args.jobs, args.seed, args.load)
    layout = ClusterLayout.from_scenario(scenario.cluster)
    assert scenario.workload.synthetic is not None
    window = scenario.workload.synthetic.arrivals_for
    print(
        f"replay: ~{args.jobs:,} jobs arriving over {window / 86400:.2f} days, "
        f"load {args.load} per GPU type, "
        f"{layout.capacity:,} GPUs ({', '.join(f'{c:,} {t}' for t, c in layout.capacity_by_type.items())}), "
        f"{len(layout.pods)} pods; median of {args.repeat} run(s), each in a fresh process"
    )
    rows: list[tuple[str, dict[str, float]]] = []
    engines = schedulers + ([] if args.no_reference else [REFERENCE])
    for name in engines:
        label = "reference, not gpusim (heapq FIFO, GPUs counted per type)" if name == REFERENCE else name
        figures = measure(name, args.jobs, args.seed, args.load, args.repeat)
        rows.append((name, figures))
        print(
            f"{label}: {figures['jobs']:,.0f} jobs, sim {figures['sim_s']:.2f} s "
            f"({figures['jobs_per_s']:,.0f} jobs/s), build {figures['build_s']:.2f} s, "
            f"peak RSS {figures['peak_rss_mb']:,.0f} MB, mean wait {figures['mean_wait_s']:.2f} s",
            flush=True,
        )

    reference = dict(rows).get(REFERENCE)
    print()
    print("| engine | jobs | sim s | jobs/s | build s | peak RSS MB | mean wait s | x ref |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, f in rows:
        label = "reference (not gpusim): heapq FIFO" if name == REFERENCE else f"gpusim {name}"
        ratio = f"{f['sim_s'] / reference['sim_s']:.2f}" if reference else "-"
        print(
            f"| {label} | {f['jobs']:,.0f} | {f['sim_s']:.2f} | {f['jobs_per_s']:,.0f} | {f['build_s']:.2f} "
            f"| {f['peak_rss_mb']:,.0f} | {f['mean_wait_s']:.2f} | {ratio} |"
        )
    if reference:
        print("\nx ref = gpusim sim time / reference sim time; the reference is FIFO only.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
