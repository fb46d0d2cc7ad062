"""The ``gpusim`` command line: a thin layer over ``sim.api``.

    gpusim run [SCENARIO] [--out DIR] [--quiet] [--set dotted.path=value ...]
    gpusim validate SCENARIO [--set ...]
    gpusim schema
    gpusim policies
    gpusim trace convert IN --format swf|philly|openb|azure-llm --out OUT.csv [...]
    gpusim compare SCENARIO --schedulers A,B [--replications R] [--warmup DUR] [--vary P=V1,V2] [...]
    gpusim sweep SWEEP.yaml [--dask ADDRESS|local] [--workers N] [--out DIR] [--quiet]
    gpusim plot DIR...

Exit status: 0 success, 2 a user error (one line on stderr, no traceback), 1 a bug, 128 + the
signal's number after SIGINT (130) or SIGTERM (143). ``gpusim run`` stops on the first of
them and writes the partial results (manifest ``"complete": false``), a second one aborts;
the other commands stop at once, removing what they had half written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

from sim.cli_compare import add_compare_parser, add_plot_parser
from sim.cli_sweep import add_sweep_parser
from sim.cli_trace import add_trace_parser
from sim.errors import ScenarioError, UserError, one_line

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

DEFAULT_SCENARIO = Path("scenarios") / "munich.yaml"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.removeprefix("gpusim").strip()
        self.exit(2, one_line(f"gpusim: {where + ': ' if where else ''}{message} (see --help)") + "\n")


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
    from sim.api import run, stop_on_signals
    from sim.report import check_target, summary_table

    warnings: list[str] = []
    path = default_scenario() if args.scenario is None else args.scenario
    scenario = load_from_cli(path, args.set, warnings)
    out = Path(args.out) if args.out else results_dir(scenario.name)
    check_target(out)  # before simulating: a long run must not end in a refusal
    report_warnings(warnings)
    total = scenario.service_window()
    bar, update = _progress(total, not args.quiet and sys.stderr.isatty())
    # Ctrl-C / SIGTERM: the run stops after the current instant and its partial results are
    # written (complete: false); a second signal aborts (KeyboardInterrupt, nothing written).
    with stop_on_signals() as stop:
        try:
            result = run(scenario, out=out, on_progress=update, check=args.check)
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
    if stop.signal is None:
        return 0
    stopped_at = result.records.stopped_at
    if stopped_at is None:
        print(f"gpusim: {stop.signal} after the run ended; complete results in {out}", file=sys.stderr)
    else:
        print(
            f"gpusim: stopped by {stop.signal} at simulated time {sim_clock(stopped_at)}; "
            f"partial results (complete: false) in {out}",
            file=sys.stderr,
        )
    return stop.exit_status


def sim_clock(seconds: float) -> str:
    """Simulated seconds as days and a clock: ``2d 03:14:00`` (seconds rounded down)."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    return f"{days}d {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def report_drops(dropped: dict[str, int]) -> None:
    """One stderr line per reason the trace reader dropped rows (even with --quiet: never silent)."""
    for reason, count in dropped.items():
        print(f"gpusim: dropped {count} trace {'row' if count == 1 else 'rows'}: {reason}", file=sys.stderr)


def load_from_cli(path: str | Path, settings: list[str] | None, warnings: list[str]) -> Scenario:
    """The scenario at ``path`` with the ``--set`` overrides (none replacing an earlier one);
    its warnings go to ``warnings``, for ``report_warnings`` once the command's checks pass."""
    from sim.scenario.loader import check_set_once, load_scenario

    check_set_once(settings or ())
    return load_scenario(path, settings or (), warnings)


def report_warnings(warnings: list[str]) -> None:
    """One stderr line per setting that cannot act (even with --quiet); the run goes on.

    Called once a command has checked all it can before its work: a mistake found up to
    then is the one line on stderr, not the last of several."""
    for warning in warnings:
        print(f"gpusim: warning: {warning}", file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.cluster.state import ClusterLayout
    from sim.workload.build import build_workload

    warnings: list[str] = []
    scenario = load_from_cli(args.scenario, args.set, warnings)
    layout = ClusterLayout.from_scenario(scenario.cluster)
    workload = build_workload(scenario, layout)  # reads every trace row: a bad row fails here too
    report_warnings(warnings)
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
        "--check",
        action="store_true",
        help="check the engine's invariants after every event and pass (slow; for debugging)",
    )
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
    terminated: list[int] = []
    try:
        with _sigterm_interrupts(terminated):
            return args.handler(args)
    except UserError as error:
        if error.source is None and isinstance(error, ScenarioError) and getattr(args, "scenario", None):
            error.source = args.scenario  # a rule on the whole built workload: name the scenario
        print(f"gpusim: {error.render()}", file=sys.stderr)
        return 2
    except FileExistsError as error:
        print(f"gpusim: {error.filename}: results directory must be new or empty", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `gpusim policies | head`: the reader has gone, say nothing
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("gpusim: interrupted" + (" (SIGTERM)" if terminated else ""), file=sys.stderr)
        return 128 + (terminated[0] if terminated else signal.SIGINT)
    except Exception:
        if not terminated:
            raise
        # e.g. a process pool broken by the same SIGTERM reaching its workers
        print("gpusim: interrupted (SIGTERM)", file=sys.stderr)
        return 128 + terminated[0]


@contextlib.contextmanager
def _sigterm_interrupts(seen: list[int]) -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt here (once; its number goes to ``seen``), so that a
    command cleans up as on Ctrl-C (temporary directories, worker pools) instead of dying
    mid-write. ``gpusim run`` replaces this while it runs (``sim.api.stop_on_signals``).
    Processes forked meanwhile die of SIGTERM as before; outside the main thread, nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()

    def handle(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != owner:  # a forked worker: the default action, end by the signal
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        elif not seen:  # later ones are ignored while the first unwinds
            seen.append(signum)
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


if __name__ == "__main__":
    sys.exit(main())
