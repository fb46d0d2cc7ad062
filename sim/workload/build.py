"""Build a scenario's workload: the trace, then each synthetic stream, merged by submit time.

The trace is read by the reader its ``format`` names (``sim.workload.readers``).
"""

from __future__ import annotations

from sim.cluster.state import ClusterLayout
from sim.errors import TraceError
from sim.scenario.schema import Scenario, TraceSpec
from sim.workload.jobs import JobTable
from sim.workload.readers import FORMATS, TraceResult, read_trace
from sim.workload.synthetic import generate


def default_gpu_type(scenario: Scenario, layout: ClusterLayout) -> str:
    """``workload.default_gpu_type``, or the first pod's GPU type."""
    return scenario.workload.default_gpu_type or layout.pods[0].gpu_type


def build_jobs(scenario: Scenario, layout: ClusterLayout) -> JobTable:
    """Every job of the scenario, in queue order (see ``build_workload``)."""
    return build_workload(scenario, layout)[0]


def build_workload(scenario: Scenario, layout: ClusterLayout) -> tuple[JobTable, dict[str, int]]:
    """Every job of the scenario in queue order (submit time; ties: trace rows, then streams in
    order), and the trace rows its reader dropped, counted by reason.

    The result depends only on the scenario and its seed, never on the policies.
    """
    fallback = default_gpu_type(scenario, layout)
    tables: list[JobTable] = []
    drops: dict[str, int] = {}
    workload = scenario.workload
    if workload.trace is not None:
        trace = read_scenario_trace(workload.trace)
        drops = dict(trace.drops)
        table = trace.jobs
        table.gpu_type = [gpu_type or fallback for gpu_type in table.gpu_type]
        tables.append(table)
    if workload.synthetic is not None:
        for spec in workload.synthetic.streams:
            gpu_type = spec.gpu_type or fallback
            tables.append(generate(spec, workload.synthetic.arrivals_for, scenario.seed, layout, gpu_type))
    return (tables[0] if len(tables) == 1 else JobTable.merge(tables)), drops


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
