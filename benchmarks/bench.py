"""gpusim's speed and memory on the standard cases; medians of runs in fresh processes.

Cases (``--cases``, default all):

    a   1,000,000 synthetic jobs on the Munich cluster (10,080 GPUs), load 0.8: fifo, easy
    b   the same at load 0.95 (long queues: backfilling works): fifo, easy
    c   scenarios/munich.yaml for 28 days, every job class, its own policies
    d   a 450,000-job SWF replay (the Lublin-256 log tiled 45 times), easy

For every run: the jobs, the simulation phase (``Engine.run``: the events and the records;
jobs/s = jobs / that time), the end-to-end wall time (scenario load + workload build +
simulate + metrics + writing the results directory without plots) and the process's peak
RSS. For (a) and (b) a bare heapq FIFO loop (``reference_fifo.py``; reference, not gpusim)
runs over the same jobs; it makes the same decisions, and the script checks that its start
times equal gpusim fifo's. ``speed vs ref`` = reference time / gpusim time (1 = as fast),
the median of that ratio over the rounds: the runs go in rounds, every run once a round, so
a drift in the machine's speed falls on all engines alike.

    python benchmarks/bench.py                        # everything, median of 3 (~15 minutes)
    python benchmarks/bench.py --cases a --jobs 100000 --repeat 1    # a quick look
    python benchmarks/bench.py --scaling              # the README's scaling curves
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gc
import hashlib
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPLAY = HERE / "replay-1m.yaml"
MUNICH = HERE.parent / "scenarios" / "munich.yaml"
LUBLIN = HERE.parent.parent / "shared" / "traces" / "swf" / "lublin_256.swf"
REFERENCE = "reference"


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def replay_settings(jobs: int, load: float, scheduler: str, gpus_scale: float = 1.0) -> list[str]:
    """Overrides of replay-1m.yaml: the scheduler, each stream's load, the window for ~``jobs`` jobs."""
    from sim.cluster.state import ClusterLayout
    from sim.scenario import load_scenario
    from sim.workload.synthetic import arrival_rate

    settings = [f"scheduler={scheduler}", *(f"workload.synthetic.streams.{k}.load={load!r}" for k in (0, 1))]
    if gpus_scale != 1.0:
        settings += [f"cluster.pods.{k}.nodes={round(90 * gpus_scale)}" for k in (0, 1)]
    probe = load_scenario(REPLAY, settings)
    layout = ClusterLayout.from_scenario(probe.cluster)
    assert probe.workload.synthetic is not None
    rate = sum(arrival_rate(s, layout, s.gpu_type or "") for s in probe.workload.synthetic.streams)
    return [*settings, f"workload.synthetic.arrivals_for={jobs / rate!r}"]


def tiled_swf(copies: int, out: Path) -> None:
    """``copies`` copies of the Lublin-256 log back to back, copy k shifted by k x 105 days."""
    header, rows = [], []
    for line in LUBLIN.read_text().splitlines():
        (header if line.startswith(";") else rows).append(line)
    fields = [row.split() for row in rows if row.strip()]
    with out.open("w") as handle:
        handle.write("\n".join(header) + "\n")
        for copy in range(copies):
            for number, f in enumerate(fields):
                f = [str(copy * len(fields) + number + 1), str(int(f[1]) + copy * 105 * 86400), *f[2:]]
                handle.write(" ".join(f) + "\n")


def swf_scenario(path: Path) -> dict[str, Any]:
    return {
        "name": "swf-450k",
        "cluster": {"pods": [{"name": "pool", "nodes": 256, "gpus_per_node": 1, "gpu_type": "cpu"}]},
        "workload": {"trace": {"path": str(path), "format": "swf"}},
        "scheduler": "easy",
        "metrics": {"sample_interval": "1d"},
    }


def schedule_hash(starts: list[float]) -> str:
    return hashlib.sha256(repr(starts).encode()).hexdigest()[:12]


def one_run(scenario: Any, settings: list[str], engine: str) -> dict[str, Any]:
    """Load, build, simulate, summarise and write once in this (fresh) process; the figures."""
    from sim.api import resolve, run_workload
    from sim.cluster.state import ClusterLayout
    from sim.metrics import summarize
    from sim.metrics.columns import shared
    from sim.metrics.slo import evaluate
    from sim.report import write_results
    from sim.workload.build import build_workload

    began = time.perf_counter()
    resolved = resolve(scenario, dict(s.split("=", 1) for s in settings))
    layout = ClusterLayout.from_scenario(resolved.cluster)
    workload = build_workload(resolved, layout)
    built = time.perf_counter()
    if engine == REFERENCE:
        sys.path.insert(0, str(HERE))
        from reference_fifo import reference_fifo

        collecting = gc.isenabled()
        gc.disable()  # as gpusim's engine does during a run: the loop makes no cycles
        try:
            records = reference_fifo(workload.jobs, layout)
        finally:
            if collecting:
                gc.enable()
        simulated = time.perf_counter()
        return {
            "jobs": len(records),
            "sim_s": simulated - built,
            "total_s": simulated - began,
            "rss_mb": peak_rss_mb(),
            "schedule": schedule_hash([r[0] for r in records]),
        }
    records = run_workload(resolved, layout, workload)
    simulated = time.perf_counter()
    with shared(records), tempfile.TemporaryDirectory() as folder:  # as sim.run does
        services = evaluate(records)
        summary = summarize(records, services, resolved)
        write_results(Path(folder) / "run", scenario=resolved, records=records, summary=summary,
                      manifest={}, plots=False, services=services)  # fmt: skip
    done = time.perf_counter()
    return {
        "jobs": len(records.jobs),
        "sim_s": simulated - built,
        "total_s": done - began,
        "rss_mb": peak_rss_mb(),
        "schedule": schedule_hash([r.start_time for r in records.jobs]),
    }


