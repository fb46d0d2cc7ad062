"""The interfaces a policy implements, and what it may read.

A scheduler subclasses ``Scheduler`` and overrides exactly ``select``; a placement policy
subclasses ``Placer`` and overrides ``place`` (and, if it needs them, ``slowdown`` and
``rejection``). Both receive read-only views and never import the engine or SimPy.
Parameters are keyword-only ``__init__`` arguments (``gpusim policies`` lists them).

Why ``select`` acts through ``ctx.start`` instead of returning a list: within one pass each
start changes which later jobs fit (gangs, node structure), so a scheduler needs the
engine-checked result of one start before it decides the next.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np

from sim.cluster.state import ClusterLayout, ClusterView, Placement
from sim.workload.jobs import JobTable


class Reference(NamedTuple):
    """A name a policy's parameters give for a GPU type, tenant, job class or tier, where they
    give it (``prices.B200``), and whether it is a glob pattern (``sme-*``). The loader refuses
    one that names nothing the scenario has: a typo there would silently do nothing. A tier
    is one of a fixed few, all valid: one that no job has is a warning (``no_effect``)."""

    kind: str  # "gpu_type", "tenant", "job_class" or "tier"
    path: str
    name: str
    pattern: bool = False


class QueueView(Protocol):
    """Queued job numbers in queue order; ``head()`` is the first.

    Two kinds implement it: ``ctx.queue`` (``JobQueue``) and each type's
    ``ctx.queue_of_type(t)`` (``QueueByShape``, the type's jobs grouped by GPU count). Walks
    (iteration, ``after``) yield in queue order, and starting the job just yielded is safe;
    adding jobs (a preemption) while walking is not supported. They differ in what else a walk
    sees: ``ctx.queue``'s are lazy (a job removed ahead of the walk is not yielded), a type's
    are snapshots taken when the walk starts (cheaper to keep: no second per-type queue).
    """

    @property
    def size(self) -> int:
        """What ``len`` gives (``ctx.queue``'s is an attribute: no call in a hot loop)."""
        ...

    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[int]: ...
    def __contains__(self, job: int) -> bool: ...
    def head(self) -> int: ...
    def after(self, job: int) -> Iterator[int]: ...
    def last(self) -> int:
        """The highest job number listed, -1 if none: at least every queued one's (a job that
        left may still count: ``ctx.queue`` drops it lazily, a type's view never)."""
        ...

    @property
    def inserted_inside(self) -> int:
        """How many jobs were ever added numbered at most ``last()`` as it then was (requeues, late
        admissions). A type's view never lowers ``last()``, so a scan that remembered it and looks
        only above it misses a job added since only if this moved; ``ctx.queue``'s ``last()``
        drops with the dead entries it drops, so there a move is a sign, its absence no proof."""
        ...


class SchedulingContext(Protocol):
    """What a scheduler sees during one decision pass at time ``now``.

    ``queue`` holds queued job indices in queue order (submit time, ties in input order);
    ``running`` lists running jobs as ``(start + requested_time, start_seq, job)`` sorted
    ascending (the estimated end is that value or ``now``, whichever is later).
    """

    now: float
    queue: QueueView
    jobs: JobTable
    cluster: ClusterView
    running: Sequence[tuple[float, int, int]]
    placements: Sequence[Placement | None]  # per job: where it runs now, None if not running

    def place(self, job: int) -> Placement | None:
        """Where the placement policy would put ``job`` now, or None if it cannot fit."""
        ...

    def running_of_type(self, gpu_type: str) -> Sequence[tuple[float, int, int]]:
        """The running jobs of one GPU type, sorted as ``running``."""
        ...

    def nodes_free_at(self, gpu_type: str) -> Sequence[tuple[float, int, int]]:
        """The busy nodes of one GPU type as ``(estimated end, start order, node)`` of the job
        on each estimated to end last, sorted: the order they come fully free (types of more
        than one GPU per node only)."""
        ...

    def running_since(self, job: int) -> float:
        """When a running job's current segment started."""
        ...

    def queue_of_type(self, gpu_type: str) -> QueueView:
        """The queued jobs of one GPU type, in queue order (a view of ``queue``)."""
        ...

    def queued_could_fit(
        self, gpu_type: str, after: int = -1, over: float = math.inf, within: float = math.inf
    ) -> list[int]:
        """The queued jobs of one GPU type numbered above ``after`` (-1: all) that the free nodes
        could hold by GPU count (a node with that many free GPUs, or enough whole free nodes),
        in queue order: those a placement might accept now; of the jobs holding whole nodes
        with more than ``over`` GPUs, only those requesting at most ``within`` s. A new list."""
        ...

    def start(self, job: int, placement: Placement) -> None:
        """Start ``job`` on ``placement`` (the engine checks it and removes the job from the queue)."""
        ...

    def placement_of(self, job: int) -> Placement:
        """The placement of a running job."""
        ...

    def slowdown(self, placement: Placement) -> float:
        """Run-time factor a job would get on ``placement`` (the placement policy's slowdown)."""
        ...

    def preempt(self, job: int, reason: str = "preempted") -> None:
        """Stop a running job now and requeue it (at its queue-order place) with the work left.

        It frees the job's GPUs at once. Iterating ``queue`` across a preemption is not
        supported: take ``list(ctx.queue)`` first.
        """
        ...

    def reclaim(self, job: int, victims: list[int], reason: str) -> bool:
        """Preempt ``victims`` for queued ``job``: True if they stopped now (start ``job`` then);
        False if they were given the scenario's spot notice (the engine starts ``job`` when
        it ends, if it still fits)."""
        ...

    def is_leaving(self, job: int) -> bool:
        """Whether a running job was given notice and stops soon."""
        ...

    def has_claim(self, job: int) -> bool:
        """Whether a queued job waits for the GPUs of jobs under notice."""
        ...

    def remaining_estimate(self, job: int) -> float:
        """Seconds the job's estimate says are left (requested time minus time run), >= 0."""
        ...

    def elapsed(self, job: int) -> float:
        """Seconds the job has run so far over all its segments."""
        ...

    def queued_since(self, job: int) -> float:
        """When a queued job last joined the queue (submit time or last preemption)."""
        ...


class Scheduler(ABC):
    """Decides which queued jobs start now. Override ``select`` only."""

    name: str = ""
    # Whether ``select`` reads ``ctx.running``, ``running_of_type`` or ``queue_of_type``: if
    # not (fifo), the engine does not keep those sorted views, and reading one is an error.
    reads_views: bool = True
    # Whether ``select`` may call ``ctx.reclaim`` (stop spot jobs for others): the
    # scenario's ``preemption.spot_notice`` acts only then.
    reclaims: bool = False

    @abstractmethod
    def select(self, ctx: SchedulingContext) -> None:
        """Start jobs through ``ctx.start``; called once per timestamp with events."""

    def violation(self, ctx: SchedulingContext) -> str:
        """Under ``--check``, after each pass: what this policy promised and broke ('' if nothing)."""
        return ""

    def jobs_dropped(self, renumber: Renumbering, jobs: JobTable) -> None:
        """Ended jobs leave the table between passes (the engine's memory stays bounded), and
        the others are numbered anew, in the same order (``Renumbering``); ``jobs`` is the
        table before, with every row. A scheduler that keeps job numbers from one pass to
        the next renumbers them here and forgets the dropped ones."""
        return None


class Renumbering:
    """Job numbers after the engine dropped ended jobs (``jobs_dropped``): ``new[j]`` is job
    ``j``'s new number, -1 if it was dropped. The kept jobs keep their order, numbered
    0, 1, ... without gaps, so every comparison of two kept jobs' numbers is unchanged."""

    __slots__ = ("_kept_through", "last_dropped", "new")

    def __init__(self, keep: np.ndarray) -> None:
        kept_through = np.cumsum(keep)
        new = kept_through - 1
        new[~keep] = -1
        self.new: list[int] = new.tolist()
        self._kept_through = kept_through
        dropped = np.flatnonzero(~keep)
        self.last_dropped = int(dropped[-1]) if len(dropped) else -1

    def __getitem__(self, job: int) -> int:
        return self.new[job]

    def floor(self, job: int) -> int:
        """The new number of the last kept job numbered at most ``job`` (-1 if none): where a
        mark such as "the highest job number seen" moves to."""
        return int(self._kept_through[job]) - 1 if job >= 0 else job

    def keys(self, mapping: dict[int, Any]) -> dict[int, Any]:
        """A dict keyed by job number, renumbered: the dropped jobs' entries gone, order kept."""
        new = self.new
        return {new[job]: value for job, value in mapping.items() if new[job] >= 0}

    def jobs(self, jobs: Iterable[int]) -> list[int]:
        """Job numbers renumbered, the dropped ones left out, order kept."""
        new = self.new
        return [new[job] for job in jobs if new[job] >= 0]


class Placer(ABC):
    """Chooses nodes for one job. Override ``place``; optionally ``slowdown`` and ``rejection``."""

    name: str = ""

    @abstractmethod
    def place(self, cluster: ClusterView, gpus: int, gpu_type: str) -> Placement | None:
        """A gang for ``gpus`` GPUs of ``gpu_type``, or None if none fits now."""

    def slowdown(self, placement: Placement, layout: ClusterLayout) -> float:
        """Factor (>= 1) on the run time of a job started on ``placement``; 1.0 means none."""
        return 1.0

    def rejection(self, layout: ClusterLayout, gpus: int, gpu_type: str) -> str:
        """Why this policy could never place such a job, or '' (asked once per job shape)."""
        return ""
