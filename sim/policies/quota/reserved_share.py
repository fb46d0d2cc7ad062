"""``reserved_share``: a share of every GPU type kept for one tier, lent out while idle."""

from __future__ import annotations

import math

from sim.cluster.state import ClusterLayout
from sim.policies import QUOTAS
from sim.policies.base import Reference
from sim.policies.quota.cluster_queue import RECLAIM
from sim.policies.quota.kueue import Kueue
from sim.workload.jobs import TIERS, JobTable


@QUOTAS.register("reserved_share")
class ReservedShare(Kueue):
    """A share of the cluster reserved for a tier (e.g. SMEs), lent out when idle, reclaimed on demand.

    Built on ``kueue``: two ClusterQueues in one cohort. ``reserved`` takes jobs of
    ``tier`` with a nominal quota of ``floor(share x capacity)`` GPUs of each type;
    ``shared`` takes every other job with the rest. Each lends what it does not use; the
    reserved queue reclaims its share (``reclaim_within_cohort: any``) by evicting the
    shared queue's borrowing jobs, latest admitted first. The shared queue reclaims with
    ``shared_reclaim`` (default ``any``: the tier's use beyond its share is opportunistic
    too; ``never`` lets it keep what it borrowed). Fair sharing is off. ``share`` is in
    (0, 1]: ``none`` is the policy for no reservation. Complexity: as ``kueue``.
    """

    def __init__(self, *, tier: str = "on-demand", share: float = 0.2, shared_reclaim: str = "any") -> None:
        if tier not in TIERS:
            raise ValueError(f"'tier' must be one of {', '.join(TIERS)} (got {tier!r})")
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ValueError(f"'share' must be a number in (0, 1] (got {share!r})")
        if share == 0:
            # Not "no reservation": the tier's queue has no quota, so every job of it borrows
            # and every other tier's job may evict it.
            raise ValueError(
                "'share' must be > 0: at 0 every other tier evicts the tier's jobs; for no reservation "
                f"use quota none (got {share!r})"
            )
        if shared_reclaim not in RECLAIM:
            raise ValueError(f"'shared_reclaim' must be one of {', '.join(RECLAIM)} (got {shared_reclaim!r})")
        self.tier, self.share_of_cluster, self.shared_reclaim = tier, float(share), shared_reclaim
        placeholder = {"name": "reserved", "match": {"tiers": [tier]}}
        super().__init__(cluster_queues=[placeholder])

    def references(self) -> list[Reference]:
        return [Reference("tier", "tier", self.tier)]

    def bind(self, layout: ClusterLayout, jobs: JobTable) -> None:
        reserved = {
            t: float(math.floor(self.share_of_cluster * c)) for t, c in layout.capacity_by_type.items()
        }
        others = [t for t in TIERS if t != self.tier]
        specs = [
            {"name": "reserved", "match": {"tiers": [self.tier]}, "cohort": "cluster",
             "nominal_quota": reserved, "reclaim_within_cohort": "any"},
            {"name": "shared", "match": {"tiers": others}, "cohort": "cluster",
             "nominal_quota": {t: c - reserved[t] for t, c in layout.capacity_by_type.items()},
             "reclaim_within_cohort": self.shared_reclaim},
        ]  # fmt: skip
        Kueue.__init__(self, cluster_queues=specs)
        super().bind(layout, jobs)
