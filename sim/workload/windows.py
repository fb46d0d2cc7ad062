"""A scenario's workload a window at a time: the jobs submitted in each week, in queue order.

Window k holds the jobs submitted in ``[k * WINDOW, (k + 1) * WINDOW)``, ``WINDOW`` the week
synthetic streams are drawn in (``sim.workload.synthetic``); window 0 also holds any job
submitted before 0 (no reader gives one today: they start at 0). Windows without jobs are
skipped, so ``Window.index`` says which week a window is. The windows one after another are
the whole workload in queue order (submit time; ties: trace rows, then streams, then service
groups, each in its own order), every column and its kind (``JobTable.compact``) and the
willingness to pay included: ``build_workload`` (``sim.workload.build``) builds the whole
table by joining them, so a run fed window by window and one fed the whole table see the
same jobs through one code path.

Why windows: a run of a year holds ten million jobs; fed a week at a time, an engine need
not hold the weeks it has not reached. What is held from the start: the trace, read whole
(a finite file, split by window as the windows are made), and each service group's
replicas, planned whole (the autoscaler runs over each service's whole demand curve) but
kept as numbers (``Replicas``, 24 bytes each) and made into jobs a window at a time.
Each synthetic stream is drawn a week at a time as the windows are asked for
(``stream_windows``): only the current week of each stream is in memory. The willingness
is drawn window by window from one generator (``WillingnessDraw``): the same numbers as
drawn for the whole table.

Known before the first window, for what a run sets up first: the trace's drops, the service
plans, and every job class, tier, tenant and GPU-type text a job can have (the scenario's
``possible_*`` values and the trace's own: a superset, since a stream need not draw every
value it could). The limits that keep a run finite hold before it starts too: the synthetic
job limit is the schema's (``MAX_JOBS``, from the streams' rates, checked at load) and the
sample count without a horizon is ``WorkloadWindows.check_sample_count``'s.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sim.cluster.state import ClusterLayout
from sim.errors import ScenarioError, TraceError
from sim.scenario.schema import MAX_SAMPLES, Scenario, TraceSpec
from sim.scenario.workload import Stream
from sim.workload.calendar import Calendar
from sim.workload.demand import Willingness, WillingnessDraw
from sim.workload.inference import Replicas, ServicePlan, plan_services, replicas_of
from sim.workload.jobs import JobTable
from sim.workload.readers import FORMATS, TraceResult, read_trace
from sim.workload.synthetic import WINDOW, longest_duration, stream_windows


@dataclass(frozen=True, slots=True)
class Window:
    """The jobs submitted in window ``index`` (module docstring), in queue order and compacted,
    and their willingness to pay (None without a ``demand`` section)."""

    index: int
    jobs: JobTable
    willingness: Willingness | None

    @property
    def start(self) -> float:
        """The window's first instant (window 0 also holds any job submitted before it)."""
        return self.index * WINDOW

    @property
    def end(self) -> float:
        """The first instant after the window."""
        return (self.index + 1) * WINDOW


