"""PNG plots of a ``gpusim sweep`` directory, drawn from sweep.json and sweep.csv only.

For every axis with at least two values, ``plots/sweep_<axis>.png`` has one panel per
metric of ``PANELS``: the metric's mean over replications against the axis's values, one
line per combination of the other axes' values, and a shaded 95% t-interval band (no band
with a single replication). A numeric axis is drawn to scale; any other axis (a scheduler
name, a mapping) as evenly spaced categories in the sweep file's order.

``plot_sweeps`` is ``gpusim plot``'s branch for sweep directories: it draws those and
hands the other directories back to the run/comparison plotting.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from sim.compare.stats import t_interval  # noqa: E402
from sim.errors import UserError  # noqa: E402
from sim.report.plots import _save  # noqa: E402
from sim.report.results_files import floats, read_json, read_table  # noqa: E402

PANELS = (
    ("utilisation", "utilisation", "share"),
    ("wait_mean", "mean wait", "duration"),
    ("wait_p95", "p95 wait", "duration"),
    ("wait_p95_censored", "p95 wait, censored", "duration"),
    ("queued_at_end", "jobs queued at the end", "count"),
    ("bounded_slowdown_mean", "mean bounded slowdown", "count"),
    ("slo_attainment", "inference SLO attainment", "share"),
    ("revenue_eur", "revenue (EUR)", "count"),
    ("energy_kwh", "energy (kWh)", "count"),
)
"""(column, title, kind) of the panels, then one panel per job class: its p95 wait. A panel
whose column is missing or all empty (no inference services: no SLO attainment) is left out."""

CLASS_WAIT = "wait_p95."

_UNITS = (("s", 1.0), ("min", 60.0), ("h", 3600.0), ("d", 86400.0))


def is_sweep_dir(path: Path) -> bool:
    return (Path(path) / "sweep.json").is_file() and (Path(path) / "sweep.csv").is_file()


def plot_sweeps(args: argparse.Namespace) -> list[Path]:
    """``gpusim plot``: draw the sweep directories among ``args.dirs`` (listing the PNGs unless
    ``args.quiet``) and return the other directories. Every directory is checked first."""
    paths = [Path(d) for d in args.dirs]
    for path in paths:
        if not (is_sweep_dir(path) or (path / "comparison.json").is_file() or (path / "jobs.csv").is_file()):
            raise UserError(
                "must be a gpusim results directory (written by gpusim run, compare or sweep: "
                "with jobs.csv, comparison.json or sweep.json)",
                source=str(path),
            )
    for path in filter(is_sweep_dir, paths):
        for png in plot_sweep(path):
            if not args.quiet:
                print(png)
    return [path for path in paths if not is_sweep_dir(path)]


def plot_sweep(sweep_dir: Path) -> list[Path]:
    """Write ``plots/sweep_<axis>.png`` for every axis with two or more values; return them."""
    sweep_dir = Path(sweep_dir)
    meta = read_json(sweep_dir / "sweep.json")
    axes = [a for a in meta.get("axes", []) if len(a.get("labels", [])) >= 2]
    columns = [a["path"] for a in meta.get("axes", [])]
    table = read_table(sweep_dir / "sweep.csv")
    out = sweep_dir / "plots"
    written = []
    for axis in axes:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", axis["path"])
        others = [c for c in columns if c != axis["path"]]
        written.append(_axis_figure(meta, table, axis, others, out / f"sweep_{slug}.png"))
    return written


def _positions(axis: dict[str, Any]) -> tuple[dict[str, float], bool]:
    """x of each label: the value itself on a numeric axis, else its index; and whether numeric."""
    values = axis["values"]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if numeric:
        return {label: float(v) for label, v in zip(axis["labels"], values, strict=True)}, True
    return {label: float(i) for i, label in enumerate(axis["labels"])}, False


def _axis_figure(
    meta: dict[str, Any], table: dict[str, list[str]], axis: dict[str, Any], others: Sequence[str], path: Path
) -> Path:
    x_of, numeric = _positions(axis)
    rows = len(table["cell"])
    groups: dict[tuple[str, ...], list[int]] = {}
    for i in range(rows):
        if table[axis["path"]][i] in x_of:
            groups.setdefault(tuple(table[o][i] for o in others), []).append(i)
    classes = [c for c in table if c.startswith(CLASS_WAIT)]
    panels = [
        panel
        for panel in [*PANELS, *((c, f"p95 wait, {c.removeprefix(CLASS_WAIT)}", "duration") for c in classes)]
        if panel[0] in table and any(table[panel[0]])
    ]
    ncols = min(4, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.3 * nrows), squeeze=False)
    for ax, (metric, title, kind) in zip(grid.flat, panels, strict=False):
        values = floats(table[metric])
        scale, unit = _unit(values, kind)
        for colour, (group, members) in enumerate(groups.items()):
            xs, means, lows, highs = [], [], [], []
            for label, x in sorted(x_of.items(), key=lambda item: item[1]):
                sample = [values[i] / scale for i in members if table[axis["path"]][i] == label]
                if not sample:
                    continue
                interval = t_interval(sample)
                xs.append(x)
                means.append(interval.mean)
                lows.append(interval.low)
                highs.append(interval.high)
            legend = ", ".join(f"{o}={g}" for o, g in zip(others, group, strict=True) if g) or None
            line = ax.plot(xs, means, marker="o", color=plt.get_cmap("tab10")(colour % 10), label=legend)[0]
            band = np.isfinite(lows) & np.isfinite(highs)
            if band.any():
                shaded = [np.array(v)[band] for v in (xs, lows, highs)]
                ax.fill_between(*shaded, color=line.get_color(), alpha=0.2, linewidth=0)
        ax.set_title(title + (f" ({unit})" if unit else ""), fontsize=10)
        _x_axis(ax, axis, x_of, numeric)
        if kind == "share":
            ax.set_ylim(0, 1.02)
    for ax in list(grid.flat)[len(panels) :]:
        ax.set_visible(False)
    handles, labels = grid.flat[0].get_legend_handles_labels()
    if labels:
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=9, frameon=False)
    replications = meta.get("replications", 1)
    fig.suptitle(
        f"{meta.get('name', 'sweep')}: metrics against {axis['path']} "
        f"(mean{' and 95% CI' if replications > 1 else ''} over {replications} replication"
        f"{'s' if replications != 1 else ''})",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0.06 if labels else 0, 1, 0.96))
    return _save(fig, path)


def _unit(values: np.ndarray, kind: str) -> tuple[float, str]:
    """Divisor and unit name for a panel: waits in the unit their largest value reads best in."""
    if kind != "duration":
        return 1.0, ""
    finite = values[np.isfinite(values)]
    largest = float(finite.max()) if finite.size else 0.0
    scale, unit = _UNITS[0][1], _UNITS[0][0]
    for name, size in _UNITS:
        if largest >= 2 * size:
            scale, unit = size, name
    return scale, unit


def _x_axis(ax: Axes, axis: dict[str, Any], x_of: dict[str, float], numeric: bool) -> None:
    ax.set_xlabel(axis["path"], fontsize=8)
    if not numeric:
        ax.set_xticks(list(x_of.values()), list(x_of), fontsize=8)
        ax.set_xlim(-0.5, len(x_of) - 0.5)
    ax.grid(alpha=0.3)
