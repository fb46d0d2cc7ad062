"""PNG plots of a ``gpusim compare`` directory, and ``gpusim plot`` for saved results.

Everything is drawn from files, never from a run in memory, so ``gpusim plot DIR`` can
re-draw a comparison (or a single run) long after it ran. A comparison directory gets,
in ``plots/``:

    queue_delay_cdf.png            CDF of waits per variant, all replications pooled
    wait_percentiles_by_class.png  p50/p95/p99 wait per job class, 95% CI error bars
    utilisation_heatmap.png        utilisation per pod over time, one panel per variant
    queue_over_time.png            queued jobs and queued GPUs over time, per variant
    wait_by_tier.png               mean wait per tier, 95% CI error bars
    occupancy_gantt.png            the baseline's nodes over time, one bar per segment
                                   (small runs only: see GANTT_MAX_NODES/SEGMENTS)

Intervals come from comparison.json; curves over time from replication 0 of each variant
(one sample path reads better than an average that no run ever went through). Plots share
the single-run plots' conventions (``sim.report.plots``): Agg backend, waits below
``WAIT_FLOOR`` drawn at it on log axes, figures closed, PNGs without a Software tag.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator, NullFormatter  # noqa: E402

from sim.compare.runner import Variant  # noqa: E402
from sim.errors import UserError  # noqa: E402
from sim.report.plots import (  # noqa: E402
    POD_PREFIX,
    WAIT_FLOOR,
    _cell_edges,
    _note,
    _save,
    ecdf_steps,
    plot_all,
)
from sim.report.results_files import (  # noqa: E402
    read_job_table,
    read_json,
    read_segments,
    read_timeseries,
    run_horizon,
    run_records,
)
from sim.units import format_duration  # noqa: E402

GANTT_MAX_NODES = 64
GANTT_MAX_SEGMENTS = 3000
"""Above either, a Gantt chart is an unreadable smear, so it is not drawn."""

PERCENTILES = ("p50", "p95", "p99")

# Log-axis ticks at durations people think in, instead of 10^k seconds.
_TICKS = (
    (1.0, "1 s"), (10.0, "10 s"), (60.0, "1 min"), (600.0, "10 min"), (3600.0, "1 h"),
    (6 * 3600.0, "6 h"), (86400.0, "1 d"), (7 * 86400.0, "1 w"), (30 * 86400.0, "30 d"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CompareDir:
    """A comparison directory: comparison.json and where each variant's runs are."""

    path: Path
    data: dict[str, Any]
    variants: list[Variant]

    @classmethod
    def read(cls, path: Path) -> CompareDir:
        data = read_json(Path(path) / "comparison.json")
        variants = [Variant(v["label"], tuple(v.get("settings", ()))) for v in data.get("variants", [])]
        if not variants:
            raise UserError("must list at least one variant", source=str(Path(path) / "comparison.json"))
        return cls(Path(path), data, variants)

    @property
    def replications(self) -> int:
        return int(self.data.get("replications", 1))

    @property
    def warmup(self) -> float:
        return float(self.data.get("warmup_s") or 0.0)

    def run_dir(self, variant: Variant, replication: int = 0) -> Path:
        return self.path / "runs" / variant.slug / f"rep-{replication}"

    def interval(self, variant: Variant, metric: str) -> tuple[float, float, float]:
        """(mean, ci_low, ci_high) of a metric, NaN where comparison.json has no value."""
        entry = self.data.get("metrics", {}).get(variant.label, {}).get(metric, {})
        mean, low, high = (_number(entry.get(key)) for key in ("mean", "ci_low", "ci_high"))
        return mean, low, high

    def suffixes(self, prefix: str) -> list[str]:
        """Sorted names ``x`` of the metrics ``<prefix>x`` of any variant (classes, tiers)."""
        blocks = self.data.get("metrics", {}).values()
        return sorted({m[len(prefix) :] for block in blocks for m in block if m.startswith(prefix)})


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _colour(index: int) -> Any:
    return plt.get_cmap("tab10")(index % 10)


def _duration_axis(ax: Axes, axis: str, low: float, high: float) -> None:
    """Log scale with ticks at 1 s, 1 min, 1 h, 1 d... covering [low, high]."""
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    ticks = [(value, text) for value, text in _TICKS if low / 1.5 <= value <= high * 1.5]
    if len(ticks) >= 2:
        (ax.set_xticks if axis == "x" else ax.set_yticks)([v for v, _ in ticks], [t for _, t in ticks])
        (ax.xaxis if axis == "x" else ax.yaxis).set_minor_formatter(NullFormatter())


