"""``conservative``: conservative backfilling (every queued job holds a reservation)."""

from __future__ import annotations

import bisect
import math
from itertools import accumulate, compress
from operator import itemgetter

from sim.policies import SCHEDULERS
from sim.policies.base import Renumbering, Scheduler, SchedulingContext
from sim.policies.scheduling.backfill import check_scan_bound
from sim.workload.jobs import JobTable


class Profile:
    """Free allocation units of one GPU type over future time: a step function from ``now``.

    Step ``i`` covers ``[times[i], times[i + 1])`` (the last one runs forever) with
    ``free[i]`` units free; ``times`` is strictly increasing. Built from the running jobs'
    estimated ends; reservations then carve ``[start, start + length)`` out of it. Scans use
    slices and ``min`` (C loops) where they can: a window's check is one ``min`` over its steps.
    """

    __slots__ = ("free", "times")

    def __init__(self, times: list[float], free: list[int]) -> None:
        self.times = times
        self.free = free

    @classmethod
    def from_releases(cls, now: float, free_now: int, ends: list[float], units: list[int]) -> Profile:
        """``free_now`` units at ``now``, plus ``units[i]`` back at ``max(ends[i], now)``; ``ends`` sorted."""
        due = bisect.bisect_right(ends, now)  # overdue estimates: expected back now
        times = [now, *ends[due:]]
        free = list(accumulate(units[due:], initial=free_now + sum(units[:due])))
        # Jobs ending together make one step: keep the last entry of each run of equal times.
        last = [time != after for time, after in zip(times, times[1:], strict=False)]
        if not all(last):
            last.append(True)
            times, free = list(compress(times, last)), list(compress(free, last))
        return cls(times, free)

    def earliest(self, units: int, length: float, first: int = 0) -> int:
        """Index of the first step, from ``first``, where ``units`` stay free for ``length``; -1 if none.

        A candidate start that fails at a short step resumes after that step, so each
        search is O(steps). (Checking windows with ``min`` over slices was slower here:
        windows are long and most candidates fail early.)
        """
        times, free = self.times, self.free
        count = len(times)
        i = first
        while i < count:
            if free[i] < units:
                i += 1
                continue
            end = times[i] + length
            j = i + 1
            while j < count and times[j] < end:
                if free[j] < units:
                    break
                j += 1
            else:
                return i
            i = j + 1
        return -1

    def fits_now(self, units: int, length: float) -> bool:
        """Do ``units`` stay free from step 0 (now) for ``length``?"""
        times, free = self.times, self.free
        if free[0] < units:
            return False
        end = times[0] + length
        for j in range(1, len(times)):
            if times[j] >= end:
                return True
            if free[j] < units:
                return False
        return True

    def reserve(self, i: int, units: int, length: float) -> None:
        """Take ``units`` from step ``i``'s start for ``length`` (``earliest`` said they are free)."""
        times, free = self.times, self.free
        end = times[i] + length
        k = bisect.bisect_left(times, end, i + 1)
        if k == len(times) or times[k] != end:
            times.insert(k, end)
            free.insert(k, free[k - 1])
        free[i:k] = map((-units).__add__, free[i:k])


