"""Scaling curves: gpusim's simulation time against jobs and against cluster size.

Two series on ``replay-1m.yaml`` (load 0.8 per GPU type), fifo and easy, medians of
``repeat`` runs in fresh processes (``bench.measure``):

* jobs: 100k, 300k and 1M jobs on the 10,080-GPU Munich cluster;
* GPUs: ~1k, 10k and 40k GPUs (pods of 9, 90 and 360 nodes) over one fixed arrival window,
  so the jobs grow with the cluster (~30k, 300k, 1.2M).

Prints a table and draws ``docs/img/scaling.png`` (seconds against jobs, log-log, with the
slope of each line: 1 is linear). Run it as ``python benchmarks/bench.py --scaling``.
"""

from __future__ import annotations

import math
from pathlib import Path

from bench import HERE, REPLAY, measure, replay_settings

JOBS = (100_000, 300_000, 1_000_000)
GPU_SCALES = (0.1, 1.0, 4.0)  # pods of 9, 90, 360 nodes: 1,008, 10,080, 40,320 GPUs
WINDOW_JOBS = 300_000  # jobs at scale 1.0 in the GPU series' fixed window
PLOT = HERE.parent / "docs" / "img" / "scaling.png"


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of log(seconds) on log(jobs)."""
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def scaling(repeat: int) -> int:
    series: dict[str, list[tuple[float, float, str]]] = {}
    print("| series | scheduler | GPUs | jobs | sim s | jobs/s | peak RSS MB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for scheduler in ("fifo", "easy"):
        for jobs in JOBS:
            f = measure(str(REPLAY), replay_settings(jobs, 0.8, scheduler), scheduler, repeat)
            series.setdefault(f"{scheduler}, 10,080 GPUs, more jobs", []).append((f["jobs"], f["sim_s"], ""))
            print(f"| jobs | {scheduler} | 10,080 | {f['jobs']:,.0f} | {f['sim_s']:.2f} | "
                  f"{f['jobs_per_s']:,.0f} | {f['rss_mb']:,.0f} |", flush=True)  # fmt: skip
        window = [s for s in replay_settings(WINDOW_JOBS, 0.8, scheduler) if "arrivals_for" in s]
        for scale in GPU_SCALES:
            settings = [*replay_settings(WINDOW_JOBS, 0.8, scheduler, scale)[:-1], *window]
            f = measure(str(REPLAY), settings, scheduler, repeat)
            gpus = round(90 * scale) * 8 * 14
            series.setdefault(f"{scheduler}, fixed window, more GPUs", []).append((f["jobs"], f["sim_s"], ""))
            print(f"| GPUs | {scheduler} | {gpus:,} | {f['jobs']:,.0f} | {f['sim_s']:.2f} | "
                  f"{f['jobs_per_s']:,.0f} | {f['rss_mb']:,.0f} |", flush=True)  # fmt: skip
    for name, points in series.items():
        print(f"{name}: log-log slope {slope([(x, y) for x, y, _ in points]):.2f} (1 = linear)")
    draw(series)
    return 0


def draw(series: dict[str, list[tuple[float, float, str]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=110)
    for name, points in series.items():
        xs, ys = [x for x, _, _ in points], [y for _, y, _ in points]
        axes.plot(xs, ys, marker="o", label=f"{name} (slope {slope([(x, y) for x, y, _ in points]):.2f})")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("jobs simulated")
    axes.set_ylabel("simulation time, s (median)")
    axes.set_title("gpusim scaling (replay-1m.yaml, load 0.8)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    Path(PLOT).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(PLOT, metadata={"Software": None})
    plt.close(figure)
    print(f"plot: {PLOT.relative_to(HERE.parent)}")
