"""``gpusim sweep``: a parameter sweep, resumable, on local cores or a Dask cluster.

    gpusim sweep SWEEP.yaml [--dask tcp://HOST:PORT | --dask local] [--workers N]
        [--out DIR] [--quiet]

DIR defaults to ``results/<sweep name>`` and is not timestamped: running the same sweep
again resumes it (finished runs are skipped). See ``sim.sweep`` and docs/sweeps.md.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from sim.errors import UserError

# Shown on stdout per cell, mean over replications: (metric, heading, kind)
HEADLINE = (
    ("utilisation", "util", "percent"),
    ("wait_mean", "wait mean", "duration"),
    ("wait_p95", "wait p95", "duration"),
    ("wait_p95_censored", "p95 censored", "duration"),
    ("queued_at_end", "queued at end", "count"),
)


def add_sweep_parser(commands: Any) -> None:
    sweep = commands.add_parser(
        "sweep",
        help="run a parameter sweep (a grid of settings x replications), resumable",
        description="Run every cell of a sweep file x its replications on local cores or a Dask "
        "cluster; skip runs already finished in DIR; write sweep.csv and plots.",
    )
    sweep.add_argument("sweep", metavar="SWEEP.yaml")
    sweep.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on Dask: tcp://HOST:PORT of a running scheduler, or 'local' for a LocalCluster",
    )
    sweep.add_argument("--workers", type=int, metavar="N", help="parallel runs (default: CPU count)")
    sweep.add_argument("--out", help="sweep directory (default: results/<sweep name>)")
    sweep.add_argument("--quiet", action="store_true", help="print nothing on success")
    sweep.set_defaults(handler=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.cli import report_warnings
    from sim.report.sweep_plots import plot_sweep
    from sim.sweep import make_plan, read_sweep, run_sweep
    from sim.sweep.runner import check_sweep_dir

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be >= 1 (got {args.workers})", field="--workers")
    sweep = read_sweep(args.sweep)
    plan = make_plan(sweep)
    out = Path(args.out) if args.out else Path("results") / plan.name
    _check_creatable(out)
    check_sweep_dir(out)
    report_warnings(list(plan.warnings))
    bar = None
    show_bar = not args.quiet and sys.stderr.isatty()

    def on_start(to_run: int, done: int) -> None:
        nonlocal bar
        if show_bar and to_run:
            from tqdm import tqdm

            bar = tqdm(total=to_run, unit="run", desc=plan.name, file=sys.stderr)

    began = time.perf_counter()
    try:
        result = run_sweep(
            plan,
            out,
            workers=args.workers,
            dask=args.dask,
            on_start=on_start,
            on_run=(lambda key: bar.update(1)) if show_bar else None,
        )
    finally:
        if bar is not None:
            bar.close()
    plots = plot_sweep(out)
    if not args.quiet:
        where = f"dask {args.dask}" if args.dask else "local"
        print(
            f"{plan.name}: {len(plan.values)} cells x {plan.replications} replications on {where}: "
            f"ran {len(result.ran)}, {len(result.done_before)} already done, "
            f"{time.perf_counter() - began:.1f} s"
        )
        print(cell_table(plan, out))
        print(f"results: {out} ({len(plots)} plots)")
    return 0


def _check_creatable(out: Path) -> None:
    """UserError unless gpusim can write in ``out``, made (with its parents) if absent: before
    any run, a name too long, a NUL or a place without write permission is one line."""
    from sim.workload.trace_csv import why

    try:
        if not out.exists():
            out.mkdir(parents=True)
            out.rmdir()
        elif out.is_dir():
            probe = out / f".gpusim-probe-{os.getpid()}"
            probe.mkdir()
            probe.rmdir()
    except (OSError, ValueError) as error:
        raise UserError(
            f"sweep directory must be one gpusim can create ({why(error)})", source=str(out)
        ) from None


def cell_table(plan: Any, out: Path) -> str:
    """Per cell: its axis values and the HEADLINE metrics, mean +- 95% half-width."""
    from sim.compare.stats import t_interval
    from sim.sweep.output import axis_text, read_cell_metrics

    header = [*plan.axes, *(heading for _, heading, _ in HEADLINE)]
    lines = []
    for index, values in enumerate(plan.values):
        metrics = [read_cell_metrics(out / "cells" / run.key) for run in plan.runs if run.cell == index]
        row = [axis_text(values.get(axis)) for axis in plan.axes]
        for name, _, kind in HEADLINE:
            interval = t_interval([m.get(name, math.nan) for m in metrics])
            row.append(_shown(interval.mean, interval.half_width, kind))
        lines.append(row)
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=True)]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *lines]
    )


def _shown(mean: float, half: float, kind: str) -> str:
    from sim.units import format_duration

    if math.isnan(mean):
        return "-"
    if kind == "percent":
        text, spread = f"{100 * mean:.1f}%", f"{100 * half:.1f}"
    elif kind == "duration":
        text, spread = format_duration(mean), format_duration(half) if not math.isnan(half) else ""
    else:
        text, spread = f"{mean:.4g}", f"{half:.2g}"
    return text if math.isnan(half) else f"{text} +- {spread}"