def fresh_run(scenario: Any, settings: list[str], engine: str) -> dict[str, Any]:
    """``one_run`` in a new spawned process (its own peak RSS)."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(one_run, scenario, settings, engine).result()


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over ``runs`` (of one case and engine)."""
    median = {
        key: statistics.median(run[key] for run in runs) for key in ("jobs", "sim_s", "total_s", "rss_mb")
    }
    median["jobs_per_s"] = median["jobs"] / median["sim_s"]
    median["schedule"] = runs[0]["schedule"]
    return median


def measure(scenario: Any, settings: list[str], engine: str, repeat: int) -> dict[str, Any]:
    """Medians over ``repeat`` runs, each in a new spawned process."""
    return medians([fresh_run(scenario, settings, engine) for _ in range(repeat)])


def speed_vs(reference: list[dict[str, Any]], runs: list[dict[str, Any]]) -> float:
    """The median over rounds of the reference's sim time / the engine's in the same round."""
    return statistics.median(r["sim_s"] / g["sim_s"] for r, g in zip(reference, runs, strict=True))


def cases(args: argparse.Namespace, folder: Path) -> list[tuple[str, str, Any, list[str]]]:
    """(case, engine, scenario, settings) for every requested run."""
    runs: list[tuple[str, str, Any, list[str]]] = []
    for case, load in (("a", 0.8), ("b", 0.95)):
        if case in args.cases:
            for engine in ("fifo", "easy", REFERENCE):
                settings = replay_settings(args.jobs, load, "fifo" if engine == REFERENCE else engine)
                runs.append((case, engine, str(REPLAY), settings))
    if "c" in args.cases:
        runs.append(("c", "munich.yaml", str(MUNICH), ["horizon=28d"]))
    if "d" in args.cases:
        if not LUBLIN.is_file():
            sys.exit(f"bench: {LUBLIN} not found (../shared/traces/swf/lublin_256.swf); drop case d")
        log = folder / "tiled.swf"
        tiled_swf(45, log)
        runs.append(("d", "easy", swf_scenario(log), []))
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="abcd", help="which of a, b, c, d (default abcd)")
    parser.add_argument("--jobs", type=int, default=1_000_000, help="jobs in cases a and b (default 1M)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; medians shown (default 3)")
    parser.add_argument("--scaling", action="store_true", help="the scaling curves instead (scaling.py)")
    args = parser.parse_args(argv)
    if args.scaling:
        sys.path.insert(0, str(HERE))
        from scaling import scaling

        return scaling(args.repeat)
    if not set(args.cases) <= set("abcd") or args.jobs <= 0 or args.repeat <= 0:
        parser.error("--cases takes letters of abcd; --jobs and --repeat must be > 0")
    print(
        f"median of {args.repeat} round(s), each run once a round in a fresh process; "
        f"Python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory() as folder:
        plan = cases(args, Path(folder))
        # In rounds, every run once per round: a drift of the machine's speed (seen: 40% over
        # a day) falls on every engine alike, and each round's reference and gpusim times
        # make one ratio.
        runs: list[list[dict[str, Any]]] = [[] for _ in plan]
        for round_number in range(1, args.repeat + 1):
            for runs_of, (case, engine, scenario, settings) in zip(runs, plan, strict=True):
                run = fresh_run(scenario, settings, engine)
                runs_of.append(run)
                print(f"round {round_number}: ({case}) {engine}: sim {run['sim_s']:.2f} s", flush=True)
    rows = [
        (case, engine, medians(runs_of)) for runs_of, (case, engine, _, _) in zip(runs, plan, strict=True)
    ]
    for case, engine, figures in rows:
        print(
            f"({case}) {engine}: {figures['jobs']:,.0f} jobs, sim {figures['sim_s']:.2f} s "
            f"({figures['jobs_per_s']:,.0f} jobs/s), end to end {figures['total_s']:.2f} s, "
            f"peak RSS {figures['rss_mb']:,.0f} MB"
        )
    reference = {
        case: runs_of for runs_of, (case, engine, _, _) in zip(runs, plan, strict=True) if engine == REFERENCE
    }
    print()
    print("| case | engine | jobs | sim s | jobs/s | end to end s | peak RSS MB | speed vs ref |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for runs_of, (case, engine, f) in zip(runs, rows, strict=True):
        ref = reference.get(case)
        ratio = f"{speed_vs(ref, runs_of):.2f}" if ref else "-"
        label = "reference (not gpusim): heapq FIFO" if engine == REFERENCE else f"gpusim {engine}"
        print(
            f"| {case} | {label} | {f['jobs']:,.0f} | {f['sim_s']:.2f} | {f['jobs_per_s']:,.0f} "
            f"| {f['total_s']:.2f} | {f['rss_mb']:,.0f} | {ratio} |"
        )
    for case, ref_runs in reference.items():
        fifo = next(f for c, e, f in rows if c == case and e == "fifo")
        ref = ref_runs[0]
        same = "identical" if fifo["schedule"] == ref["schedule"] else "DIFFERENT"
        print(f"({case}) reference and gpusim fifo schedules: {same} (start-time hash {ref['schedule']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
