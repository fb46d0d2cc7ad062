"""Build a scenario's workload whole: the trace, each synthetic stream, then each inference
service group's replicas, merged by submit time.

The whole table is the windows of ``sim.workload.windows`` joined, so a run fed the whole
table and one fed window by window see the same jobs through one code path. The trace is
read by the reader its ``format`` names (``sim.workload.readers``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.cluster.state import ClusterLayout
from sim.scenario.schema import Scenario
from sim.workload.demand import Willingness
from sim.workload.inference import ServicePlan
from sim.workload.jobs import JobTable
from sim.workload.windows import WorkloadWindows, check_span, extent, span_of


@dataclass
class Workload:
    """Every job in queue order, the trace rows dropped (by reason), the inference plans,
    and each job's willingness to pay (None without a ``demand`` section)."""

    jobs: JobTable
    drops: dict[str, int] = field(default_factory=dict)
    services: list[ServicePlan] = field(default_factory=list)
    willingness: Willingness | None = None
    job_classes: list[str] | None = None  # every class a job can have (None: the table's)


def build_jobs(scenario: Scenario, layout: ClusterLayout) -> JobTable:
    """Every job of the scenario, in queue order (see ``build_workload``)."""
    return build_workload(scenario, layout).jobs


def build_workload(scenario: Scenario, layout: ClusterLayout) -> Workload:
    """Every job of the scenario in queue order (submit time; ties: trace rows, then streams,
    then service groups, in order), the trace rows its reader dropped, the service plans.

    The windows joined (``WorkloadWindows``); the sample count without a horizon is checked
    on the joined table. The result depends only on the scenario and its seed, never on the
    policies.
    """
    windows = WorkloadWindows(scenario, layout)
    parts = list(windows)
    built = Workload(JobTable(), windows.drops, windows.services, job_classes=windows.job_classes)
    del windows  # its trace and replica tables: every row is in the windows now
    if scenario.demand is not None:
        built.willingness = Willingness.concat([w.willingness for w in parts if w.willingness is not None])
    tables = [window.jobs for window in parts]
    del parts
    built.jobs = tables[0] if len(tables) == 1 else JobTable.concat(tables)
    if scenario.horizon is None:
        check_sample_count(built.jobs, scenario.metrics.sample_interval)
    return built


def check_sample_count(jobs: JobTable, interval: float) -> None:
    """Without a horizon a run samples until its last job ends: refuse a workload whose jobs,
    even run without waiting, span more than MAX_SAMPLES intervals (``windows.check_span``)."""
    check_span(span_of([extent(jobs)]), interval)