def _time_scale(span: float) -> tuple[str, float]:
    """Unit for a time axis: days beyond three days, else hours (as the single-run heat map)."""
    return ("days", 86400.0) if span > 3 * 86400.0 else ("hours", 3600.0)


def _wait_unit(largest: float) -> tuple[str, float]:
    """The unit in which waits up to ``largest`` seconds read best on a linear axis."""
    for unit, scale, limit in (("s", 1.0, 120.0), ("min", 60.0, 7200.0), ("h", 3600.0, 172800.0)):
        if not largest > limit:
            return unit, scale
    return "d", 86400.0


def queue_delay_cdf(cmp: CompareDir, path: Path) -> Path:
    """CDF of the waits of jobs submitted at or after the warm-up, all replications pooled.

    Solid: jobs that started (x = wait). Dashed, drawn only when some job was still queued
    at the horizon: those jobs too, their wait cut at the horizon (a lower bound), so a
    scheduler that starves jobs cannot look good by leaving them out.
    """
    fig, ax = plt.subplots(figsize=(8, 5))
    started_total = queued_total = 0
    largest = WAIT_FLOOR * 10
    for index, variant in enumerate(cmp.variants):
        waits, cut = [], []
        for replication in range(cmp.replications):
            run = cmp.run_dir(variant, replication)
            jobs = read_job_table(run / "jobs.csv")
            end = run_horizon(run)
            window = jobs.submitted & (jobs.submit_time >= cmp.warmup)
            waits.append(jobs.wait_time[window & jobs.started])
            queued = window & ~jobs.started & (jobs.status == "unfinished")
            if end is not None:
                cut.append(end - jobs.submit_time[queued])
        started, censored = np.concatenate(waits), np.concatenate(cut or [np.empty(0)])
        started_total += started.size
        queued_total += censored.size
        if not started.size + censored.size:
            continue
        largest = max(largest, float(np.max(np.concatenate([started, censored]))))
        colour = _colour(index)
        if started.size:
            median = format_duration(float(np.median(started)))
            xs, ys = ecdf_steps(started, started.size)
            label = f"{variant.label}: {started.size:,} started, median {median}"
            ax.step(xs, ys, where="post", color=colour, label=label)
        if censored.size:
            both = np.concatenate([started, censored])
            xs, ys = ecdf_steps(both, both.size)
            label = f"{variant.label}, incl. {censored.size:,} still queued at the horizon"
            ax.step(xs, ys, where="post", color=colour, linestyle="--", label=label)
    _duration_axis(ax, "x", WAIT_FLOOR, largest)
    ax.set_xlim(WAIT_FLOOR / 1.3, largest * 1.3)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel(f"wait before start (log scale; waits < {WAIT_FLOOR:g} s drawn at {WAIT_FLOOR:g} s)")
    ax.set_ylabel("fraction of jobs with wait ≤ x")
    excluded = (
        f"dashed: incl. {queued_total:,} jobs still queued at the horizon, wait cut there"
        if queued_total
        else "no job was still queued at the horizon"
    )
    ax.set_title(
        f"Queue delay CDF: {started_total:,} jobs started after the {format_duration(cmp.warmup)} warm-up, "
        f"{cmp.replications} replications pooled\nsolid: started jobs only; {excluded}",
        fontsize=10,
    )
    ax.grid(True, which="major", alpha=0.3)
    if started_total + queued_total:
        ax.legend(loc="lower right", fontsize=8)
    else:
        _note(fig, "no job started after the warm-up")
    return _save(fig, path)


def _bars(ax: Axes, cmp: CompareDir, metrics: Sequence[tuple[str, str]], scale: float, floor: float) -> None:
    """Grouped bars: one group per (metric, tick label), one bar per variant, 95% CI error bars.

    Values are divided by ``scale`` and drawn at least at ``floor`` (a log axis has no 0);
    a metric with no value (no job of that group started) gets no bar.
    """
    width = 0.8 / len(cmp.variants)
    for index, variant in enumerate(cmp.variants):
        xs, heights, errors = [], [], [[], []]
        for group, (metric, _) in enumerate(metrics):
            mean, low, high = (value / scale for value in cmp.interval(variant, metric))
            if not math.isfinite(mean):
                continue
            height = max(mean, floor)
            xs.append(group + (index - (len(cmp.variants) - 1) / 2) * width)
            heights.append(height)
            finite = math.isfinite(low) and math.isfinite(high)
            errors[0].append(height - max(low, floor) if finite else 0.0)
            errors[1].append(max(high, floor) - height if finite else 0.0)
        ax.bar(xs, heights, width=width, color=_colour(index), label=variant.label)
        ax.errorbar(xs, heights, yerr=np.array(errors).reshape(2, -1), fmt="none", ecolor="0.15", capsize=3)
    ax.set_xticks(np.arange(len(metrics)), [name for _, name in metrics])
    ax.grid(True, axis="y", which="major", alpha=0.3)


