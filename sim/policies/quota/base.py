"""The quota interface: which queued jobs are admitted to the scheduler's queue.

With a quota policy a submitted job first waits for admission (``pending``); only
admitted jobs are in the queue the scheduler sees. An admitted job holds quota from
admission until it leaves the cluster (ends, is withdrawn, or is preempted: a preempted
job goes back to pending and must be admitted again). A quota policy overrides ``admit``
(its one decision), called at the start of every decision pass, and keeps its own
accounting through ``admitted``/``released``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Protocol

from sim.cluster.state import ClusterLayout
from sim.policies.base import Reference, Renumbering
from sim.workload.jobs import JobTable


class QuotaContext(Protocol):
    """What a quota policy sees in ``admit``."""

    now: float
    jobs: JobTable

    def pending(self) -> Iterator[int]:
        """Jobs waiting for admission, in queue order (submit time, ties in input order)."""
        ...

    def admit(self, job: int) -> None:
        """Admit a pending job: it joins the scheduler's queue (the engine calls ``admitted``)."""
        ...

    def evict(self, job: int, reason: str) -> None:
        """Take an admitted job back to pending: preempted if running, else just dequeued
        (the engine calls ``released``)."""
        ...

    def is_running(self, job: int) -> bool: ...

    def is_pending(self, job: int) -> bool:
        """Whether ``job`` waits for admission now."""
        ...


class Quota(ABC):
    """Admits jobs within limits. Override ``admit``, ``admitted`` and ``released``."""

    name: str = ""
    admits_all: bool = False  # True: the engine queues jobs on arrival and never asks

    def references(self) -> list[Reference]:
        """The GPU types, tenants and job classes the parameters name (checked at load: a
        limit on something the scenario lacks limits nothing)."""
        return []

    def bind(self, layout: ClusterLayout, jobs: JobTable) -> None:
        """Called once before a run (precompute each job's accounts)."""
        return None

    def rejection(self, job: int) -> str:
        """Why ``job`` could never be admitted ('' if it could); asked once, at its arrival."""
        return ""

    def violation(self, admitted: list[int]) -> str:
        """Under ``--check``, after each pass: the limits recomputed from scratch for the
        ``admitted`` jobs (queued or running), and what is broken ('' if nothing)."""
        return ""

    @abstractmethod
    def admit(self, ctx: QuotaContext) -> None:
        """Admit pending jobs with ``ctx.admit`` (and ``ctx.evict`` admitted ones to reclaim quota)."""

    def admitted(self, job: int) -> None:
        """``job`` now holds quota."""
        return None

    def released(self, job: int) -> None:
        """``job`` no longer holds quota (it ended, was withdrawn, or was evicted)."""
        return None

    def jobs_dropped(self, renumber: Renumbering, jobs: JobTable) -> None:
        """Ended jobs leave the table and the others are numbered anew, in the same order
        (``Scheduler.jobs_dropped``): renumber the job numbers kept."""
        return None

    def pending_changed(self, job: int) -> None:
        """``job`` joined pending (arrival or eviction): policies that track work to do note it."""
        return None
