"""Submission: what becomes of each job at its submit time.

At its instant (after the completions of that instant), a job is rejected if its shape can
never run here (remembered per shape) or its quota refuses it; else the market may make it
balk or defer; else it joins the quota's pending list or the queue. A job with an
``end_by`` gets its withdrawal scheduled.

A job accepting several GPU types (``a|b`` in ``gpu_type``, or ``*`` for any type of the
cluster, in the order pods list them) is bound to one when it arrives: the first listed
type that can place it at that moment (counting the completions of the instant, not the
arrivals queued with it), else the hostable type with the least queued GPU demand per GPU
of capacity (ties: listed order). Its duration and estimate are for the first listed type,
scaled by speed[first] / speed[bound] (except for jobs with an ``end_by``, whose lifetime
is set by it). Policies see only the bound type.
"""

from __future__ import annotations

import dataclasses
from math import inf
from typing import TYPE_CHECKING

from sim.cluster.state import ClusterLayout
from sim.engine.feeding import take_window
from sim.workload.jobs import ANY_GPU_TYPE, JobTable

if TYPE_CHECKING:
    from sim.engine.core import Engine

# Arrival batches between two compactions of the queue's dead entries.
COMPACT_EVERY = 64


def multi_type_choices(jobs: JobTable, layout: ClusterLayout) -> tuple[JobTable, dict[str, list[str]]]:
    """The acceptable types of each ``gpu_type`` text naming several, and the table the engine
    may bind jobs in.

    Keyed by the text, not by job: a few entries, however many jobs (a year of the Munich
    scenario has ten million such jobs). A bound job's type (and its run time on it) is
    written into the engine's own copy of those columns; the input table stays as given (and
    is returned itself if no job has a choice).
    """
    choices = {
        t: (list(layout.gpu_types) if t == ANY_GPU_TYPE else t.split("|"))
        for t in set(jobs.gpu_type)
        if "|" in t or t == ANY_GPU_TYPE
    }
    if choices:
        jobs = dataclasses.replace(
            jobs, gpu_type=jobs.gpu_type[:], duration=jobs.duration[:], requested=jobs.requested[:]
        )
    return jobs, choices


def on_arrivals(engine: Engine) -> None:
    """The jobs submitted now join the queue (or pending, or are rejected, balk or defer)."""
    now = engine.now
    jobs = engine.jobs
    submit = jobs.submit
    n = len(submit)
    i = engine._next_arrival
    rejections, choices, deadlines = engine._rejections, engine._choices, engine._deadlines
    engine._batches += 1
    if engine._batches % COMPACT_EVERY == 0:
        engine.queue.compact()
    while i < n and submit[i] == now:
        if choices:
            types = choices.get(jobs.gpu_type[i])
            if types is not None:
                bind(engine, i, types)
        shape = (jobs.gpus[i], jobs.gpu_type[i])
        reason = rejections.get(shape)  # rejection()'s memo, read inline: this runs once per job
        if reason is None:
            reason = rejection(engine, *shape)
        if not reason and engine.quota is not None:
            reason = engine.quota.rejection(i)
        if reason:
            engine.rejected[i] = reason
        elif not engine._responds or engine.market.accepts(i):  # type: ignore[union-attr]
            if engine.quota is None:  # engine._submit's first case, without the call
                engine._enqueue(i)
            else:
                engine._submit(i)
        if deadlines and jobs.end_by[i] != inf and i not in engine.rejected:
            engine.clock.at(jobs.end_by[i], engine._on_deadline, i)
        i += 1
    engine._next_arrival = i
    if i == n and engine._windows is not None:  # every job held has come: the next window's
        take_window(engine)
    engine.events += 1  # _after_event, inline: once per arrival instant
    engine.last_event_time = now
    engine._dirty = True


def rejection(engine: Engine, gpus: int, gpu_type: str) -> str:
    """Why a job of this shape can never run here ('' if it can), remembered per shape."""
    reason = engine._rejections.get((gpus, gpu_type))
    if reason is None:
        layout = engine.layout
        reason = layout.rejection(gpus, gpu_type) or engine.placer.rejection(layout, gpus, gpu_type)
        engine._rejections[gpus, gpu_type] = reason
    return reason


def bind(engine: Engine, job: int, types: list[str]) -> None:
    """Bind a job accepting several GPU types to one (the rule in the module docstring)."""
    jobs, gpus = engine.jobs, engine.jobs.gpus[job]
    hostable = [t for t in types if not rejection(engine, gpus, t)]
    if not hostable:
        jobs.gpu_type[job] = types[0]  # rejected on arrival, with the first type's reason
        return
    chosen = next((t for t in hostable if engine.placer.place(engine.cluster, gpus, t) is not None), None)
    if chosen is None:
        capacity = engine.layout.capacity_by_type
        chosen = min(hostable, key=lambda t: engine._queued_by_type[t] / capacity[t])
    jobs.gpu_type[job] = chosen
    speed = engine.layout.speed
    scale = speed.get(types[0], 1.0) / speed[chosen]
    if scale != 1.0 and jobs.end_by[job] == inf:  # a replica ends at its end_by, whatever the speed
        jobs.duration[job] *= scale
        jobs.requested[job] *= scale
        engine.work_left[job] = jobs.duration[job]
        engine.estimate_left[job] = jobs.requested[job]
