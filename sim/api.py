"""The Python API: ``sim.run`` for notebooks and scripts; the CLI is a thin layer over it.

    >>> import sim
    >>> result = sim.run("scenarios/munich.yaml", scheduler="fifo", **{"horizon": "1d"})
    >>> result.summary["wait"]["mean"]

Nothing is written unless ``out`` is given. ``stop_on_signals`` lets Ctrl-C or SIGTERM end a
run early with consistent, partial results instead of a KeyboardInterrupt.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from sim.cluster.state import ClusterLayout
from sim.engine import stopping
from sim.engine.core import Engine
from sim.errors import ScenarioError
from sim.policies import PLACEMENTS, PRICINGS, QUOTAS, SCHEDULERS
from sim.records import JOB_COLUMNS, JobRecord, RunRecords
from sim.scenario import Scenario, given_data, load_scenario, scenario_from_data
from sim.workload.build import Workload, build_workload
from sim.workload.demand import Willingness
from sim.workload.jobs import JobTable
from sim.workload.windows import Window, calendar_of, workload_windows

__version__ = "0.1.0"


@dataclass(frozen=True)
class Result:
    """One run: the resolved scenario, its records, its summary, and where it was written."""

    scenario: Scenario
    records: RunRecords
    summary: dict[str, Any]
    wall_time: float
    out_dir: Path | None = None

    @property
    def jobs(self) -> list[JobRecord]:
        return self.records.jobs

    def jobs_frame(self) -> Any:
        """The job records as a pandas DataFrame (needs pandas), columns as in jobs.csv."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("jobs_frame needs pandas: pip install pandas (or use Result.jobs)") from None

        return pd.DataFrame(
            [
                {c: (r.wait_time if c == "wait_time" else getattr(r, c)) for c in JOB_COLUMNS}
                for r in self.jobs
            ]
        )


@dataclass
class StopSignals:
    """What ``stop_on_signals`` saw: the first signal's name (``"SIGINT"``), or None."""

    signal: str | None = None
    aborting: bool = False

    @property
    def exit_status(self) -> int:
        """128 + the signal's number (130 for SIGINT, 143 for SIGTERM); 0 without a signal."""
        return 0 if self.signal is None else 128 + signal.Signals[self.signal].value


_active: StopSignals | None = None


