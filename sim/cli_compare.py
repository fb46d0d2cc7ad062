"""``gpusim compare``: several schedulers (and/or varied settings) on one scenario, with intervals.

    gpusim compare SCENARIO --schedulers easy,fifo,conservative [--replications 5]
        [--warmup 1d] [--vary path=v1,v2]... [--set path=value]... [--workers N]
        [--out DIR] [--quiet]

Writes DIR (default ``results/<scenario>/compare-<timestamp>``) atomically: a hidden
sibling is filled and renamed at the end. See ``sim.compare`` for what it holds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.errors import UserError, located

REPLICATIONS = 5
"""Seeds per variant when ``--replications`` is not given."""


def add_compare_parser(commands: Any) -> None:
    compare = commands.add_parser(
        "compare",
        help="compare schedulers or settings on one scenario, with confidence intervals",
        description="Run every variant on the same workloads (common random numbers), several "
        "replications each; report 95%% t-intervals and paired differences against the first.",
    )
    compare.add_argument("scenario")
    compare.add_argument(
        "--schedulers", metavar="A,B,C", help="schedulers to compare, the first the baseline"
    )
    compare.add_argument(
        "--replications", type=int, metavar="R", help=f"seeds per variant (default {REPLICATIONS})"
    )
    compare.add_argument(
        "--warmup", default="0", metavar="DUR", help="ignore jobs submitted before this (default 0)"
    )
    compare.add_argument(
        "--vary",
        action="append",
        metavar="PATH=V1,V2",
        help="also compare these values of a setting (repeatable)",
    )
    compare.add_argument("--set", action="append", metavar="PATH=VALUE", help="override a scenario value")
    compare.add_argument("--workers", type=int, metavar="N", help="parallel runs (default: CPU count)")
    compare.add_argument("--out", help="results directory (default: results/<scenario>/compare-<timestamp>)")
    compare.add_argument("--quiet", action="store_true", help="print nothing on success")
    compare.set_defaults(handler=cmd_compare)


def parse_vary(text: str) -> tuple[str, list[str]]:
    path, sep, values = text.partition("=")
    items = [value.strip() for value in values.split(",")] if sep else []
    if not path.strip() or not items or not all(items):
        raise UserError(f"--vary must be PATH=V1,V2,... (got {text!r})", field="--vary")
    return path.strip(), items


def cmd_compare(args: argparse.Namespace) -> int:
    from sim.cli import load_from_cli, report_warnings, results_dir
    from sim.compare.output import comparison_table, write_comparison
    from sim.compare.runner import check_variants, compare, make_variants
    from sim.report.writer import atomic_directory
    from sim.scenario.no_effect import SAME_REPLICATIONS, draws_random_numbers
    from sim.units import parse_duration

    warnings: list[str] = []  # of the base scenario: a variant may make a setting act
    scenario = load_from_cli(args.scenario, args.set, warnings)
    schedulers = [name.strip() for name in (args.schedulers or "").split(",") if name.strip()]
    vary = [parse_vary(text) for text in args.vary or ()]
    replications = REPLICATIONS if args.replications is None else args.replications
    if replications < 1:
        raise UserError(f"--replications must be >= 1 (got {replications})", field="--replications")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be >= 1 (got {args.workers})", field="--workers")
    try:
        warmup = parse_duration(args.warmup)
    except ValueError as error:
        raise UserError(f"--warmup must be a duration such as 6h or 1d ({error})", field="--warmup") from None
    end = scenario.horizon or scenario.arrival_window()
    if end is not None and warmup >= end:
        raise UserError(
            f"--warmup must be shorter than the horizon, or no job is measured (got {warmup:g} s for a "
            f"horizon of {end:g} s)",
            field="--warmup",
        )
    variants = make_variants(schedulers, vary)
    runs = check_variants(scenario, variants, warmup)  # mistakes in the variants before anything runs
    # Only when given: by default a deterministic scenario's intervals are rightly 0 wide.
    if args.replications is not None and replications > 1 and not any(map(draws_random_numbers, runs)):
        warnings.append(located(SAME_REPLICATIONS, field="--replications"))
    out = Path(args.out) if args.out else results_dir(scenario.name, prefix="compare-")
    bar = None
    try:
        with atomic_directory(out) as tmp:
            report_warnings(warnings)  # now that the directory could be made: no error line follows
            if not args.quiet and sys.stderr.isatty():
                from tqdm import tqdm

                bar = tqdm(total=len(variants) * replications, unit="run", file=sys.stderr)
            comparison = compare(
                scenario,
                variants,
                replications,
                warmup=warmup,
                out=tmp,
                workers=args.workers,
                on_cell=(lambda cell: bar.update(1)) if bar is not None else None,
            )
            write_comparison(comparison, tmp)
            _draw(tmp)
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        print(f"{scenario.name}: {len(variants)} variants x {replications} replications")
        print(comparison_table(comparison))
        print(f"results: {out}")
    return 0


def _draw(out: Path) -> None:
    """Plots and report.html of a comparison directory."""
    from sim.report.compare_plots import plot_comparison
    from sim.report.html import write_report

    plot_comparison(out)
    write_report(out)


def add_plot_parser(commands: Any) -> None:
    plot = commands.add_parser(
        "plot",
        help="re-draw the plots of saved results (a run or a comparison) without re-running",
        description="Re-draw plots from results directories written by gpusim run or gpusim compare "
        "(a comparison also gets its report.html again).",
    )
    plot.add_argument("dirs", nargs="+", metavar="DIR")
    plot.add_argument("--quiet", action="store_true", help="print nothing on success")
    plot.set_defaults(handler=cmd_plot)


def cmd_plot(args: argparse.Namespace) -> int:
    from sim.report.compare_plots import plot_results
    from sim.report.html import write_report
    from sim.report.sweep_plots import plot_sweeps

    for name in args.dirs:  # a name the system refuses (too long, a NUL) is no directory either
        if not _is_dir(Path(name)):
            raise UserError(
                "must be a gpusim results directory (written by gpusim run, compare or sweep: "
                "with jobs.csv, comparison.json or sweep.json)",
                source=name,
            )
    paths = plot_sweeps(args)  # draws (and lists) the sweep directories, returns the others
    written = plot_results(paths)
    for path in paths:
        if (path / "comparison.json").is_file():
            written.append(write_report(path))
    if not args.quiet:
        for path in written:
            print(path)
    return 0


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False
