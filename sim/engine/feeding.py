"""Feeding the engine its workload a week at a time (``sim.workload.windows``;
``sim.api.simulate(fed=True)``).

Why: a year of a large factory is ten million jobs; the engine needs only the jobs that
have arrived and not ended (``dropping`` forgets the others) plus those about to arrive.
The engine starts with the first window's jobs; when the last job it holds arrives, the
next window's jobs are appended to its table and to every per-job column, numbered on
from its last job. So "every job it holds has arrived" means "no job is left to come", as
with a whole table (the sampler and the price clock stop on it), and a batch of arrivals
never spans two windows (a window holds every job of its instants).

Everything a run sets up from the table at its start comes from the windows' superset
instead where the table is not whole: the job classes (the timeseries' columns), and the
GPU types a job may choose among (``multi_type_choices``), here per window as they come.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.workload.demand import Willingness
from sim.workload.jobs import JobTable, filled

if TYPE_CHECKING:
    from sim.engine.core import Engine
    from sim.workload.windows import Window


def first_window(windows: Iterator[Window]) -> tuple[JobTable, Willingness | None]:
    """The table (and willingness) an engine fed by ``windows`` starts with: its first window's."""
    window = next(windows, None)
    return (JobTable(), None) if window is None else (window.jobs, window.willingness)


def take_window(engine: Engine) -> bool:
    """Append the next window's jobs to the engine's table (False if none is left)."""
    from sim.engine.arrivals import multi_type_choices  # (arrivals calls this module)

    window = next(engine._windows, None) if engine._windows is not None else None
    if window is None:
        engine._windows = None
        return False
    jobs, choices = multi_type_choices(window.jobs, engine.layout)
    engine._choices.update(choices)
    m = len(jobs)
    if not engine._deadlines:
        engine._deadlines = any(end != math.inf for end in jobs.end_by)
    table = engine.jobs
    for name in JobTable.__slots__:
        setattr(table, name, appended(getattr(table, name), getattr(jobs, name)))
    for name, value in (("start_time", math.nan), ("end_time", math.nan), ("_segment_start", math.nan)):
        setattr(engine, name, appended(getattr(engine, name), filled(value, m, jobs.submit)))
    engine.work_left = appended(engine.work_left, jobs.duration)
    engine.estimate_left = appended(engine.estimate_left, jobs.requested)
    engine.placements += [None] * m
    engine._running_key += [None] * m
    engine._overhead += [0.0] * m
    engine._slowdown += [1.0] * m
    log = engine.segment_log
    log.pods_of += [""] * m
    log.held += [0] * m
    log.cost = appended(log.cost, filled(0.0, m, jobs.submit))
    engine.queue.grow(m)
    engine._pending.grow(m)
    engine.rows = np.concatenate([engine.rows, np.arange(engine._fed, engine._fed + m)])
    engine._fed += m
    if engine.market is not None and window.willingness is not None:
        engine.market.take(window.willingness)
    return True


def appended(column: Sequence[Any], more: Sequence[Any]) -> Sequence[Any]:
    """A new column: ``column`` then ``more``, an ``array("d")`` if both are, else a list."""
    if isinstance(column, array) and isinstance(more, array):
        return column + more
    return [*column, *more]
