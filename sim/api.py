"""The Python API: ``sim.run`` for notebooks and scripts; the CLI is a thin layer over it.

    >>> import sim
    >>> result = sim.run("scenarios/munich.yaml", scheduler="fifo", **{"horizon": "1d"})
    >>> result.summary["wait"]["mean"]

Nothing is written unless ``out`` is given.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.cluster.state import ClusterLayout
from sim.engine.core import Engine
from sim.policies import PLACEMENTS, PRICINGS, QUOTAS, SCHEDULERS
from sim.records import JOB_COLUMNS, JobRecord, RunRecords
from sim.scenario import Scenario, load_scenario, scenario_from_data
from sim.workload.build import Workload, build_workload, calendar_of

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


def resolve(
    scenario: str | Path | Scenario | Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """A validated Scenario from a path, a Scenario or a dict, with dotted-path overrides applied."""
    settings = [f"{key.replace('__', '.')}={_yaml_value(value)}" for key, value in (overrides or {}).items()]
    if isinstance(scenario, Scenario):
        if not settings:
            return scenario
        return scenario_from_data(scenario.model_dump(mode="json"), overrides=settings)
    if isinstance(scenario, Mapping):
        return scenario_from_data(dict(scenario), overrides=settings)
    return load_scenario(scenario, settings)


def _yaml_value(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)


def simulate(scenario: Scenario, on_progress: Callable[[float], None] | None = None) -> RunRecords:
    """Build the workload and run the engine once; returns the records."""
    layout = ClusterLayout.from_scenario(scenario.cluster)
    return run_workload(scenario, layout, build_workload(scenario, layout), on_progress)


def run_workload(
    scenario: Scenario,
    layout: ClusterLayout,
    workload: Workload,
    on_progress: Callable[[float], None] | None = None,
) -> RunRecords:
    """Run the engine once on a built workload with the scenario's policies; returns the records."""
    scheduler = SCHEDULERS.create(scenario.scheduler.name, scenario.scheduler.params)
    placer = PLACEMENTS.create(scenario.placement.name, scenario.placement.params)
    pricing = PRICINGS.create(scenario.pricing.name, scenario.pricing.params)
    pricing.bind(calendar_of(scenario), layout.gpu_types)
    quota = QUOTAS.create(scenario.quota.name, scenario.quota.params)
    engine = Engine(
        layout,
        workload.jobs,
        scheduler,
        placer,
        horizon=scenario.horizon,
        sample_interval=scenario.metrics.sample_interval,
        on_progress=on_progress,
        restart_overhead=scenario.preemption.restart_overhead,
        pricing=pricing,
        quota=quota,
        demand=scenario.demand,
        willingness=workload.willingness,
        spot_notice=scenario.preemption.spot_notice,
    )
    return dataclasses.replace(engine.run(), dropped=workload.drops, services=tuple(workload.services))


def run(
    scenario: str | Path | Scenario | Mapping[str, Any],
    *,
    out: str | Path | None = None,
    plots: bool = True,
    on_progress: Callable[[float], None] | None = None,
    **overrides: Any,
) -> Result:
    """Run a scenario and summarise it; write results to ``out`` if given.

    ``overrides`` are dotted paths (``**{"workload.synthetic.arrivals_for": "2d"}``) or
    names with ``__`` for dots (``scheduler="fifo"``, ``metrics__sample_interval="10m"``).
    """
    from sim.metrics import summarize
    from sim.metrics.slo import evaluate
    from sim.report.writer import write_results

    resolved = resolve(scenario, overrides)
    began = time.perf_counter()
    records = simulate(resolved, on_progress)
    wall = time.perf_counter() - began
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
        out_dir = write_results(
            Path(out),
            scenario=resolved,
            records=records,
            summary=summary,
            manifest=manifest,
            plots=plots,
            services=services,
        )
    return Result(resolved, records, summary, wall, out_dir)
