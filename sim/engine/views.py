"""The engine's sorted views of its running and queued jobs, as its scheduler reads them.

Kept apart from the engine's core so that each file stays small; ``Engine`` inherits them.
They exist only if the scheduler reads them (``Scheduler.reads_views``): fifo does not,
and spares their upkeep.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

from sim.engine.shapes import QueueByShape
from sim.errors import SimError

if TYPE_CHECKING:
    from sim.cluster.state import ClusterState
    from sim.engine.running import RunningIndex
    from sim.policies.base import Scheduler


class SortedViews:
    """``running``, ``running_of_type``, ``nodes_free_at``, ``queue_of_type`` and
    ``queued_could_fit`` of the ``SchedulingContext`` (``sim.policies.base``)."""

    _views: bool
    _running: RunningIndex
    _running_merged: tuple[int, list[tuple[float, int, int]]]
    _queue_by_shape: dict[str, QueueByShape]
    cluster: ClusterState
    scheduler: Scheduler

    @property
    def running(self) -> list[tuple[float, int, int]]:
        """All running jobs as ``(estimated end, start order, job)``, sorted (merged per type on demand)."""
        self._need_views()
        lists = self._running.by_type
        if len(lists) == 1:
            return next(iter(lists.values()))
        changes, merged = self._running_merged
        if changes != self._running.changes:
            merged = sorted(itertools.chain.from_iterable(lists.values()))
            self._running_merged = (self._running.changes, merged)
        return merged

    def running_of_type(self, gpu_type: str) -> list[tuple[float, int, int]]:
        """The running jobs of one GPU type, sorted as ``running``."""
        self._need_views()
        return self._running.by_type[gpu_type]

    def nodes_free_at(self, gpu_type: str) -> list[tuple[float, int, int]]:
        """The busy nodes of one GPU type as ``(estimated end, start order, node)`` of the job on
        each that is estimated to end last, sorted: when each comes fully free (KeyError for a
        type of one GPU per node: not kept, see ``RunningIndex``)."""
        self._need_views()
        return self._running.free_at[gpu_type]

    def queue_of_type(self, gpu_type: str) -> QueueByShape:
        """The queued jobs of one GPU type, in queue order (the type's jobs grouped by GPU
        count, which serve as its ``QueueView``: walks merge the groups)."""
        self._need_views()
        return self._queue_by_shape[gpu_type]

    def queued_could_fit(
        self, gpu_type: str, after: int = -1, over: float = math.inf, within: float = math.inf
    ) -> list[int]:
        """The queued jobs of one GPU type numbered above ``after`` that the free nodes could hold
        (of the whole-node jobs of more than ``over`` GPUs, those requesting at most ``within``)."""
        self._need_views()
        nodes_by_free = self.cluster.nodes_by_free[gpu_type]
        return self._queue_by_shape[gpu_type].could_fit(nodes_by_free, after, over, within)

    def _need_views(self) -> None:
        if not self._views:
            raise SimError(
                f"scheduler {self.scheduler.name!r} reads running or per-type views: set reads_views"
            )