@contextlib.contextmanager
def stop_on_signals(
    signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM),
) -> Iterator[StopSignals]:
    """While the block runs, the first of ``signals`` asks the run in progress to stop early
    (``sim.engine.stopping``; the run then ends after the current instant, its records
    consistent, ``stopped_at`` set, and ``run`` writes them with ``"complete": false``); a
    second one raises KeyboardInterrupt at once (later ones are ignored while that unwinds,
    so the clean-up is not cut short). The handlers only set flags: a signal while results are
    being written lets the writing finish. The previous handlers are restored afterwards,
    the stop flag is cleared before and after. Main thread only (``signal.signal``); a
    process forked inside the block gets the default handlers back when signalled.
    """
    global _active
    seen = StopSignals()
    owner = os.getpid()

    def handle(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != owner:  # a forked worker: do what it would have done without us
            _pass_on(signum, frame, previous[signum])
            return
        if seen.signal is None:
            seen.signal = signal.Signals(signum).name
            stopping.request_stop()
        elif not seen.aborting:
            seen.aborting = True
            raise KeyboardInterrupt

    previous = {sig: signal.getsignal(sig) for sig in signals}
    outer = _active
    stopping.clear()
    try:
        for sig in signals:
            signal.signal(sig, handle)
        _active = seen
        yield seen
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        _active = outer
        stopping.clear()


def _pass_on(signum: int, frame: FrameType | None, handler: Any) -> None:
    """Handle ``signum`` as ``handler`` (a previous handler, SIG_DFL or SIG_IGN) would, from now on."""
    signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
    if callable(handler):
        handler(signum, frame)
    elif handler != signal.SIG_IGN:
        os.kill(os.getpid(), signum)  # SIG_DFL: end the process by the signal


def resolve(
    scenario: str | Path | Scenario | Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """A validated Scenario from a path, a Scenario or a dict, with dotted-path overrides applied."""
    settings = [f"{key.replace('__', '.')}={_yaml_value(value)}" for key, value in (overrides or {}).items()]
    if isinstance(scenario, Scenario):
        if not settings:
            return scenario
        return scenario_from_data(given_data(scenario), overrides=settings)
    if isinstance(scenario, Mapping):
        return scenario_from_data(dict(scenario), overrides=settings)
    return load_scenario(scenario, settings)


def _yaml_value(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)


def simulate(
    scenario: Scenario,
    on_progress: Callable[[float], None] | None = None,
    check: bool = False,
    fed: bool = True,
) -> RunRecords:
    """Run the engine once on the scenario's workload; returns the records (``check``: see ``run``).

    ``fed`` (the default): feed the engine the workload a week at a time
    (``sim.workload.windows``), let it drop ended jobs (``sim.engine.dropping``) and spool
    their records to disk (``sim.engine.spilling``), so that a long run's memory does not
    grow with its jobs. ``fed=False`` builds the whole workload first and runs on it
    (``run_workload``, as compare and sweep do): the same records.
    """
    layout = ClusterLayout.from_scenario(scenario.cluster)
    if not fed:
        return run_workload(scenario, layout, build_workload(scenario, layout), on_progress, check)
    windows = workload_windows(scenario, layout)
    engine = _engine(
        scenario, layout, JobTable(), None, on_progress, check, iter(windows), windows.job_classes
    )
    return dataclasses.replace(engine.run(), dropped=windows.drops, services=tuple(windows.services))


def run_workload(
    scenario: Scenario,
    layout: ClusterLayout,
    workload: Workload,
    on_progress: Callable[[float], None] | None = None,
    check: bool = False,
) -> RunRecords:
    """Run the engine once on a built workload with the scenario's policies; returns the records."""
    engine = _engine(
        scenario, layout, workload.jobs, workload.willingness, on_progress, check, None, workload.job_classes
    )
    return dataclasses.replace(engine.run(), dropped=workload.drops, services=tuple(workload.services))


def _engine(
    scenario: Scenario,
    layout: ClusterLayout,
    jobs: JobTable,
    willingness: Willingness | None,
    on_progress: Callable[[float], None] | None,
    check: bool,
    windows: Iterator[Window] | None = None,
    job_classes: Sequence[str] | None = None,
) -> Engine:
    """An engine for the scenario's policies over ``jobs`` (or fed ``windows``)."""
    scheduler = SCHEDULERS.create(scenario.scheduler.name, scenario.scheduler.params)
    placer = PLACEMENTS.create(scenario.placement.name, scenario.placement.params)
    pricing = PRICINGS.create(scenario.pricing.name, scenario.pricing.params)
    pricing.bind(calendar_of(scenario), layout.gpu_types)
    quota = QUOTAS.create(scenario.quota.name, scenario.quota.params)
    return Engine(
        layout,
        jobs,
        scheduler,
        placer,
        horizon=scenario.horizon,
        sample_interval=scenario.metrics.sample_interval,
        on_progress=on_progress,
        restart_overhead=scenario.preemption.restart_overhead,
        pricing=pricing,
        quota=quota,
        demand=scenario.demand,
        willingness=willingness,
        spot_notice=scenario.preemption.spot_notice,
        check=check,
        windows=windows,
        job_classes=job_classes,
    )


def run(
    scenario: str | Path | Scenario | Mapping[str, Any],
    *,
    out: str | Path | None = None,
    plots: bool = True,
    on_progress: Callable[[float], None] | None = None,
    check: bool = False,
    **overrides: Any,
) -> Result:
    """Run a scenario and summarise it; write results to ``out`` if given.

    A run stopped early (``sim.engine.stopping``, e.g. inside ``stop_on_signals``) is
    summarised and written like any other, its manifest with ``"complete": false``,
    ``"stopped_at"`` (simulated seconds) and ``"stopped_by"`` (the signal's name, or
    ``"request"``); ``result.records.stopped_at`` says so.
    ``overrides`` are dotted paths (``**{"workload.synthetic.arrivals_for": "2d"}``) or
    names with ``__`` for dots (``scheduler="fifo"``, ``metrics__sample_interval="10m"``).
    ``check`` runs the expensive engine invariants after every event and decision pass
    (``sim.engine.invariants``; far slower, for debugging and tests); a broken one raises
    ``InvariantError``.
    """
    from sim.metrics import summarize
    from sim.metrics.columns import shared
    from sim.metrics.slo import evaluate
    from sim.report.writer import write_results
    from sim.scenario.no_effect import settings_without_effect

    resolved = resolve(scenario, overrides)
    began = time.perf_counter()
    try:
        records = simulate(resolved, on_progress, check)
    except ScenarioError as error:
        if error.source is None and isinstance(scenario, str | Path):
            error.source = str(scenario)  # a rule on the whole workload: name the scenario file
        raise
    wall = time.perf_counter() - began
    # One set of metric columns for the summary and the files (bills, energy) alike.
    with shared(records):
        services = evaluate(records)
        summary = summarize(records, services, resolved)
        out_dir = None
        if out is not None:
            manifest = {
                "seed": resolved.seed,
                "version": __version__,
                "wall_time_s": round(wall, 3),
                "events": records.events,
                "jobs": len(records.jobs),
                "dropped_trace_rows": records.dropped,
            }
            inert = settings_without_effect(resolved)
            if inert:
                manifest["warnings"] = [f"{i.path}: has no effect: {i.why}" for i in inert]
            if check:
                manifest["checked"] = True
            if records.stopped_at is not None:
                manifest["stopped_at"] = records.stopped_at
                manifest["stopped_by"] = (
                    _active.signal if _active is not None and _active.signal else "request"
                )
            out_dir = write_results(
                Path(out),
                scenario=resolved,
                records=records,
                summary=summary,
                manifest=manifest,
                plots=plots,
                services=services,
                complete=records.stopped_at is None,
            )
    return Result(resolved, records, summary, wall, out_dir)