def wait_percentiles_by_class(cmp: CompareDir, path: Path) -> Path:
    """p50, p95 and p99 wait per job class (one panel each), bars per variant with 95% CIs."""
    classes = sorted({c for q in PERCENTILES for c in cmp.suffixes(f"wait_{q}.")})
    panel = 0.9 + 0.35 * len(classes) * len(cmp.variants)
    fig, axes = plt.subplots(1, 3, figsize=(max(9.0, 3 * panel + 1.5), 4.8), sharey=True)
    largest = WAIT_FLOOR * 10
    for q in PERCENTILES:
        for variant in cmp.variants:
            for job_class in classes:
                values = [v for v in cmp.interval(variant, f"wait_{q}.{job_class}") if math.isfinite(v)]
                largest = max([largest, *values])
    for ax, q in zip(axes, PERCENTILES, strict=True):
        _bars(ax, cmp, [(f"wait_{q}.{c}", c) for c in classes], 1.0, WAIT_FLOOR)
        ax.set_title(f"{q} wait")
        ax.set_xlabel("job class")
    _duration_axis(axes[0], "y", WAIT_FLOOR, largest)
    axes[0].set_ylim(WAIT_FLOOR / 1.2, largest * 2.0)
    axes[0].set_ylabel(f"wait (log scale; < {WAIT_FLOOR:g} s drawn at {WAIT_FLOOR:g} s)")
    axes[-1].legend(fontsize=8, title="variant")
    if not classes:
        _note(fig, "no job class has a wait percentile")
    fig.suptitle(
        f"Wait percentiles by job class (jobs that started after the warm-up; error bars: 95% CI "
        f"over {cmp.replications} replications)",
        fontsize=10,
    )
    fig.tight_layout()
    return _save(fig, path)


def wait_by_tier(cmp: CompareDir, path: Path) -> Path:
    """Mean wait per tenant tier, bars per variant with 95% CIs (cut at 0: no wait is negative)."""
    prefix = "wait_mean.tier."
    tiers = cmp.suffixes(prefix)
    values = [v for variant in cmp.variants for t in tiers for v in cmp.interval(variant, prefix + t)]
    unit, scale = _wait_unit(max([v for v in values if math.isfinite(v)], default=0.0))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.5 * len(tiers) * len(cmp.variants) + 2.0), 4.5))
    _bars(ax, cmp, [(prefix + t, t) for t in tiers], scale, 0.0)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("tenant tier")
    ax.set_ylabel(f"mean wait ({unit})")
    ax.legend(fontsize=8, title="variant")
    if not tiers:
        _note(fig, "no tier has a mean wait")
    ax.set_title(
        f"Mean wait by tier (error bars: 95% CI over {cmp.replications} replications, cut at 0)", fontsize=10
    )
    return _save(fig, path)


def utilisation_heatmap(cmp: CompareDir, path: Path) -> Path:
    """Utilisation per pod over time, one panel per variant (replication 0), one colour scale."""
    series = [read_timeseries(cmp.run_dir(v) / "timeseries.csv") for v in cmp.variants]
    pods = sorted({name[len(POD_PREFIX) :] for ts in series for name in ts if name.startswith(POD_PREFIX)})
    height = max(1.6, 0.25 * len(pods) + 0.9)
    fig, axes = plt.subplots(
        len(series), 1, figsize=(10, height * len(series) + 1.0), sharex=True, squeeze=False
    )
    span = max((float(ts["time"][-1]) for ts in series if ts.get("time", np.empty(0)).size), default=0.0)
    unit, scale = _time_scale(span)
    mesh = None
    for ax, variant, ts in zip(axes[:, 0], cmp.variants, series, strict=True):
        times = ts.get("time", np.empty(0))
        if times.size and pods:
            data = np.array([ts.get(POD_PREFIX + pod, np.full(times.size, np.nan)) for pod in pods])
            mesh = ax.pcolormesh(
                _cell_edges(times / scale), np.arange(len(pods) + 1), data, vmin=0.0, vmax=1.0, cmap="viridis"
            )
            ax.set_yticks(np.arange(len(pods)) + 0.5, pods, fontsize=8 if len(pods) <= 30 else 5)
            ax.invert_yaxis()
            if cmp.warmup > 0:
                ax.axvline(cmp.warmup / scale, color="white", linestyle="--", linewidth=1)
        else:
            ax.set_yticks([])
            ax.text(0.5, 0.5, "no per-pod utilisation samples", transform=ax.transAxes, ha="center")
        ax.set_ylabel("pod")
        ax.set_title(variant.label, fontsize=9, loc="left")
    axes[-1, 0].set_xlabel(f"time ({unit})" + ("; dashed line: end of warm-up" if cmp.warmup > 0 else ""))
    if mesh is not None:
        fig.colorbar(mesh, ax=axes[:, 0].tolist(), label="utilisation (allocated GPUs / pod GPUs)")
    fig.suptitle("Utilisation per pod over time (replication 0 of each variant)", fontsize=10)
    return _save(fig, path)


