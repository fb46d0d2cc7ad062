"""Dropping ended jobs: the engine forgets jobs that have ended, so its memory does not grow with the run.

Why: a run's per-job state (the table's rows, start and end times, placements, work left,
queue flags, ...) would otherwise live for the whole run. Between instants, right after a
decision pass, every job that has ended for good (completed, failed, cancelled, withdrawn,
rejected or balked) leaves: its record is made then (``results.job_columns``) and goes to
disk with its workload row (``spilling``), its row and state are dropped, and the jobs left
are numbered anew in the same order (``Renumbering``). Because the order is kept, every
tie-break by job number, the queue order and the running order stay as they were: a run
gives the same schedule and byte-identical outputs whenever jobs are dropped
(``tests/test_dropping.py`` drops at every pass and compares).

Holders of job numbers renumber their own: the engine's structures here, and each policy
in its ``jobs_dropped`` (``Scheduler``, ``Quota``).

When (``DropRule``): once the ended jobs are at least ``min_jobs`` and at least ``share`` of
the table. A drop copies the kept rows, so with the whole workload in the table a share of
one half keeps the copying to about twice the jobs over a run.

Off for an engine given the whole table (``DEFAULT`` is ``NEVER``): with the whole workload
built before the run and every record kept until the end, dropping saves little and costs
time (the copies, and putting the records back in order: roughly +0.6 s of 2.3 s for 200k
jobs of fifo, on a busy machine). An engine fed the workload a week at a time
(``feeding``) drops by ``FED``: its table then holds about a week of jobs.
"""

from __future__ import annotations

import dataclasses
import heapq
from array import array
from itertools import compress
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.engine.results import job_columns
from sim.engine.spilling import spill
from sim.policies.base import Renumbering
from sim.workload.jobs import JobTable

if TYPE_CHECKING:
    from sim.engine.core import Engine


class DropRule(NamedTuple):
    """Drop the ended jobs once they are ``min_jobs`` and ``share`` of the table."""

    min_jobs: int = 1 << 14
    share: float = 0.5


NEVER = DropRule(min_jobs=2**62, share=1.0)
DEFAULT = NEVER  # the whole workload in the table
FED = DropRule()  # fed window by window (feeding.py)
EVERY_PASS = DropRule(min_jobs=1, share=0.0)  # for tests: drop whatever has ended, at every pass


def start_dropping(engine: Engine, jobs: int, rule: DropRule | None, fed: bool) -> None:
    """The engine's dropping state: its rule (None: ``FED`` for an engine fed window by window,
    else ``DEFAULT``, read now so tests may set them), where the records of dropped jobs go
    (``spool``, opened at the first drop; ``finished`` where they stay in memory:
    ``spilling``), each job number's workload row (``rows``), and when to count the ended
    jobs next."""
    engine.drop_rule = rule or (FED if fed else DEFAULT)
    engine.finished = []
    engine.spool = None
    engine.rows = np.arange(jobs)
    engine._drop_check = 0


def maybe_drop(engine: Engine) -> bool:
    """Drop the ended jobs if the engine's rule says so; True if jobs were dropped.

    The engine calls it after a pass once ``_drop_check`` jobs have arrived: it counts the
    ended jobs only once enough jobs have arrived since it last did (``_spacing``), so most
    passes cost one comparison in the engine's loop.
    """
    arrived, rule, n = engine._next_arrival, engine.drop_rule, len(engine.jobs)
    ended = ended_jobs(engine, arrived)
    if not len(ended) or len(ended) < rule.min_jobs or len(ended) < rule.share * n:
        engine._drop_check = arrived + _spacing(rule, n)
        return False
    drop(engine, ended)
    engine._drop_check = engine._next_arrival + _spacing(rule, len(engine.jobs))
    return True


def _spacing(rule: DropRule, table: int) -> int:
    """Arrivals before the ended jobs are counted again: an eighth of what a drop needs."""
    return int(max(rule.min_jobs, rule.share * table)) // 8


def ended_jobs(engine: Engine, arrived: int) -> np.ndarray:
    """The arrived jobs that have ended for good, ascending: an end time, or rejected,
    withdrawn or balked (their end time is set only in the records)."""
    end = engine.end_time
    if isinstance(end, array):  # in C
        ended = np.flatnonzero(~np.isnan(np.frombuffer(end)[:arrived]))
    else:
        ended = np.array([job for job in range(arrived) if end[job] == end[job]], dtype=np.int64)
    market = engine.market
    others = [*engine.rejected, *engine.withdrawn, *(market.balked if market is not None else ())]
    return np.union1d(ended, np.array(others, dtype=np.int64)) if others else ended


