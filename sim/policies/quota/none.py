"""``none``: no quota; every job is admitted on arrival."""

from __future__ import annotations

from sim.policies import QUOTAS
from sim.policies.quota.base import Quota, QuotaContext


@QUOTAS.register("none")
class NoQuota(Quota):
    """No limits: the engine skips admission altogether (jobs queue on arrival).

    Algorithm: admit every pending job, in queue order. Complexity: O(pending).
    """

    admits_all = True

    def admit(self, ctx: QuotaContext) -> None:
        for job in list(ctx.pending()):
            ctx.admit(job)