def queue_over_time(cmp: CompareDir, path: Path) -> Path:
    """Queued jobs (top) and the GPUs they ask for (bottom) over time, a line per variant (rep 0)."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    series = [read_timeseries(cmp.run_dir(v) / "timeseries.csv") for v in cmp.variants]
    span = max((float(ts["time"][-1]) for ts in series if ts.get("time", np.empty(0)).size), default=0.0)
    unit, scale = _time_scale(span)
    for index, (variant, ts) in enumerate(zip(cmp.variants, series, strict=True)):
        times = ts.get("time", np.empty(0)) / scale
        for ax, column in ((top, "queue_jobs"), (bottom, "queue_gpus")):
            if column in ts:
                ax.plot(times, ts[column], color=_colour(index), linewidth=1.2, label=variant.label)
    for ax in (top, bottom):
        if cmp.warmup > 0:
            ax.axvspan(0.0, cmp.warmup / scale, color="0.85", zorder=0, label="warm-up")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # jobs and GPUs are whole numbers
        ax.set_ylim(0.0, max(1.0, ax.get_ylim()[1]))
        ax.grid(True, alpha=0.3)
    top.set_ylabel("queued jobs")
    top.set_title("Queue length over time (replication 0 of each variant; sampled)", fontsize=10)
    top.legend(fontsize=8, loc="upper left")
    bottom.set_ylabel("GPUs asked for by queued jobs")
    bottom.set_title("Queued GPU demand over time", fontsize=10)
    bottom.set_xlabel(f"time ({unit})")
    return _save(fig, path)


def _node_rows(cmp: CompareDir) -> tuple[list[str], dict[str, int], list[int]]:
    """Every node of the baseline's cluster as ``<pod>/<index>`` in cluster order, its GPUs,
    and the row of each pod's first node."""
    from sim.cluster.state import ClusterLayout
    from sim.scenario.schema import Cluster

    cluster = read_json(cmp.run_dir(cmp.variants[0]) / "manifest.json").get("scenario", {}).get("cluster")
    layout = ClusterLayout.from_scenario(Cluster.model_validate(cluster))
    nodes = [f"{pod.name}/{i}" for pod in layout.pods for i in range(pod.nodes)]
    gpus = {f"{pod.name}/{i}": pod.gpus_per_node for pod in layout.pods for i in range(pod.nodes)}
    return nodes, gpus, [pod.first_node for pod in layout.pods]


