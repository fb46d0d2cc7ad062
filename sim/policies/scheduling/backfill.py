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
from collections.abc import Sequence

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
    jobs, now = ctx.jobs, ctx.now
    gpus, gpu_types, requested = jobs.gpus, jobs.gpu_type, jobs.requested
    free_by_type = ctx.cluster.free_by_type
    end = len(order) if max_scan is None else min(len(order), blocked_at + 1 + max_scan)
    for position in range(blocked_at + 1, end):
        job = order[position]
        gpu_type = gpu_types[job]
        if gpus[job] > free_by_type[gpu_type]:
            if not any(free_by_type.values()):
                break
            continue
        placement = ctx.place(job)
        if placement is None:
            continue
        gone_by_shadow = now + requested[job] * ctx.slowdown(placement) <= reservation.shadow
        if reservation.admits(placement, gpu_type, gone_by_shadow):
            ctx.start(job, placement)
            started.append(job)
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
