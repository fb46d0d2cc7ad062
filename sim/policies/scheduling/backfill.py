"""Shared by the ordered-queue schedulers (``sjf``, ``priority``, ``fairshare``).

``start_then_backfill`` is EASY backfilling over a queue order chosen by the caller: start
jobs in that order while they fit; the first that does not gets ``easy``'s
``HeadReservation`` and the rest of the order is EASY-backfilled against it, exactly as
``easy`` backfills against its head. With the order equal to queue order it is ``easy``.

The ``check_*`` helpers validate scheduler parameters with messages of the form
``'x' must be ... (got ...)``; durations accept ``parse_duration``'s units (``7d``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from sim.policies.base import SchedulingContext
from sim.policies.scheduling.reservation import HeadReservation
from sim.units import parse_duration


def start_then_backfill(
    ctx: SchedulingContext, order: Sequence[int], max_scan: int | None = None
) -> list[int]:
    """Start ``order``'s jobs while they fit, then EASY-backfill the rest; return the started jobs.

    ``order`` holds queued jobs, each once. The first job that placement cannot place is the
    blocked job: it gets a reservation at its shadow time (``HeadReservation``), and every
    later job of ``order`` that placement can put somewhere now starts if it is gone by the
    shadow time (``now + requested_time <= shadow``) or if the blocked job still fits at the
    shadow time with its GPUs held. ``max_scan`` (None: no bound) caps how many jobs this
    backfill scan examines (Slurm's ``bf_max_job_test``); jobs beyond it wait for a later
    pass. The scan skips a job wanting more GPUs than its type has free and stops when no
    GPU of any type is free.
    """
    started: list[int] = []
    blocked_at = -1
    for position, job in enumerate(order):
        placement = ctx.place(job)
        if placement is None:
            blocked_at = position
            break
        ctx.start(job, placement)
        started.append(job)
    if blocked_at < 0:
        return started
    reservation = HeadReservation(ctx, order[blocked_at])
    end = len(order) if max_scan is None else min(len(order), blocked_at + 1 + max_scan)
    started += backfill(ctx, reservation, order[blocked_at + 1 : end])
    return started


def backfill_each_type(
    ctx: SchedulingContext,
    head: int,
    after: Mapping[str, int] | None = None,
    cache: dict | None = None,
    used: list[HeadReservation] | None = None,
) -> list[int]:
    """EASY's backfill after the blocked ``head``, over each GPU type's own queue.

    The same starts as one scan of the whole queue after the head: a job's fate depends only
    on its own type's nodes and, for the head's type, the head's reservation (built only if
    that type has a free GPU), so the types can be scanned one after another. What it saves:
    a type with no free GPU costs nothing, however long its queue, and of the others only
    the jobs the free nodes could hold are looked at (``queued_could_fit``: the rest would be
    refused by placement, and a refusal only passes over later jobs of the same shape, which
    are left out too). Where ``after`` maps a
    type to a job number, only that type's jobs numbered above it are candidates (the
    caller knows the others would be refused).
    """
    started: list[int] = []
    free_by_type = ctx.cluster.free_by_type
    head_type = ctx.jobs.gpu_type[head]
    for gpu_type in ctx.cluster.layout.gpu_types:
        if free_by_type[gpu_type]:
            reservation = HeadReservation(ctx, head, cache) if gpu_type == head_type else None
            if reservation is not None and used is not None:
                used.append(reservation)
            since = -1 if after is None else after.get(gpu_type, -1)
            over = within = math.inf
            if reservation is not None and reservation.threshold == reservation.gpus_per_node:
                # A head wanting whole nodes: its reservation is cheap (no long walk), and the
                # whole-node jobs it would refuse need not be listed at all.
                over, within = reservation.refuses_whole(ctx.now)
            candidates = ctx.queued_could_fit(gpu_type, since, over, within)
            started += backfill(ctx, reservation, candidates, gpu_type, skip=head)
    return started


def backfill(
    ctx: SchedulingContext,
    reservation: HeadReservation | None,
    candidates: Iterable[int],
    only_type: str | None = None,
    skip: int = -1,
) -> list[int]:
    """Start each candidate that placement can put somewhere now and the reservation admits.

    A candidate is admitted if it is gone by the shadow time or the head still fits with its
    GPUs held (``HeadReservation.admits``); with no reservation (candidates of another type
    than the head's) every candidate that fits is. The scan skips a job wanting more GPUs than its
    type has free and stops when no GPU is free (of ``only_type``, when the candidates are
    all of that type). Candidates may be a lazy view of the queue: starting only removes.
    ``skip`` (the blocked head, when the candidates are its type's queue) is passed over.
    """
    jobs, now = ctx.jobs, ctx.now
    gpus, gpu_types, requested = jobs.gpus, jobs.gpu_type, jobs.requested
    free_by_type = ctx.cluster.free_by_type
    started: list[int] = []
    # Shape -> smallest requested time refused since the last start: the cluster is unchanged
    # until a start, placement depends only on (gpus, type), and a longer job is refused
    # wherever a shorter one of its shape was. So such jobs are skipped without trying.
    refused: dict[tuple[int, str], float] = {}
    inf = math.inf
    # With one type, its free count is all the size test needs (refreshed at each start).
    free = free_by_type[only_type] if only_type else 0
    # The reservation's shadow time and spare nodes for whole-node candidates, read again
    # only after a start (the reservation changes only then).
    shadow: float | None = None
    spare = 0
    for job in candidates:
        need = gpus[job]
        if only_type:
            if need > free:
                if not free:
                    break
                continue
            gpu_type = only_type
        else:
            gpu_type = gpu_types[job]
            if need > free_by_type[gpu_type]:
                if not any(free_by_type.values()):
                    break
                continue
        if job == skip:
            continue
        shape = (need, gpu_type)
        if requested[job] >= refused.get(shape, inf):
            continue
        if (
            reservation is not None
            and reservation.walked  # else placement first: a failed one needs no walk
            and gpu_type == reservation.gpu_type
            and need >= reservation.gpus_per_node
        ):
            # A job holding whole nodes (all of each node's GPUs) fares the same on any nodes:
            # admits() refuses it if it is not gone by the shadow time at full speed (a
            # placement only slows a job down) and takes more nodes than the head can spare.
            # So it is refused without asking placement.
            if shadow is None:  # (again) after a start: the reservation's state moved
                shadow, spare = reservation.shadow, reservation.fits - reservation.needed
            if now + requested[job] > shadow and -(-need // reservation.gpus_per_node) > spare:
                refused[shape] = min(requested[job], refused.get(shape, inf))
                continue
        placement = ctx.place(job)
        if placement is None:
            refused[shape] = -inf
            continue
        if reservation is None or reservation.admits(
            placement, gpu_type, now + requested[job] * ctx.slowdown(placement) <= reservation.shadow
        ):
            ctx.start(job, placement)
            started.append(job)
            refused.clear()
            shadow = None
            if only_type:
                free = free_by_type[only_type]
        else:
            refused[shape] = min(requested[job], refused.get(shape, inf))
    return started


def check_weight(name: str, value: object) -> float:
    """``value`` as a float if it is a finite number >= 0, else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name!r} must be a finite number >= 0 (got {value!r})")
    return float(value)


def check_duration(name: str, value: object) -> float:
    """``value`` in seconds if it is a duration > 0 (a number or a string like ``7d``), else ValueError."""
    try:
        seconds = parse_duration(value)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise ValueError(
            f"{name!r} must be a duration > 0: seconds or a string like '12h', '7d' (got {value!r})"
        )
    return seconds


def check_scan_bound(name: str, value: object) -> int | None:
    """``value`` if it is None or an integer >= 1, else ValueError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name!r} must be an integer >= 1 or null for no bound (got {value!r})")
    return value
