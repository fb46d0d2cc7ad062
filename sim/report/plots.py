"""PNG plots of one run: queue-delay CDF, wait percentiles by class, per-pod utilisation heat map.

Plots read metric functions (``sim.metrics``) and the timeseries columns only. They use
matplotlib's Agg backend (no display needed), close every figure they open, and save PNGs
without a ``Software`` tag so that identical inputs give identical files across versions.
Empty inputs (no started jobs, no samples) give an empty plot with a note, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.metrics import distribution, wait_times, wait_times_by  # noqa: E402
from sim.records import JobRecord, RunRecords  # noqa: E402

WAIT_FLOOR = 1.0
"""Seconds: waits below this are drawn at it, since a log axis has no zero."""

CDF_POINTS = 2000
"""Points drawn per CDF line: enough for a smooth curve, few enough for ten million jobs."""

POD_PREFIX = "utilisation.pod."
_PNG_METADATA = {"Software": None}
_DPI = 100


def _save(fig: Figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(path, format="png", dpi=_DPI, metadata=_PNG_METADATA)
    finally:
        plt.close(fig)
    return path


def _note(fig: Figure, text: str) -> None:
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color="0.4")


def queue_delay_cdf(jobs: Sequence[JobRecord], path: Path) -> Path:
    """Empirical CDF of the wait of started jobs: one line for all, one per job_class.

    x = wait in seconds on a log axis, waits below ``WAIT_FLOOR`` drawn at it (the legend
    gives each line's share of such waits); y = fraction of the line's started jobs with a
    wait <= x.
    """
    fig, ax = plt.subplots(figsize=(7, 4.5))
    lines: list[tuple[str, np.ndarray]] = [("all", wait_times(jobs))]
    lines += list(wait_times_by(jobs, "job_class").items())
    lines = [(name, waits) for name, waits in lines if waits.size]
    for name, waits in lines:
        xs, ys = ecdf_steps(waits, waits.size)
        floored = float(np.mean(waits < WAIT_FLOOR))
        label = f"{name} (n={waits.size}, {floored:.0%} < {WAIT_FLOOR:g} s)"
        ax.step(xs, ys, where="post", label=label)
    ax.set_xscale("log")
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel(f"wait before start (s, log scale; waits < {WAIT_FLOOR:g} s drawn at {WAIT_FLOOR:g} s)")
    ax.set_ylabel("fraction of started jobs")
    ax.set_title("Queue delay CDF")
    ax.grid(True, which="major", alpha=0.3)
    if lines:
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.set_xlim(WAIT_FLOOR, 10 * WAIT_FLOOR)
        _note(fig, "no started jobs")
    return _save(fig, path)


def ecdf_steps(values: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
    """Steps of the empirical CDF of ``values`` (floored at WAIT_FLOOR) over ``total`` jobs,
    thinned to about CDF_POINTS points spread evenly in probability, from (first, 0)."""
    xs = np.sort(np.maximum(values, WAIT_FLOOR))
    index = np.unique(np.linspace(0, xs.size - 1, min(xs.size, CDF_POINTS)).round().astype(int))
    # A step of the thinned curve jumps to the last job with that wait, so ties stay vertical.
    last = np.searchsorted(xs, xs[index], side="right") - 1
    return np.concatenate([[xs[0]], xs[last]]), np.concatenate([[0.0], (last + 1) / total])


def wait_by_class(jobs: Sequence[JobRecord], path: Path) -> Path:
    """Bars of the p50, p95 and p99 wait of started jobs per job_class, on a log y axis.

    Percentiles are numpy's linear ones (``sim.metrics.distribution``); bars below
    ``WAIT_FLOOR`` seconds are drawn at it. Classes with no started job are left out.
    """
    quantiles = (50, 95, 99)
    rows: list[tuple[str, list[float]]] = []
    for name, waits in wait_times_by(jobs, "job_class").items():
        if waits.size:
            stats = distribution(waits, percentiles=quantiles)
            rows.append((name, [float(stats[f"p{q}"] or 0.0) for q in quantiles]))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(rows) + 3.0), 4.5))
    ax.set_yscale("log")
    if rows:
        width = 0.8 / len(quantiles)
        centres = np.arange(len(rows))
        for i, q in enumerate(quantiles):
            heights = np.maximum([values[i] for _, values in rows], WAIT_FLOOR)
            ax.bar(centres + (i - 1) * width, heights, width=width, label=f"p{q}")
        ax.set_xticks(centres, [name for name, _ in rows])
        ax.legend(fontsize=8)
    else:
        ax.set_ylim(WAIT_FLOOR, 10 * WAIT_FLOOR)
        ax.set_xticks([])
        _note(fig, "no started jobs")
    ax.set_xlabel("job class")
    ax.set_ylabel(f"wait (s, log scale; < {WAIT_FLOOR:g} s drawn at {WAIT_FLOOR:g} s)")
    ax.set_title("Wait percentiles by job class")
    ax.grid(True, axis="y", which="major", alpha=0.3)
    return _save(fig, path)


def _cell_edges(centres: np.ndarray) -> np.ndarray:
    """Edges of cells centred on sorted ``centres``: midpoints, extended by half a gap at the ends."""
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mids = (centres[1:] + centres[:-1]) / 2.0
    return np.concatenate([[2 * centres[0] - mids[0]], mids, [2 * centres[-1] - mids[-1]]])


def utilisation_heatmap(timeseries: Mapping[str, Sequence[float]], path: Path) -> Path:
    """Heat map of sampled utilisation per pod: rows = pods (sorted), x = sample time.

    Colour = the ``utilisation.pod.<pod>`` column in [0, 1], each cell centred on its sample.
    The x axis is in hours, or in days when the samples span more than three days.
    """
    pods = sorted(name[len(POD_PREFIX) :] for name in timeseries if name.startswith(POD_PREFIX))
    times = np.asarray(timeseries.get("time", []), dtype=float)
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.3 * len(pods) + 1.5)))
    if pods and times.size:
        span = float(times[-1] - times[0])
        unit, scale = ("days", 86400.0) if span > 3 * 86400.0 else ("hours", 3600.0)
        data = np.array([np.asarray(timeseries[POD_PREFIX + pod], dtype=float) for pod in pods])
        mesh = ax.pcolormesh(
            _cell_edges(times / scale),
            np.arange(len(pods) + 1),
            data,
            vmin=0.0,
            vmax=1.0,
            cmap="viridis",
            shading="flat",
        )
        ax.set_yticks(np.arange(len(pods)) + 0.5, pods, fontsize=8 if len(pods) <= 30 else 5)
        ax.invert_yaxis()
        fig.colorbar(mesh, ax=ax, label="utilisation (allocated / capacity)")
        ax.set_xlabel(f"time ({unit})")
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("time")
        _note(fig, "no per-pod utilisation samples")
    ax.set_ylabel("pod")
    ax.set_title("Utilisation per pod")
    return _save(fig, path)


def plot_all(records: RunRecords, plots_dir: Path) -> list[Path]:
    """Write every plot of one run into ``plots_dir`` (created if needed); return their paths."""
    plots_dir = Path(plots_dir)
    plots_dir.mkdir(parents=True, exist_ok=True)
    return [
        queue_delay_cdf(records.jobs, plots_dir / "queue_delay_cdf.png"),
        wait_by_class(records.jobs, plots_dir / "wait_by_class.png"),
        utilisation_heatmap(records.timeseries, plots_dir / "utilisation_heatmap.png"),
    ]
