"""Where a long run's memory goes: RSS after each phase of ``gpusim run``, one fresh process per run.

For each horizon, in a spawned process, the phases ``sim.api.run`` goes through: build the
workload, simulate (the workload is then dropped, as ``run`` drops it), evaluate and
summarise, write the results directory with plots. After each: the process's RSS now and
its peak so far (``ru_maxrss``), and both per job; the anonymous RSS now and its peak so
far (sampled every 20 ms). The anonymous part is what the run needs: the rest are pages of
mapped files (spooled records, ``sim.spool``), which ``ru_maxrss`` counts once read but the
kernel may drop and read again. ``--fed`` feeds the engine the workload a week at a time,
as ``gpusim run`` does (``sim.api.simulate(fed=True)``; no "build" phase).

    python benchmarks/memory.py                       # munich.yaml, 28 days
    python benchmarks/memory.py --horizon 7d --horizon 365d
    python benchmarks/memory.py --scenario other.yaml --set scheduler=fifo
    python benchmarks/memory.py --fed

A year of munich.yaml (about 9.7 million jobs) fed takes about 11 minutes, 0.9 GB of
anonymous memory at the peak and 2.0 GB RSS; the whole table about 7 minutes and 4.3 GB.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gc
import multiprocessing
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MUNICH = HERE.parent / "scenarios" / "munich.yaml"


def rss_mb() -> float:
    """The resident set size now (Linux: /proc; elsewhere the peak stands in for it)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return peak_mb()
    return pages * resource.getpagesize() / 2**20


def anon_mb() -> float:
    """The anonymous part of the RSS (Linux; NaN elsewhere): the RSS less the pages of
    mapped files, which the kernel may drop and read again (spooled records: ``sim.spool``)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return float("nan")
    kb = [int(line.split()[1]) for line in status.splitlines() if line.startswith("RssAnon:")]
    return kb[0] / 2**10 if kb else float("nan")


class AnonPeak:
    """The largest anonymous RSS seen, sampled every ``interval`` seconds by a thread."""

    def __init__(self, interval: float = 0.02) -> None:
        self.peak = anon_mb()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(interval,), daemon=True)
        self._thread.start()

    def _watch(self, interval: float) -> None:
        while not self._done.wait(interval):
            self.peak = max(self.peak, anon_mb())

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return max(self.peak, anon_mb())


def peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def phases(scenario: str, settings: list[str], fed: bool) -> list[tuple[float, ...] | tuple[Any, ...]]:
    """(phase, seconds, RSS MB, peak MB, anonymous RSS MB, its peak MB) after each phase of one
    run in this process."""
    from sim.api import resolve, run_workload, simulate
    from sim.cluster.state import ClusterLayout
    from sim.metrics import summarize
    from sim.metrics.columns import shared
    from sim.metrics.slo import evaluate
    from sim.report import write_results
    from sim.workload.build import build_workload

    anon = AnonPeak()
    rows: list[tuple[Any, ...]] = [("start", 0.0, rss_mb(), peak_mb(), anon_mb(), anon.peak)]
    began = time.perf_counter()

    def mark(phase: str) -> None:
        gc.collect()
        rows.append((phase, time.perf_counter() - began, rss_mb(), peak_mb(), anon_mb(), anon.peak))

    resolved = resolve(scenario, dict(s.split("=", 1) for s in settings))
    if not fed:  # the whole workload built first, then run
        layout = ClusterLayout.from_scenario(resolved.cluster)
        workload = build_workload(resolved, layout)
        mark("build")
        records = run_workload(resolved, layout, workload)
        del workload
    else:  # fed a week at a time
        records = simulate(resolved, fed=True)
    mark("simulate")
    with shared(records), tempfile.TemporaryDirectory() as folder:
        services = evaluate(records)
        summary = summarize(records, services, resolved)
        mark("metrics")
        write_results(Path(folder) / "run", scenario=resolved, records=records, summary=summary,
                      manifest={}, plots=False, services=services)  # fmt: skip
        mark("write")
        from sim.report.plots import plot_all

        plot_all(records, Path(folder) / "plots")
        mark("plots")
    anon.stop()
    rows.append(("jobs", float(len(records.jobs))))
    return rows


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--scenario", default=str(MUNICH))
    parser.add_argument("--horizon", action="append", help="repeatable (default: 28d)")
    parser.add_argument("--set", action="append", default=[], dest="settings", metavar="PATH=VALUE")
    parser.add_argument("--fed", action="store_true", help="feed the engine a week at a time")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    for horizon in args.horizon or ["28d"]:
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
            settings = [f"horizon={horizon}", *args.settings]
            rows = pool.submit(phases, args.scenario, settings, args.fed).result()
        jobs = rows.pop()[1]
        print(f"\n{Path(args.scenario).name}, horizon {horizon}: {jobs:,.0f} jobs")
        heads = ("s", "RSS MB", "peak MB", "anon MB", "anon peak", "RSS B/job", "peak B/job")
        print(f"{'after':<10}" + "".join(f"{head:>11}" for head in heads))
        for phase, seconds, rss, peak, anon, anon_peak in rows:
            per_job = [value * 2**20 / jobs if jobs else 0.0 for value in (rss, peak)]
            values = (f"{seconds:.1f}", *(f"{v:.0f}" for v in (rss, peak, anon, anon_peak, *per_job)))
            print(f"{phase:<10}" + "".join(f"{value:>11}" for value in values))


if __name__ == "__main__":
    main()
