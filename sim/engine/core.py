"""The engine: a SimPy clock driving arrivals, completions and one decision pass per instant.

Semantics (DESIGN.md, "Engine semantics"): at one timestamp all completions release GPUs,
then all arrivals join the queue, then exactly one decision pass runs. Arrivals and
completions are callbacks on events scheduled at absolute instants (no process per job).
Each callback ends by checking ``clock.peek()``: if another event shares this instant, the
pass waits for the last of them, so N simultaneous events give one pass. Completions always
come before the pass, so their order relative to arrivals within an instant cannot matter.

A sampler, at URGENT priority, records the state just before the events of its instant.
A run ends when no event is left, or at the horizon (events at or after it do not run).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable

from sim.cluster.state import ClusterLayout, ClusterState, Placement
from sim.engine.clock import URGENT, Call, Clock
from sim.engine.queue import JobQueue
from sim.errors import SimError
from sim.policies.base import Placer, Scheduler
from sim.records import JobRecord, RunRecords
from sim.workload.jobs import JobTable

NOT_SUBMITTED = "not submitted before the horizon"
QUEUED_AT_HORIZON = "queued at the horizon"
RUNNING_AT_HORIZON = "running at the horizon"


class Engine:
    """One simulation run. Also the ``SchedulingContext`` its scheduler sees."""

    def __init__(
        self,
        layout: ClusterLayout,
        jobs: JobTable,
        scheduler: Scheduler,
        placer: Placer,
        *,
        horizon: float | None = None,
        sample_interval: float = 3600.0,
        on_progress: Callable[[float], None] | None = None,
    ) -> None:
        self.layout = layout
        self.jobs = jobs
        self.scheduler = scheduler
        self.placer = placer
        self.horizon = horizon
        self.sample_interval = sample_interval
        self.on_progress = on_progress
        self.cluster = ClusterState(layout)
        self.clock = Clock()
        self.now = 0.0
        n = len(jobs)
        self.queue = JobQueue(n)
        self.running: list[tuple[float, int, int]] = []
        self.start_time = [math.nan] * n
        self.end_time = [math.nan] * n
        self.placements: list[Placement | None] = [None] * n
        self._start_seq = [0] * n
        self.rejected: dict[int, str] = {}
        self.events = 0
        self.last_event_time = 0.0
        self._next_arrival = 0
        self._started = 0
        self._dirty = False
        self._queued_gpus: dict[str, int] = dict.fromkeys(sorted(set(jobs.job_class)), 0)
        self._samples: dict[str, list[float]] = {}
        self._rejections: dict[tuple[int, str], str] = {}  # why a job shape can never run ('' = it can)

    # --- SchedulingContext -------------------------------------------------------------

    def place(self, job: int) -> Placement | None:
        return self.placer.place(self.cluster, self.jobs.gpus[job], self.jobs.gpu_type[job])

    def start(self, job: int, placement: Placement) -> None:
        jobs = self.jobs
        gpu_type = jobs.gpu_type[job]
        self.cluster.check(placement, jobs.gpus[job], gpu_type)
        self.queue.remove(job)
        self.cluster.allocate(placement, gpu_type)
        now = self.now
        self.placements[job] = placement
        self.start_time[job] = now
        self._queued_gpus[jobs.job_class[job]] -= jobs.gpus[job]
        bisect.insort(self.running, (now + jobs.requested[job], self._started, job))
        self._start_seq[job] = self._started
        self._started += 1
        self.clock.at(now + jobs.duration[job], self._on_complete, job)

    def placement_of(self, job: int) -> Placement:
        placement = self.placements[job]
        if placement is None:
            raise SimError(f"job {self.jobs.job_id[job]} is not running")
        return placement

    # --- events ------------------------------------------------------------------------

    def _on_arrivals(self, event: Call) -> None:
        self.now = now = self.clock.now
        jobs, layout = self.jobs, self.layout
        submit, n = jobs.submit, len(jobs)
        i = self._next_arrival
        rejections = self._rejections
        while i < n and submit[i] == now:
            shape = (jobs.gpus[i], jobs.gpu_type[i])
            reason = rejections.get(shape)
            if reason is None:
                reason = rejections[shape] = layout.rejection(*shape)
            if reason:
                self.rejected[i] = reason
            else:
                self.queue.add(i)
                self._queued_gpus[jobs.job_class[i]] += jobs.gpus[i]
            i += 1
        self._next_arrival = i
        if i < n:
            self.clock.at(submit[i], self._on_arrivals)
        self._after_event()

    def _on_complete(self, event: Call) -> None:
        job: int = event.value
        self.now = self.clock.now
        jobs = self.jobs
        placement = self.placement_of(job)
        self.cluster.release(placement, jobs.gpu_type[job])
        key = (self.start_time[job] + jobs.requested[job], self._start_seq[job], job)
        index = bisect.bisect_left(self.running, key)
        if self.running[index] != key:
            raise SimError(f"job {jobs.job_id[job]} completed but is not in the running list")
        del self.running[index]
        self.end_time[job] = self.now
        self._after_event()

    def _after_event(self) -> None:
        self.events += 1
        self.last_event_time = self.now
        self._dirty = True
        if self.clock.peek() != self.now:
            self._dirty = False
            if self.queue:
                self.scheduler.select(self)

    def _on_sample(self, event: Call) -> None:
        self.now = now = self.clock.now
        self.events += 1
        self._record_sample(now)
        if self.on_progress is not None:
            self.on_progress(now)
        if self._next_arrival < len(self.jobs) or self.running:
            self.clock.at(now + self.sample_interval, self._on_sample, priority=URGENT)

    def _record_sample(self, now: float) -> None:
        layout, cluster, samples = self.layout, self.cluster, self._samples
        busy = layout.capacity - cluster.free_total
        row: dict[str, float] = {"time": now, "busy_gpus": busy, "utilisation": busy / layout.capacity}
        for gpu_type, capacity in layout.capacity_by_type.items():
            row[f"utilisation.{gpu_type}"] = 1 - cluster.free_by_type[gpu_type] / capacity
        for pod, free in zip(layout.pods, cluster.free_by_pod, strict=True):
            row[f"utilisation.pod.{pod.name}"] = 1 - free / pod.gpus
        row["queue_jobs"] = len(self.queue)
        row["queue_gpus"] = sum(self._queued_gpus.values())
        for job_class, gpus in self._queued_gpus.items():
            row[f"queue_gpus.{job_class}"] = gpus
        for key, value in row.items():
            samples.setdefault(key, []).append(value)

    # --- run ---------------------------------------------------------------------------

    def run(self) -> RunRecords:
        """Simulate to completion (or the horizon) and return the records."""
        jobs = self.jobs
        if len(jobs):
            first = jobs.submit[0]
            self.clock.at(first, self._on_arrivals)
            # Samples fall on whole multiples of the interval, from the first one at or before `first`.
            self.clock.at(first - first % self.sample_interval, self._on_sample, priority=URGENT)
        if self.horizon is None:
            self.clock.run()
        else:
            self.clock.run(until=self.horizon)
        if self._dirty:
            raise SimError("a decision pass was left pending at the end of the run")
        return self._records()

    def _records(self) -> RunRecords:
        jobs, layout = self.jobs, self.layout
        pod_of_node = [layout.pods[pod].name for pod in layout.node_pod]
        records = []
        for i in range(len(jobs)):
            start, end = self.start_time[i], self.end_time[i]
            placement = self.placements[i]
            if i in self.rejected:
                status, reason = "rejected", self.rejected[i]
            elif not math.isnan(end):
                status, reason = "completed", ""
            elif not math.isnan(start):
                status, reason = "unfinished", RUNNING_AT_HORIZON
            elif i < self._next_arrival:
                status, reason = "unfinished", QUEUED_AT_HORIZON
            else:
                status, reason = "unfinished", NOT_SUBMITTED
            pods = ""
            if placement is not None:
                nodes = placement.nodes
                if len(nodes) == 1:
                    pods = pod_of_node[nodes[0]]
                else:
                    pods = ";".join(dict.fromkeys(pod_of_node[node] for node in nodes))
            records.append(
                JobRecord(
                    job_id=jobs.job_id[i],
                    tenant=jobs.tenant[i],
                    job_class=jobs.job_class[i],
                    gpu_type=jobs.gpu_type[i],
                    gpus=jobs.gpus[i],
                    submit_time=jobs.submit[i],
                    duration=jobs.duration[i],
                    requested_time=jobs.requested[i],
                    priority=jobs.priority[i],
                    start_time=start,
                    end_time=end,
                    status=status,
                    reason=reason,
                    pods=pods,
                    allocated_gpus=placement.gpus if placement else 0,
                )
            )
        return RunRecords(
            jobs=records,
            timeseries=self._samples,
            capacity_gpus=layout.capacity,
            capacity_by_type=dict(layout.capacity_by_type),
            capacity_by_pod={pod.name: pod.gpus for pod in layout.pods},
            end_time=self.last_event_time if self.horizon is None else self.clock.now,
            horizon=self.horizon,
            events=self.events,
        )
