"""The engine: one loop over arrivals and scheduled callbacks, one decision pass per instant.

Semantics (DESIGN.md, "Engine semantics"): at one timestamp all completions release GPUs,
then all arrivals join the queue, then exactly one decision pass runs. Completions and the
other timed events are callbacks on the clock's heap (no process per job); arrivals are read
straight from the job table (sorted by submit time), so they cost no heap entry. The loop
(``_run_loop``) takes whichever comes first: at one instant, heap entries of priority up to
NORMAL (samples, completions, withdrawals, notices), then the instant's arrivals, then later
priorities; once the next thing to happen is at a later time, the pass runs if anything
changed, so N simultaneous events give one pass.

A sampler, at URGENT priority, records the state just before the events of its instant.
A run ends when no event is left, or at the horizon (events at or after it do not run).

A job with an ``end_by`` instant (an inference replica) ends there if running and is
withdrawn there if still queued. What happens to a job when it is submitted (rejection,
binding to one of several GPU types, the market, the quota) is in ``arrivals.py``.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterator, Sequence
from heapq import heappop, heappush

from sim.cluster.state import ClusterLayout, ClusterState, Placement
from sim.engine import stopping
from sim.engine.arrivals import multi_type_choices, on_arrivals
from sim.engine.clock import NORMAL, URGENT, Clock
from sim.engine.dropping import DropRule, maybe_drop, start_dropping, table_copy
from sim.engine.feeding import first_window
from sim.engine.invariants import InvariantError, check_pass, check_state
from sim.engine.market import Market
from sim.engine.notice import Notices
from sim.engine.queue import JobQueue
from sim.engine.results import SegmentLog, collect
from sim.engine.running import RunningIndex
from sim.engine.sampling import record_sample
from sim.engine.shapes import QueueByShape
from sim.engine.views import SortedViews
from sim.errors import SimError
from sim.policies.base import Placer, Scheduler
from sim.policies.pricing.base import Pricing
from sim.policies.quota.base import Quota
from sim.records import RunRecords
from sim.scenario.market import Demand
from sim.workload.demand import Willingness
from sim.workload.jobs import JobTable, filled
from sim.workload.windows import Window


class Engine(SortedViews):
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
        restart_overhead: float = 0.0,
        pricing: Pricing | None = None,
        quota: Quota | None = None,
        demand: Demand | None = None,
        willingness: Willingness | None = None,
        spot_notice: float = 0.0,
        check: bool = False,
        drop_rule: DropRule | None = None,
        windows: Iterator[Window] | None = None,
        job_classes: Sequence[str] | None = None,
    ) -> None:
        self.layout = layout
        self.check = check  # the expensive invariants after every event and pass (invariants.py)
        # Fed a week at a time (feeding.py; then jobs is unused), or the whole table at once.
        self._windows = windows
        if windows is not None:
            jobs, willingness = first_window(windows)
        self._fed = len(jobs)
        jobs, self._choices = multi_type_choices(jobs, layout)
        jobs = table_copy(jobs)  # the engine's own table object: dropping replaces its columns
        start_dropping(self, len(jobs), drop_rule, windows is not None)  # ended jobs leave the table
        # Whether any job has an end_by (jobs.end_by, inf for the others): a flag, so that
        # runs without one skip the per-job look.
        self._deadlines = any(end != math.inf for end in jobs.end_by)
        self.jobs = jobs
        self.scheduler = scheduler
        self.placer = placer
        # Placers that never slow a job down (most) are not asked at every start.
        self._no_slowdown = type(placer).slowdown is Placer.slowdown
        self.horizon = horizon
        self.sample_interval = sample_interval
        self.on_progress = on_progress
        self.restart_overhead = restart_overhead
        self.pricing = pricing
        self.market = Market(self, pricing, demand, willingness) if pricing is not None else None
        self._responds = self.market is not None and self.market.responds
        # With a quota, jobs wait in pending until the policy admits them to the queue.
        self.quota = quota if quota is not None and not quota.admits_all else None
        if self.quota is not None:
            self.quota.bind(layout, jobs)  # the engine's table: multi-type jobs get their bound type
        self.notices = Notices(self, spot_notice)
        self.cluster = ClusterState(layout)
        self.clock = Clock()
        self.now = 0.0
        n = len(jobs)
        self.queue = JobQueue(n)
        self._pending = JobQueue(n)
        # Per GPU type, its queued jobs grouped by GPU count: ``queue_of_type`` and
        # ``queued_could_fit`` both read it (no second per-type queue to keep up).
        self._queue_by_shape = {t: QueueByShape(layout.gpus_per_node[t]) for t in layout.gpu_types}
        # The sorted running lists and per-type queues, kept only if something reads them: a
        # scheduler that does not (``Scheduler.reads_views``: fifo) spares their upkeep.
        self._views = scheduler.reads_views or spot_notice > 0 or check
        # Running jobs per GPU type, sorted by (estimated end, start order), and busy nodes by
        # when their last job ends; ``running`` merges the types' lists.
        self._running = RunningIndex(layout.gpus_per_node, len(layout.node_pod))
        self._running_merged: tuple[int, list[tuple[float, int, int]]] = (-1, [])
        # Per-job times as arrays of floats if the table's are (jobs.py: 8 bytes, no float object).
        self.start_time = filled(math.nan, n, jobs.submit)
        self.end_time = filled(math.nan, n, jobs.submit)
        self.placements: list[Placement | None] = [None] * n
        # Copies of the same kind (a list, or an array of floats: jobs.py).
        self.work_left = jobs.duration[:]  # true seconds of work still to run
        self.estimate_left = jobs.requested[:]  # what the scheduler believes is left
        self.preemptions: dict[int, int] = {}
        self.segment_log = SegmentLog(self)  # every run segment, recorded as it ends
        self._segment_start = filled(math.nan, n, jobs.submit)
        self._overhead = [0.0] * n  # restart overhead at the head of the current segment
        # (estimated end, start order, job) of each running job; its completion carries that
        # key, and one whose start order is no longer the job's is void (the segment was
        # stopped early), so a preemption need not find it in the heap.
        self._running_key: list[tuple[float, int, int] | None] = [None] * n
        self._queued_since: dict[int, float] = {}  # requeue times of preempted jobs
        self._slowdown = [1.0] * n  # run-time factor of the current placement (placer.slowdown)
        self._ran: dict[int, float] = {}  # wall seconds run in finished segments of preempted jobs
        self.rejected: dict[int, str] = {}
        self.withdrawn: dict[int, float] = {}  # jobs still queued at their end_by, and when
        self.events = 0
        self._running_count = 0
        self.stopped_at: float | None = None  # when a stop request ended the run early
        self.last_event_time = 0.0
        self._next_arrival = 0
        self._started = 0
        self._batches = 0
        self._dirty = False
        classes = sorted(set(jobs.job_class if job_classes is None else job_classes))
        self._queued_gpus: dict[str, int] = dict.fromkeys(classes, 0)
        self._queued_by_type: dict[str, int] = dict.fromkeys(layout.gpu_types, 0)
        self._running_jobs: dict[str, int] = dict.fromkeys(classes, 0)
        self._samples: dict[str, list[float]] = {}
        self._rejections: dict[tuple[int, str], str] = {}  # why a job shape can never run ('' = it can)

    # --- SchedulingContext -------------------------------------------------------------

    def place(self, job: int) -> Placement | None:
        return self.placer.place(self.cluster, self.jobs.gpus[job], self.jobs.gpu_type[job])

    def start(self, job: int, placement: Placement) -> None:
        jobs = self.jobs
        gpu_type = jobs.gpu_type[job]
        self._dequeue(job)  # KeyError if the job is not queued
        self.cluster.allocate_checked(placement, jobs.gpus[job], gpu_type)
        now = self.now
        self.placements[job] = placement
        if self.start_time[job] != self.start_time[job]:  # NaN: its first start
            self.start_time[job] = now
        self._segment_start[job] = now
        self._running_jobs[jobs.job_class[job]] += 1
        self._running_count += 1
        factor = self._slowdown[job] = (
            1.0 if self._no_slowdown else self.placer.slowdown(placement, self.layout)
        )
        key = (now + self.estimate_left[job] * factor, self._started, job)
        if self._views:
            self._running.add(key, gpu_type, placement)
        self._running_key[job] = key
        self._started += 1
        finish = now + self.work_left[job] * factor
        if self._deadlines:
            end_by = jobs.end_by[job]
            if end_by < finish:
                finish = end_by
        heappush(self.clock.queue, (finish, NORMAL, next(self.clock.sequence), self._on_complete, key))

    def preempt(self, job: int, reason: str = "preempted", overhead: float | None = None) -> None:
        """Stop running ``job`` now: release its GPUs and requeue it with the work it has left.

        The job restarts from its last checkpoint (taken at preemption), paying
        ``overhead`` (default: the scenario's ``restart_overhead``) of extra run time,
        which its estimate grows by too.
        """
        self._interrupt(job, reason, overhead)
        self._enqueue(job)

    def _interrupt(self, job: int, reason: str, overhead: float | None) -> None:
        """``preempt`` without the requeue (an evicted job goes back to pending instead)."""
        placement = self.placement_of(job)
        now = self.now
        ran = now - self._segment_start[job]
        self._ran[job] = self._ran.get(job, 0.0) + ran
        worked = ran / self._slowdown[job]
        if overhead is None:
            overhead = self.restart_overhead
        self.notices.leaving.pop(job, None)
        self.work_left[job] += overhead - worked
        self.estimate_left[job] = max(self.estimate_left[job] - worked, 0.0) + overhead
        self._stop(job, placement, reason)
        self._overhead[job] = overhead
        self.preemptions[job] = self.preemptions.get(job, 0) + 1
        self._queued_since[job] = now

    def slowdown(self, placement: Placement) -> float:
        return self.placer.slowdown(placement, self.layout)

    def remaining_estimate(self, job: int) -> float:
        """What the scheduler believes a job has left to run, never below 0."""
        left = self.estimate_left[job]
        if self.placements[job] is not None:
            left -= (self.now - self._segment_start[job]) / self._slowdown[job]
        return max(left, 0.0)

    def queued_since(self, job: int) -> float:
        """When a queued job last joined the queue (its submit time, or its last preemption)."""
        return self._queued_since.get(job, self.jobs.submit[job])

    def elapsed(self, job: int) -> float:
        """Wall seconds a job has run so far, over all its segments (restart overheads included)."""
        done = self._ran.get(job, 0.0)
        if self.placements[job] is not None:
            done += self.now - self._segment_start[job]
        return done

    def running_since(self, job: int) -> float:
        """When a running job's current segment started."""
        self.placement_of(job)  # raises if the job is not running
        return self._segment_start[job]

    def placement_of(self, job: int) -> Placement:
        placement = self.placements[job]
        if placement is None:
            raise SimError(f"job {self.jobs.job_id[job]} is not running")
        return placement

    def reclaim(self, job: int, victims: list[int], reason: str) -> bool:
        return self.notices.reclaim(job, victims, reason)

    def is_leaving(self, job: int) -> bool:
        return job in self.notices.leaving

    def has_claim(self, job: int) -> bool:
        return job in self.notices.claims

    # --- QuotaContext ------------------------------------------------------------------

    def pending(self) -> Iterator[int]:
        return iter(self._pending)

    def admit(self, job: int) -> None:
        assert self.quota is not None
        self._pending.remove(job)
        self.quota.admitted(job)
        self._enqueue(job)

    def evict(self, job: int, reason: str) -> None:
        assert self.quota is not None
        if self.placements[job] is not None:
            self._interrupt(job, reason, None)
        else:
            self._dequeue(job)
        self.quota.released(job)
        self._pending.add(job)
        self.quota.pending_changed(job)

    def is_running(self, job: int) -> bool:
        return self.placements[job] is not None

    def is_pending(self, job: int) -> bool:
        return job in self._pending

    # --- events ------------------------------------------------------------------------

    def _submit(self, job: int) -> None:
        """A job the market let through: to the quota's pending list, or straight to the queue."""
        if self.quota is None:
            self._enqueue(job)
        else:
            self._pending.add(job)
            self.quota.pending_changed(job)

    def _enqueue(self, job: int) -> None:
        """Queue a job: the queue, its type's queue by shape, and the queued-GPU counters."""
        jobs = self.jobs
        gpu_type, gpus = jobs.gpu_type[job], jobs.gpus[job]
        self.queue.add(job)
        if self._views:
            self._queue_by_shape[gpu_type].add(job, gpus, jobs.requested[job])
        self._queued_gpus[jobs.job_class[job]] += gpus
        self._queued_by_type[gpu_type] += gpus

    def _dequeue(self, job: int) -> None:
        """Undo ``_enqueue`` (the job starts or is withdrawn)."""
        jobs = self.jobs
        gpu_type, gpus = jobs.gpu_type[job], jobs.gpus[job]
        self.queue.remove(job)
        if self._views:
            self._queue_by_shape[gpu_type].remove(job, gpus)
        self._queued_gpus[jobs.job_class[job]] -= gpus
        self._queued_by_type[gpu_type] -= gpus

    def _on_deadline(self, job: int) -> None:
        """A job's end_by instant: withdraw it if it is still queued (a running one ends itself)."""
        if job in self.queue:
            self._dequeue(job)
            if self.quota is not None:
                self.quota.released(job)
        elif job in self._pending:
            self._pending.remove(job)
        elif not (self._responds and self.market.withdraw(job)):  # type: ignore[union-attr]
            return  # running (it ends itself), ended, or balked
        self.withdrawn[job] = self.now
        self._after_event()

    def _on_complete(self, key: tuple[float, int, int]) -> None:
        job = key[2]
        current = self._running_key[job]
        if current is None or current[1] != key[1]:
            return  # a preemption stopped that segment: its completion is void
        self.work_left[job] = 0.0
        # Its key is current, so it is running (no placement_of check).
        self._stop(job, self.placements[job], "completed")  # type: ignore[arg-type]
        self.end_time[job] = self.now
        if self.quota is not None:
            self.quota.released(job)
        self.events += 1  # _after_event, inline: once per job
        self.last_event_time = self.now
        self._dirty = True

    def _stop(self, job: int, placement: Placement, reason: str) -> None:
        """Release a running job's GPUs, drop it from the running list, record its segment."""
        self.cluster.move(placement, self.jobs.gpu_type[job], placement.gpus_per_node)
        self._running_jobs[self.jobs.job_class[job]] -= 1
        key = self._running_key[job]
        if key is None:
            raise SimError(f"job {self.jobs.job_id[job]} stopped but is not running")
        if self._views and not self._running.remove(key, self.jobs.gpu_type[job], placement):
            raise SimError(f"job {self.jobs.job_id[job]} stopped but is not in the running list")
        self._running_key[job] = None
        self.placements[job] = None
        self._running_count -= 1
        self.segment_log.record(
            job, self._segment_start[job], self.now, placement, reason, self._overhead[job]
        )

    def _after_event(self) -> None:
        """Something changed at this instant: a decision pass runs once the instant is over."""
        self.events += 1
        self.last_event_time = self.now
        self._dirty = True

    def _decide(self) -> None:
        """The decision pass: quota admission, then the scheduler."""
        self._dirty = False
        if self.quota is not None and self._pending:
            self.quota.admit(self)
        if self.queue.size:
            self.scheduler.select(self)

    def _on_sample(self, _: None) -> None:
        now = self.now
        self.events += 1
        record_sample(self, now)
        if self.on_progress is not None:
            self.on_progress(now)
        following = now + self.sample_interval
        # (Past ~1e19 s an interval no longer moves the clock: sampling stops there, not loops.)
        if (self._next_arrival < len(self.jobs) or self._running_count) and following > now:
            self.clock.at(following, self._on_sample, priority=URGENT)

    def _run_loop(self, until: float) -> bool:
        """Run everything before ``until``; True if a stop request ended the run early.

        Each turn takes the earlier of the next arrival batch and the heap's first entry
        (at one instant, heap entries of priority <= NORMAL go first: completions free GPUs
        before arrivals bind to a type), then, if the next turn is at a later instant and
        something changed, runs the decision pass. A stop request (``stopping``) is honoured
        only between instants, after their pass, so the state it leaves is consistent.
        """
        clock = self.clock
        heap = clock.queue
        check = self.check
        submit = self.jobs.submit
        n = len(submit)
        inf = math.inf
        fed = self._windows is not None
        while True:
            i = self._next_arrival
            arrival = submit[i] if i < n else inf
            if heap:
                entry = heap[0]
                at = entry[0]
                first_arrival = arrival < at or (arrival == at and entry[1] > NORMAL)
            else:
                at = inf
                first_arrival = True
            now = arrival if first_arrival else at
            if now >= until:
                break
            if stopping.requested and not self._dirty and now != self.now:
                return True
            if now < self.now:
                raise InvariantError(f"the clock went back from {self.now!r} to {now!r}")
            clock.now = self.now = now
            if first_arrival:
                on_arrivals(self)
                if fed:  # a window may have come
                    submit, n = self.jobs.submit, len(self.jobs)
            else:
                _, _, _, callback, value = heappop(heap)
                callback(value)
            if self._dirty:
                i = self._next_arrival
                following = heap[0][0] if heap else inf
                if i < n and submit[i] < following:
                    following = submit[i]
                if following != now:
                    self._decide()
                    if check:
                        check_pass(self)
                    if self._next_arrival >= self._drop_check and maybe_drop(self):
                        submit, n = self.jobs.submit, len(self.jobs)
            if check:
                check_state(self)
        if until != inf:
            clock.now = self.now = until
        return False

    # --- run ---------------------------------------------------------------------------

    def run(self) -> RunRecords:
        """Simulate to completion (or the horizon) and return the records."""
        jobs = self.jobs
        if len(jobs):
            first = jobs.submit[0]
            # Samples fall on whole multiples of the interval, from the first one at or before `first`.
            self.clock.at(first - first % self.sample_interval, self._on_sample, priority=URGENT)
            if self.market is not None:
                self.market.start_observing(first)
        # The run makes millions of small acyclic objects (events, keys, segments, records)
        # that reference counting frees; the cyclic GC only rescans them (measured: 1.8x slower).
        collecting = gc.isenabled()
        gc.disable()
        try:
            if self._run_loop(math.inf if self.horizon is None else self.horizon):
                self.stopped_at = self.now
            if self._dirty:
                raise SimError("a decision pass was left pending at the end of the run")
            return collect(self)
        finally:
            if collecting:
                gc.enable()