@SCHEDULERS.register("conservative")
class Conservative(Scheduler):
    """Conservative backfilling: every queued job, in queue order, holds a reservation; none is delayed.

    Algorithm: each pass rebuilds, per GPU type, a profile of free capacity over future
    time: free now, plus each running job's units released at its estimated end
    ``max(start + requested_time, now)``. Then every queued job in queue order (submit
    time, then input order) is given the earliest start at which its units stay free for
    its ``requested_time``, and that interval is taken from the profile (its
    reservation). A job whose reservation is now is started if placement can place it.
    A later job can therefore start now only where it delays no earlier job's
    reservation. With exact estimates on a flat pool, reservations never move later, so no
    job starts after the reservation it got at submission (``first_reservation`` keeps
    that one per job, for checking).

    Units and node structure: the profile counts allocation units, i.e. allocated GPUs: a
    job inside one node needs its ``gpus``, a multi-node job ``nodes x gpus_per_node``
    (its whole nodes). On a flat pool (``gpus_per_node: 1``) units are nodes and this is
    exact conservative backfilling. With several GPUs per node the profile does not see
    fragmentation: a count can fit where no node shape does. A job whose reservation is
    now but that placement cannot place is re-reserved at the profile's next step (the
    next estimated end) if there is one, else it keeps its claim on now; and the
    guarantee above holds only in GPU counts. Jobs of other GPU types never interact.

    ``reservation_depth`` (None: no bound) caps how many jobs that cannot start now get a
    reservation per pass, in queue order, like Maui's RESERVATIONDEPTH: a job past the
    depth starts now only if it fits around the reservations made, and otherwise waits
    without one (and ``first_reservation`` records only reservations actually made).
    Depth 1 protects only the first waiting job, much like ``easy``. It bounds the cost
    under deep queues and changes results.

    Tie-breaking: queue order (job index) decides who reserves first; each job takes the
    earliest feasible start.

    Complexity per pass: nothing beyond fifo's placements while queue heads start (the
    profile is built at the first job that does not); then O(running) to build the
    profiles and, per queued job, an O(steps) search and an O(steps) insert, with steps <=
    distinct estimated ends + 2 x queued: O(Q x (R + Q)). Reservations are recomputed
    from scratch each pass (no state carried over), so estimate errors never accumulate,
    but this is the costliest scheduler here. Measured: the Lublin log (10,000 jobs, 256
    GPUs, overloaded) 10.6 s against easy's 1.0 s; the Munich cluster (10,080 GPUs) at load
    0.98, ~400-500 queued and ~2,400 running: ~17 ms a pass unbounded, ~2 ms with
    ``reservation_depth: 50``.
    """

    def __init__(self, *, reservation_depth: int | None = None) -> None:
        self.reservation_depth = check_scan_bound("reservation_depth", reservation_depth)
        self.first_reservation: dict[int, float] = {}

    def jobs_dropped(self, renumber: Renumbering, jobs: JobTable) -> None:
        self.first_reservation = renumber.keys(self.first_reservation)

    def select(self, ctx: SchedulingContext) -> None:
        jobs, cluster, now = ctx.jobs, ctx.cluster, ctx.now
        first_reservation = self.first_reservation
        # Fast path, same decisions: while every job so far has started, the profile holds
        # only running jobs and so never falls over time; a job placed now fits its whole
        # interval, and its reservation is now. The profile is built at the first refusal.
        queued = list(ctx.queue)
        started = 0
        for job in queued:
            placement = ctx.place(job)
            if placement is None:
                break
            first_reservation.setdefault(job, now)
            ctx.start(job, placement)
            started += 1
        if started == len(queued):
            return
        layout = cluster.layout
        profiles = self._profiles(ctx)
        gpu_types = jobs.gpu_type
        units_of: dict[tuple[int, str], int] = {}
        gpus, requested = jobs.gpus, jobs.requested
        free_by_type = cluster.free_by_type
        depth = math.inf if self.reservation_depth is None else self.reservation_depth
        reserved = 0

        def start_now(job: int, profile: Profile, units: int, length: float) -> bool:
            """Start ``job`` now if placement can put it; its interval leaves the profile."""
            placement = ctx.place(job)
            if placement is None:
                return False
            profile.reserve(0, units, length)
            first_reservation.setdefault(job, now)
            ctx.start(job, placement)
            return True

        for job in queued[started:]:
            gpu_type = gpu_types[job]
            shape = (gpus[job], gpu_type)
            units = units_of.get(shape)
            if units is None:
                units = units_of[shape] = layout.allocated_gpus(*shape)
            length = requested[job]
            profile = profiles[gpu_type]
            if reserved >= depth:
                # Past the depth: start now around the reservations, or wait unreserved.
                if units > free_by_type[gpu_type]:
                    if not any(free_by_type.values()):
                        break
                    continue
                if profile.fits_now(units, length):
                    start_now(job, profile, units, length)
                continue
            step = profile.earliest(units, length)
            if step == 0:
                if start_now(job, profile, units, length):
                    continue
                later = profile.earliest(units, length, 1)
                if later > 0:
                    step = later
            first_reservation.setdefault(job, profile.times[step])
            profile.reserve(step, units, length)
            reserved += 1

    @staticmethod
    def _profiles(ctx: SchedulingContext) -> dict[str, Profile]:
        """Per GPU type: free units now, plus each running job's units back at its estimated end.

        A running job holds ``allocated_gpus`` (the engine checks every placement has that
        shape). Lists are built with ``map``/``compress`` (C loops): this runs every pass.
        """
        now, jobs, cluster = ctx.now, ctx.jobs, ctx.cluster
        layout = cluster.layout
        running = ctx.running
        ends = list(map(itemgetter(0), running))
        held = list(map(itemgetter(2), running))
        types = layout.gpu_types
        if len(types) > 1:
            type_of = list(map(jobs.gpu_type.__getitem__, held))
        profiles = {}
        for gpu_type in types:
            if len(types) > 1:
                mask = [kind == gpu_type for kind in type_of]
                type_ends, type_held = list(compress(ends, mask)), list(compress(held, mask))
            else:
                type_ends, type_held = ends, held
            gpus = list(map(jobs.gpus.__getitem__, type_held))
            gpn = layout.gpus_per_node[gpu_type]
            units = gpus if gpn == 1 else [g if g <= gpn else -(-g // gpn) * gpn for g in gpus]
            profiles[gpu_type] = Profile.from_releases(now, cluster.free_by_type[gpu_type], type_ends, units)
        return profiles