def occupancy_gantt(cmp: CompareDir, path: Path) -> Path | None:
    """Nodes (y) over time (x) of the baseline's replication 0: a bar per segment and node,
    as tall as the share of the node's GPUs it held, coloured by job class.

    Returns None (and draws nothing) for more than GANTT_MAX_NODES nodes or
    GANTT_MAX_SEGMENTS segments. Within a node, a segment takes the lowest-numbered GPU
    slots free at its start: the files do not say which GPUs of a node a job held, only
    how many, so the vertical position inside a node row is illustrative.
    """
    run = cmp.run_dir(cmp.variants[0])
    nodes, node_gpus, pod_rows = _node_rows(cmp)
    if len(nodes) > GANTT_MAX_NODES:
        return None
    segments_file = run / "segments.csv"
    if segments_file.is_file():  # count the rows before parsing what may be a big file
        with open(segments_file, encoding="utf-8") as handle:
            if sum(1 for _ in handle) - 1 > GANTT_MAX_SEGMENTS:
                return None
    segments = read_segments(segments_file)
    jobs = read_job_table(run / "jobs.csv")
    job_class = dict(zip(jobs.job_id, jobs.job_class.tolist(), strict=True))
    classes = sorted({job_class.get(s.job_id, "?") for s in segments})
    row = {node: i for i, node in enumerate(nodes)}
    free_at = {node: [-math.inf] * node_gpus[node] for node in nodes}
    span = max([s.end_time for s in segments], default=0.0)
    unit, scale = _time_scale(span)
    boxes: dict[str, list[list[tuple[float, float]]]] = {c: [] for c in classes}
    for seg in sorted(segments, key=lambda s: (s.start_time, s.job_id)):
        for node in seg.nodes.split(";"):
            slots = free_at.get(node)
            if slots is None:
                continue
            order = sorted(range(len(slots)), key=lambda k: (slots[k] > seg.start_time, k))
            taken = sorted(order[: seg.gpus_per_node])
            for k in taken:
                slots[k] = seg.end_time
            x0, x1 = seg.start_time / scale, seg.end_time / scale
            for first, last in _runs(taken):  # one box per contiguous block of slots
                y0 = row[node] + first / len(slots)
                y1 = row[node] + (last + 1) / len(slots)
                box = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
                boxes[job_class.get(seg.job_id, "?")].append(box)
    fig, ax = plt.subplots(figsize=(11, max(3.0, 0.2 * len(nodes) + 1.6)))
    for index, name in enumerate(classes):
        bars = PolyCollection(boxes[name], facecolors=[_colour(index)], edgecolors="white", linewidths=0.3)
        ax.add_collection(bars)
    for boundary in pod_rows[1:]:
        ax.axhline(boundary, color="0.3", linewidth=0.8)
    if cmp.warmup > 0:
        ax.axvline(cmp.warmup / scale, color="0.3", linestyle="--", linewidth=1, label="end of warm-up")
    ax.set_xlim(0.0, max(span / scale, 1e-9))
    ax.set_ylim(len(nodes), 0)
    ax.set_yticks(np.arange(len(nodes)) + 0.5, nodes, fontsize=7 if len(nodes) <= 32 else 5)
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("node (pod/index)")
    handles = [Patch(color=_colour(i), label=c) for i, c in enumerate(classes)]
    handles += [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    ax.legend(handles=handles, title="job class",
              fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # fmt: skip
    ax.set_title(
        f"Node occupancy of {cmp.variants[0].label} (replication 0): {len(segments):,} run segments; "
        "bar height = share of the node's GPUs held",
        fontsize=10,
    )
    fig.tight_layout()
    return _save(fig, path)


def _runs(indices: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted integers as (first, last) blocks of consecutive values: [0, 1, 3] -> [(0, 1), (3, 3)]."""
    blocks: list[tuple[int, int]] = []
    for i in indices:
        if blocks and blocks[-1][1] == i - 1:
            blocks[-1] = (blocks[-1][0], i)
        else:
            blocks.append((i, i))
    return blocks


def plot_comparison(compare_dir: Path) -> list[Path]:
    """Write the comparison plots (module docstring) into ``compare_dir/plots``; return their paths.

    A stale ``occupancy_gantt.png`` is removed when the run is now too large for one.
    """
    cmp = CompareDir.read(Path(compare_dir))
    out = cmp.path / "plots"
    out.mkdir(parents=True, exist_ok=True)
    written = [
        queue_delay_cdf(cmp, out / "queue_delay_cdf.png"),
        wait_percentiles_by_class(cmp, out / "wait_percentiles_by_class.png"),
        utilisation_heatmap(cmp, out / "utilisation_heatmap.png"),
        queue_over_time(cmp, out / "queue_over_time.png"),
        wait_by_tier(cmp, out / "wait_by_tier.png"),
    ]
    gantt = occupancy_gantt(cmp, out / "occupancy_gantt.png")
    if gantt is None:
        (out / "occupancy_gantt.png").unlink(missing_ok=True)
    else:
        written.append(gantt)
    return written


def plot_results(dirs: Sequence[Path]) -> list[Path]:
    """``gpusim plot``: re-draw the plots of each results directory from its files.

    A comparison directory (with comparison.json) gets ``plot_comparison``; a single-run
    directory (with jobs.csv) gets the plots of ``gpusim run`` in ``plots/``. Every
    directory is checked before any is drawn, so a typo does not leave half the work done.
    """
    kinds: list[tuple[Path, bool]] = []
    for directory in map(Path, dirs):
        if (directory / "comparison.json").is_file():
            kinds.append((directory, True))
        elif (directory / "jobs.csv").is_file():
            kinds.append((directory, False))
        else:
            raise UserError(
                "must be a gpusim results directory (written by gpusim run or gpusim compare: "
                "with jobs.csv or comparison.json)",
                source=str(directory),
            )
    written: list[Path] = []
    for directory, is_comparison in kinds:
        if is_comparison:
            written += plot_comparison(directory)
        else:
            written += plot_all(run_records(directory), directory / "plots")
    return written