class WorkloadWindows:
    """A scenario's workload as weekly windows (module docstring): made, it has read the
    trace and planned the services; each iteration draws the windows afresh, lazily and in
    order, the same every time. A run takes it from ``workload_windows``, which also makes
    the checks a run needs before its first window."""

    def __init__(self, scenario: Scenario, layout: ClusterLayout) -> None:
        self.scenario = scenario
        self.layout = layout
        workload = scenario.workload
        fallback = default_gpu_type(scenario, layout)
        self._clock = calendar_of(scenario)
        self.drops: dict[str, int] = {}
        """Trace rows the reader dropped, by reason."""
        self.services: list[ServicePlan] = []
        """Each inference service group's plan, in order."""
        trace = JobTable()
        if workload.trace is not None:
            read = read_scenario_trace(workload.trace)
            self.drops = dict(read.drops)
            trace = read.jobs
            trace.gpu_type = [gpu_type or fallback for gpu_type in trace.gpu_type]
            trace = trace.sorted_by_submit().compact()  # the readers sort already: no copy then
        self._trace = trace
        self._arrivals_for = scenario.arrival_window() or 0.0
        streams = workload.synthetic.streams if workload.synthetic is not None else []
        self._streams = [(spec, gpu_type_text(spec.gpu_type, fallback)) for spec in streams]
        self._replicas: list[Replicas] = []
        if workload.inference:
            window = scenario.service_window()
            assert window is not None, "the schema requires a horizon or an arrival window with inference"
            for group in workload.inference:
                plan = plan_services(group, scenario.seed, window, self._clock, workload.tenants)
                self._replicas.append(replicas_of(plan, gpu_type_text(group.gpu_type, fallback)))
                self.services.append(plan)
        users = workload.streams_and_services()
        self.job_classes = _with_trace(workload.possible_job_classes(), trace.job_class)
        """Every job class a job can have: the trace's, then the streams' and services'."""
        self.tiers = _with_trace(workload.possible_tiers(), trace.tier)
        """Every tier a job can have: the trace's, then the streams' and services'."""
        self.tenants = _with_trace(workload.possible_tenants(), trace.tenant)
        """Every tenant a job can have: the trace's, then the streams' and services'."""
        self.gpu_types = _with_trace([gpu_type_text(u.gpu_type, fallback) for u in users], trace.gpu_type)
        """Every ``gpu_type`` text a job can have (``a|b`` for a job accepting several)."""

    def __iter__(self) -> Iterator[Window]:
        """The non-empty windows in order. Each step takes the window's rows of the trace and
        of the replicas and draws the next week of every stream, then merges them by submit
        time, ties in that source order (``JobTable.merge``): as the whole table orders them,
        since a window's rows are the table's rows submitted in it, in the table's order."""
        weeks = [self._weeks(spec, gpu_type) for spec, gpu_type in self._streams]
        whole = [self._trace, *self._replicas]  # in submit order; rows before taken[i] are handed out
        taken = [0] * len(whole)
        rows = [self._trace.rows, *(replicas.jobs for replicas in self._replicas)]
        demand = self.scenario.demand
        draw = None if demand is None else WillingnessDraw(demand, self.scenario.seed)

        def rows_before(source: int, end: float) -> JobTable:
            table, first = whole[source], taken[source]
            taken[source] = bisect.bisect_left(table.submit, end, first)
            return rows[source](first, taken[source])

        k = 0
        while weeks or any(at < len(table) for at, table in zip(taken, whole, strict=True)):
            end = (k + 1) * WINDOW
            trace = rows_before(0, end)
            drawn = [next(week, None) for week in weeks]  # None: the stream has no more weeks
            weeks = [week for week, table in zip(weeks, drawn, strict=True) if table is not None]
            replicas = [rows_before(source, end) for source in range(1, len(whole))]
            parts = [part for part in (trace, *drawn, *replicas) if part]
            if parts:
                jobs = (parts[0] if len(parts) == 1 else JobTable.merge(parts)).compact()
                yield Window(k, jobs, None if draw is None else draw(jobs))
            k += 1

    def check_sample_count(self) -> None:
        """Without a horizon, refuse what ``check_sample_count`` refuses on the joined table
        (the same span, so the same message), without the table: the trace's and replicas'
        extents come from their tables; the streams' from a bound (arrivals in the arrival
        window, durations at most ``longest_duration``), and only if the bound is too long
        from their jobs, drawing every week once, a week at a time in memory."""
        if self.scenario.horizon is not None:
            return
        interval = self.scenario.metrics.sample_interval
        known = [extent(self._trace), *(replicas.extent() for replicas in self._replicas)]
        window = self._arrivals_for
        bound = [(0.0, window + longest_duration(spec)) for spec, _ in self._streams if window > 0]
        if not too_many_samples(span_of([*known, *bound]), interval):
            return
        drawn = [extent(week) for spec, gpu_type in self._streams for week in self._weeks(spec, gpu_type)]
        check_span(span_of([*known, *drawn]), interval)

    def _weeks(self, spec: Stream, gpu_type: str) -> Iterator[JobTable]:
        """A stream's jobs week by week, as ``generate`` joins them."""
        seed, groups = self.scenario.seed, self.scenario.workload.tenants
        return stream_windows(spec, self._arrivals_for, seed, self.layout, gpu_type, self._clock, groups)


def workload_windows(scenario: Scenario, layout: ClusterLayout) -> WorkloadWindows:
    """The scenario's workload to feed a run window by window, checked as ``build_workload``
    checks the whole table: trace errors and the sample count without a horizon raise here,
    before the first window is drawn."""
    windows = WorkloadWindows(scenario, layout)
    windows.check_sample_count()
    return windows


def _with_trace(possible: Sequence[str], column: Iterable[str]) -> list[str]:
    """The trace's values of a column (in order of first use), then ``possible``'s, once each."""
    return list(dict.fromkeys([*column, *possible]))


def extent(jobs: JobTable) -> tuple[float, float] | None:
    """The first submit time and the last end (submit + duration) of ``jobs``; None if empty."""
    if not jobs:
        return None
    return min(jobs.submit), max(map(operator.add, jobs.submit, jobs.duration))


def span_of(extents: Iterable[tuple[float, float] | None]) -> float | None:
    """The span of jobs with these extents: last end - first submit; None if none has jobs."""
    found = [found for found in extents if found is not None]
    if not found:
        return None
    return max(end for _, end in found) - min(first for first, _ in found)


def too_many_samples(span: float | None, interval: float) -> bool:
    """Whether a run sampling every ``interval`` over ``span`` takes more than MAX_SAMPLES."""
    return span is not None and span / interval > MAX_SAMPLES


def check_span(span: float | None, interval: float) -> None:
    """Without a horizon a run samples until its last job ends: refuse a workload whose jobs,
    even run without waiting, span more than MAX_SAMPLES intervals (a run that never ends)."""
    if span is None or not too_many_samples(span, interval):
        return
    raise ScenarioError(
        f"must be at least the workload's span / {MAX_SAMPLES:,} = {span / MAX_SAMPLES:g} s "
        f"when there is no horizon (its jobs span {span:g} s; or set a horizon) (got {interval:g} s)",
        field="metrics.sample_interval",
    )


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
