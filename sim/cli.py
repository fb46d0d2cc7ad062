"""The ``gpusim`` command line: a thin layer over ``sim.api``.

    gpusim run [SCENARIO] [--out DIR] [--quiet] [--set dotted.path=value ...]
    gpusim validate SCENARIO [--set ...]
    gpusim schema
    gpusim policies
    gpusim trace convert IN --format swf|philly|openb|azure-llm --out OUT.csv [...]
    gpusim compare SCENARIO --schedulers A,B [--replications R] [--warmup DUR] [--vary P=V1,V2] [...]
    gpusim sweep SWEEP.yaml [--dask ADDRESS|local] [--workers N] [--out DIR] [--quiet]
    gpusim plot DIR...

Exit status: 0 success, 2 a user error (one line on stderr, no traceback), 1 a bug.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from sim.cli_compare import add_compare_parser, add_plot_parser
from sim.cli_sweep import add_sweep_parser
from sim.cli_trace import add_trace_parser
from sim.errors import UserError

DEFAULT_SCENARIO = Path("scenarios") / "munich.yaml"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.removeprefix("gpusim").strip()
        self.exit(2, f"gpusim: {where + ': ' if where else ''}{message} (see --help)\n")


def default_scenario() -> Path:
    """scenarios/munich.yaml here, else beside the installed package's checkout."""
    if DEFAULT_SCENARIO.is_file():
        return DEFAULT_SCENARIO
    beside = Path(__file__).resolve().parent.parent / DEFAULT_SCENARIO
    return beside if beside.is_file() else DEFAULT_SCENARIO


def results_dir(scenario_name: str, prefix: str = "") -> Path:
    """results/<scenario>/<prefix><readable timestamp>, with a suffix if that exists already."""
    stamp = prefix + time.strftime("%Y%m%d-%H%M%S")
    base = Path("results") / scenario_name / stamp
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{stamp}-{n}")
    return candidate


def _progress(total: float | None, enabled: bool):
    """A tqdm bar over simulated days on stderr, or None."""
    if not enabled or not total:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=round(total / 86400, 2), unit="sim-day", file=sys.stderr, leave=False)

    def update(now: float) -> None:
        bar.n = min(round(now / 86400, 2), bar.total)
        bar.refresh()

    return bar, update


def cmd_run(args: argparse.Namespace) -> int:
    from sim.api import run
    from sim.report import check_target, summary_table
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario or default_scenario(), args.set or ())
    out = Path(args.out) if args.out else results_dir(scenario.name)
    check_target(out)  # before simulating: a long run must not end in a refusal
    total = scenario.service_window()
    bar, update = _progress(total, not args.quiet and sys.stderr.isatty())
    try:
        result = run(scenario, out=out, on_progress=update)
    finally:
        if bar is not None:
            bar.close()
    report_drops(result.records.dropped)
    if not args.quiet:
        print(
            f"{scenario.name}: scheduler {scenario.scheduler.name}, placement {scenario.placement.name}, "
            f"seed {scenario.seed}, {len(result.jobs)} jobs, {result.wall_time:.2f} s"
        )
        print(summary_table(result.summary))
        print(f"results: {result.out_dir}")
    return 0


def report_drops(dropped: dict[str, int]) -> None:
    """One stderr line per reason the trace reader dropped rows (even with --quiet: never silent)."""
    for reason, count in dropped.items():
        print(f"gpusim: dropped {count} trace {'row' if count == 1 else 'rows'}: {reason}", file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.cluster.state import ClusterLayout
    from sim.scenario import load_scenario
    from sim.workload.build import build_workload

    scenario = load_scenario(args.scenario, args.set or ())
    layout = ClusterLayout.from_scenario(scenario.cluster)
    workload = build_workload(scenario, layout)  # reads every trace row: a bad row fails here too
    jobs = workload.jobs
    report_drops(workload.drops)
    print(
        f"{args.scenario}: ok (scenario {scenario.name!r}, {len(layout.pods)} pods, {layout.capacity} GPUs, "
        f"{len(jobs)} jobs, scheduler {scenario.scheduler.name})"
    )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from sim.scenario import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2, sort_keys=True))
    return 0


def cmd_policies(args: argparse.Namespace) -> int:
    import inspect

    from sim.policies import PLACEMENTS, PRICINGS, QUOTAS, SCHEDULERS

    for registry in (SCHEDULERS, PLACEMENTS, PRICINGS, QUOTAS):
        print(f"{registry.kind}s:")
        for name in registry.names():
            params = registry.params(name)
            shown = ", ".join(
                key if default is inspect.Parameter.empty else f"{key}={default!r}"
                for key, default in params.items()
            )
            print(f"  {name:<14} {registry.describe(name)}" + (f"  [params: {shown}]" if shown else ""))
    return 0


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="gpusim", description="Simulate job scheduling on a GPU cluster.")
    commands = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="run a scenario and write its results")
    run.add_argument("scenario", nargs="?", help=f"scenario YAML (default: {DEFAULT_SCENARIO})")
    run.add_argument("--out", help="results directory (default: results/<scenario>/<timestamp>)")
    run.add_argument("--quiet", action="store_true", help="print nothing on success")
    run.add_argument(
        "--set", action="append", metavar="PATH=VALUE", help="override a scenario value (repeatable)"
    )
    run.set_defaults(handler=cmd_run)
    validate = commands.add_parser("validate", help="check a scenario file without running it")
    validate.add_argument("scenario")
    validate.add_argument("--set", action="append", metavar="PATH=VALUE", help="override a scenario value")
    validate.set_defaults(handler=cmd_validate)
    commands.add_parser("schema", help="print the scenario JSON schema").set_defaults(handler=cmd_schema)
    commands.add_parser("policies", help="list the registered policies").set_defaults(handler=cmd_policies)
    add_trace_parser(commands)
    add_compare_parser(commands)
    add_sweep_parser(commands)
    add_plot_parser(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except UserError as error:
        print(f"gpusim: {error.render()}", file=sys.stderr)
        return 2
    except FileExistsError as error:
        print(f"gpusim: {error.filename}: results directory must be new or empty", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `gpusim policies | head`: the reader has gone, say nothing
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("gpusim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
