"""Build a scenario's workload: the trace, each synthetic stream, then each inference service
group's replicas, merged by submit time.

The trace is read by the reader its ``format`` names (``sim.workload.readers``).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

from sim.cluster.state import ClusterLayout
from sim.errors import ScenarioError, TraceError
from sim.scenario.schema import MAX_SAMPLES, Scenario, TraceSpec
from sim.workload.calendar import Calendar
from sim.workload.demand import Willingness, draw_willingness
from sim.workload.inference import ServicePlan, plan_services, replica_jobs
from sim.workload.jobs import JobTable
from sim.workload.readers import FORMATS, TraceResult, read_trace
from sim.workload.synthetic import generate


@dataclass
class Workload:
    """Every job in queue order, the trace rows dropped (by reason), the inference plans,
    and each job's willingness to pay (None without a ``demand`` section)."""

    jobs: JobTable
    drops: dict[str, int] = field(default_factory=dict)
    services: list[ServicePlan] = field(default_factory=list)
    willingness: Willingness | None = None


def calendar_of(scenario: Scenario) -> Calendar:
    """The scenario's calendar: local ``start`` in ``timezone``."""
    return Calendar(scenario.start, scenario.timezone)


def gpu_type_text(value: str | list[str] | None, fallback: str) -> str:
    """A stream's GPU type as the job table holds it: one type, or acceptable ones joined by ``|``."""
    if value is None:
        return fallback
    return value if isinstance(value, str) else "|".join(value)


def default_gpu_type(scenario: Scenario, layout: ClusterLayout) -> str:
    """``workload.default_gpu_type``, or the first pod's GPU type."""
    return scenario.workload.default_gpu_type or layout.pods[0].gpu_type


def build_jobs(scenario: Scenario, layout: ClusterLayout) -> JobTable:
    """Every job of the scenario, in queue order (see ``build_workload``)."""
    return build_workload(scenario, layout).jobs


def build_workload(scenario: Scenario, layout: ClusterLayout) -> Workload:
    """Every job of the scenario in queue order (submit time; ties: trace rows, then streams,
    then service groups, in order), the trace rows its reader dropped, the service plans.

    The result depends only on the scenario and its seed, never on the policies.
    """
    fallback = default_gpu_type(scenario, layout)
    tables: list[JobTable] = []
    built = Workload(JobTable())
    workload = scenario.workload
    clock = calendar_of(scenario)
    if workload.trace is not None:
        trace = read_scenario_trace(workload.trace)
        built.drops = dict(trace.drops)
        table = trace.jobs
        table.gpu_type = [gpu_type or fallback for gpu_type in table.gpu_type]
        tables.append(table)
    if workload.synthetic is not None:
        for spec in workload.synthetic.streams:
            gpu_type = gpu_type_text(spec.gpu_type, fallback)
            tables.append(
                generate(
                    spec,
                    scenario.arrival_window() or 0.0,
                    scenario.seed,
                    layout,
                    gpu_type,
                    clock,
                    workload.tenants,
                )
            )
    if workload.inference:
        window = scenario.service_window()
        assert window is not None, "the schema requires a horizon or an arrival window with inference"
        for spec in workload.inference:
            plan = plan_services(spec, scenario.seed, window, clock, workload.tenants)
            tables.append(replica_jobs(plan, gpu_type_text(spec.gpu_type, fallback)))
            built.services.append(plan)
    built.jobs = (tables[0] if len(tables) == 1 else JobTable.merge(tables)).compact()
    if scenario.demand is not None:
        built.willingness = draw_willingness(scenario.demand, built.jobs, scenario.seed)
    if scenario.horizon is None:
        check_sample_count(built.jobs, scenario.metrics.sample_interval)
    return built


def check_sample_count(jobs: JobTable, interval: float) -> None:
    """Without a horizon a run samples until its last job ends: refuse a workload whose jobs,
    even run without waiting, span more than MAX_SAMPLES intervals (a run that never ends)."""
    if not jobs.submit:
        return
    span = max(map(operator.add, jobs.submit, jobs.duration)) - min(jobs.submit)
    if span / interval > MAX_SAMPLES:
        raise ScenarioError(
            f"must be at least the workload's span / {MAX_SAMPLES:,} = {span / MAX_SAMPLES:g} s "
            f"when there is no horizon (its jobs span {span:g} s; or set a horizon) (got {interval:g} s)",
            field="metrics.sample_interval",
        )


def read_scenario_trace(trace: TraceSpec) -> TraceResult:
    """The scenario's trace read by its format's reader, with its drops and notes."""
    if not FORMATS[trace.format].gives_jobs:
        jobs = ", ".join(name for name, spec in FORMATS.items() if spec.gives_jobs)
        raise TraceError(
            f"workload.trace.format must be a job trace format ({jobs}); {trace.format!r} is a "
            f"request-rate series for inference services (got {trace.format!r})",
            source=trace.path,
        )
    return read_trace(trace.path, trace.format, **trace.options)
