"""Build a scenario's workload: the trace, then each synthetic stream, merged by submit time."""

from __future__ import annotations

from sim.cluster.state import ClusterLayout
from sim.scenario.schema import Scenario
from sim.workload.jobs import JobTable
from sim.workload.synthetic import generate
from sim.workload.trace_csv import read_trace_csv


def default_gpu_type(scenario: Scenario, layout: ClusterLayout) -> str:
    """``workload.default_gpu_type``, or the first pod's GPU type."""
    return scenario.workload.default_gpu_type or layout.pods[0].gpu_type


def build_jobs(scenario: Scenario, layout: ClusterLayout) -> JobTable:
    """Every job of the scenario, in queue order (submit time; ties: trace rows, then streams in order).

    The result depends only on the scenario and its seed, never on the policies.
    """
    fallback = default_gpu_type(scenario, layout)
    tables: list[JobTable] = []
    workload = scenario.workload
    if workload.trace is not None:
        table = read_trace_csv(workload.trace.path)
        table.gpu_type = [gpu_type or fallback for gpu_type in table.gpu_type]
        tables.append(table)
    if workload.synthetic is not None:
        for spec in workload.synthetic.streams:
            gpu_type = spec.gpu_type or fallback
            tables.append(generate(spec, workload.synthetic.arrivals_for, scenario.seed, layout, gpu_type))
    if len(tables) == 1:
        return tables[0]
    return JobTable.merge(tables)