def drop(engine: Engine, ended: np.ndarray) -> None:
    """Drop the jobs numbered in ``ended`` (ascending, all ended) and renumber the others."""
    spill(engine, engine.rows[ended], job_columns(engine, ended.tolist()))
    keep = np.ones(len(engine.jobs), dtype=bool)
    keep[ended] = False
    renumber = Renumbering(keep)
    engine.scheduler.jobs_dropped(renumber, engine.jobs)  # while the rows are still there
    if engine.quota is not None:
        engine.quota.jobs_dropped(renumber, engine.jobs)
    engine.rows = engine.rows[keep]
    engine._next_arrival = renumber.floor(engine._next_arrival - 1) + 1
    flags = keep.tolist()
    _drop_rows(engine, flags)
    for name in ("preemptions", "_queued_since", "_ran", "rejected", "withdrawn"):
        setattr(engine, name, renumber.keys(getattr(engine, name)))
    engine.queue.jobs_dropped(renumber, flags)
    engine._pending.jobs_dropped(renumber, flags)
    for view in engine._queue_by_shape.values():
        view.jobs_dropped(renumber)
    keys = _renumber_running(engine, renumber)
    _renumber_heap(engine, renumber, keys)
    engine.notices.jobs_dropped(renumber)
    if engine.market is not None:
        engine.market.jobs_dropped(renumber, flags)


def _drop_rows(engine: Engine, keep: list[bool]) -> None:
    """The table's rows and the per-job columns keep the kept jobs' entries only.

    The table is the engine's own (a shallow copy made at its start): its columns are
    replaced by new ones, so a table the caller passed in is never changed, and a policy
    holding the table (``Quota.bind``) reads the new columns through it.
    """
    table: JobTable = engine.jobs
    for name in JobTable.__slots__:
        setattr(table, name, kept(getattr(table, name), keep))
    for name in (
        "start_time", "end_time", "placements", "work_left", "estimate_left", "_segment_start",
        "_overhead", "_slowdown",
    ):  # fmt: skip
        setattr(engine, name, kept(getattr(engine, name), keep))
    log = engine.segment_log
    log.pods_of, log.held, log.cost = kept(log.pods_of, keep), kept(log.held, keep), kept(log.cost, keep)


def kept(column: list | array, keep: list[bool]) -> list | array:
    """The entries of ``column`` flagged in ``keep``, of the same kind (a list or an array)."""
    if isinstance(column, array):
        return array(column.typecode, compress(column, keep))
    return list(compress(column, keep))


def _renumber_running(engine: Engine, renumber: Renumbering) -> dict:
    """New running keys ``(estimated end, start order, job)`` for every running job; the map
    from each old key to its new one (the running lists and the heap hold the same keys)."""
    keys: dict = {}
    new = renumber.new
    running_key = [key for key, job in zip(engine._running_key, new, strict=True) if job >= 0]
    for job, key in enumerate(running_key):
        if key is not None:
            running_key[job] = keys[key] = (key[0], key[1], job)
    engine._running_key = running_key
    if engine._views:
        engine._running.rekey(keys)
        engine._running_merged = (-1, [])
    return keys


def _renumber_heap(engine: Engine, renumber: Renumbering, keys: dict) -> None:
    """Heap entries carrying a job number: renumbered, or dropped with their job (they would
    do nothing: a void completion, a deadline or notice of an ended job)."""
    new = renumber.new
    complete, deadline = engine._on_complete, engine._on_deadline
    notice_end, claim = engine.notices._on_notice_end, engine.notices._on_claim
    entries = []
    for entry in engine.clock.queue:
        at, priority, sequence, callback, value = entry
        if callback == complete:
            job = new[value[2]]
            if job < 0:
                continue
            value = keys.get(value) or (value[0], value[1], job)
        elif callback in (deadline, claim):
            value = new[value]
            if value < 0:
                continue
        elif callback == notice_end:
            job = new[value[0]]
            if job < 0:
                continue
            value = (job, *value[1:])
        else:
            entries.append(entry)
            continue
        entries.append((at, priority, sequence, callback, value))
    heapq.heapify(entries)
    engine.clock.queue[:] = entries  # the same list: the run loop holds it


def table_copy(jobs: JobTable) -> JobTable:
    """The engine's own table object over the same columns (dropping replaces its columns)."""
    return dataclasses.replace(jobs)
