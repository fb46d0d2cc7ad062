"""``caps``: hard per-tenant and per-tier GPU limits (Slurm's GrpTRES / MaxTRESPerUser)."""

from __future__ import annotations

from collections.abc import Mapping

from sim.cluster.state import ClusterLayout
from sim.policies import QUOTAS
from sim.policies.base import Reference, Renumbering
from sim.policies.quota.base import Quota, QuotaContext
from sim.policies.quota.limits import ALL_TYPES, Usage, check_limit, limit_for
from sim.workload.jobs import TIERS, JobTable


@QUOTAS.register("caps")
class Caps(Quota):
    """Hard limits on the GPUs a tenant and a tier hold at once.

    Parameters: ``per_tenant`` (every tenant's limit), ``tenants`` (limits of named tenants,
    replacing ``per_tenant`` for them) and ``per_tier`` (``{tier: limit}``, a tier's
    tenants together). A limit is a number of GPUs over all types, or ``{gpu_type: GPUs}``
    (a type not named is unlimited), like ``GrpTRES=gres/gpu=64`` or
    ``gres/gpu:b200=64``. Jobs count the GPUs they hold (whole nodes for multi-node jobs)
    from admission until they end; a job admitted but still queued for GPUs counts too.

    Algorithm (best-effort FIFO): at each pass, pending jobs of tenants whose usage fell
    (or of a tier whose usage fell) and newly pending jobs are tried in queue order; a job
    is admitted if its tenant and its tier both have room for it. A job above a limit on
    its own is rejected at submission. Tie-breaking: queue order. Complexity per pass:
    O(pending jobs of the affected tenants).
    """

    def __init__(
        self,
        *,
        per_tenant: float | Mapping[str, float] | None = None,
        tenants: Mapping[str, float | Mapping[str, float]] | None = None,
        per_tier: Mapping[str, float | Mapping[str, float]] | None = None,
    ) -> None:
        self.per_tenant = check_limit("per_tenant", per_tenant) if per_tenant is not None else {}
        if tenants is not None and not isinstance(tenants, Mapping):
            raise ValueError(f"'tenants' must map tenant names to limits (got {tenants!r})")
        self.tenant_limits = {str(t): check_limit(f"tenants.{t}", v) for t, v in (tenants or {}).items()}
        if per_tier is not None and not isinstance(per_tier, Mapping):
            raise ValueError(f"'per_tier' must map tiers to limits (got {per_tier!r})")
        for tier in per_tier or {}:
            if tier not in TIERS:
                raise ValueError(f"'per_tier' keys must be tiers ({', '.join(TIERS)}) (got {tier!r})")
        self.tier_limits = {str(t): check_limit(f"per_tier.{t}", v) for t, v in (per_tier or {}).items()}
        self._usage = Usage()
        self._held: dict[int, tuple[str, float]] = {}  # admitted job -> (type, GPUs)
        self._waiting: dict[str, list[int]] = {}  # tenant -> pending jobs (may hold admitted ones)
        self._to_try: set[str] = set()  # tenants whose pending jobs need a look
        self._new: list[int] = []

    def references(self) -> list[Reference]:
        named = [Reference("tenant", f"tenants.{tenant}", tenant) for tenant in self.tenant_limits]
        limits = [("per_tenant", self.per_tenant)]
        limits += [(f"tenants.{tenant}", limit) for tenant, limit in self.tenant_limits.items()]
        limits += [(f"per_tier.{tier}", limit) for tier, limit in self.tier_limits.items()]
        named += [
            Reference("gpu_type", f"{where}.{t}", t)
            for where, limit in limits
            for t in limit
            if t != ALL_TYPES
        ]
        return named + [Reference("tier", f"per_tier.{tier}", tier) for tier in self.tier_limits]

    def bind(self, layout: ClusterLayout, jobs: JobTable) -> None:
        self.layout, self.jobs = layout, jobs

    def _limits(self, job: int) -> tuple[tuple[str, Mapping[str, float]], ...]:
        tenant, tier = self.jobs.tenant[job], self.jobs.tier[job]
        limits: list[tuple[str, Mapping[str, float]]] = []
        tenant_limit = self.tenant_limits.get(tenant, self.per_tenant)
        if tenant_limit:
            limits.append((f"tenant:{tenant}", tenant_limit))
        if tier in self.tier_limits:
            limits.append((f"tier:{tier}", self.tier_limits[tier]))
        return tuple(limits)

    def _need(self, job: int) -> tuple[str, int]:
        gpu_type = self.jobs.gpu_type[job]
        return gpu_type, self.layout.allocated_gpus(self.jobs.gpus[job], gpu_type)

    def rejection(self, job: int) -> str:
        gpu_type, gpus = self._need(job)
        for account, limit in self._limits(job):
            bound = limit_for(limit, gpu_type)
            if gpus > bound:
                who = account.replace(":", " ")
                return f"holds {gpus} GPUs, above the {who} cap of {bound:g} (quota caps)"
        return ""

    def pending_changed(self, job: int) -> None:
        self._new.append(job)
        self._waiting.setdefault(self.jobs.tenant[job], []).append(job)

    def admitted(self, job: int) -> None:
        gpu_type, gpus = self._need(job)
        self._held[job] = (gpu_type, gpus)
        for account, _ in self._limits(job):
            self._usage.add(account, gpu_type, gpus)

    def released(self, job: int) -> None:
        gpu_type, gpus = self._held.pop(job)
        tenant, tier = self.jobs.tenant[job], self.jobs.tier[job]
        for account, _ in self._limits(job):
            self._usage.add(account, gpu_type, -gpus)
        self._to_try.add(tenant)
        if tier in self.tier_limits:  # every tenant of the tier may now fit
            self._to_try.update(t for t, jobs in self._waiting.items() if self.jobs.tier[jobs[0]] == tier)

    def jobs_dropped(self, renumber: Renumbering, jobs: JobTable) -> None:
        self._held = renumber.keys(self._held)
        self._new = renumber.jobs(self._new)
        waiting = {tenant: renumber.jobs(listed) for tenant, listed in self._waiting.items()}
        self._waiting = {tenant: listed for tenant, listed in waiting.items() if listed}

    def violation(self, admitted: list[int]) -> str:
        held: dict[tuple[str, str], float] = {}
        for job in admitted:
            gpu_type, gpus = self._need(job)
            for account, _ in self._limits(job):
                for key in ((account, gpu_type), (account, ALL_TYPES)):
                    held[key] = held.get(key, 0.0) + gpus
        for job in admitted:
            for account, limit in self._limits(job):
                for gpu_type, bound in limit.items():
                    if held.get((account, gpu_type), 0.0) > bound:
                        count, kind = held[account, gpu_type], "" if gpu_type == ALL_TYPES else f"{gpu_type} "
                        return f"{account} holds {count:g} {kind}GPUs, above its cap {bound:g}"
        if sorted(self._held) != admitted:
            return "the caps' accounting and the admitted jobs disagree"
        return ""

    def fits(self, job: int) -> bool:
        gpu_type, gpus = self._need(job)
        return all(self._usage.room(account, limit, gpu_type) >= gpus for account, limit in self._limits(job))

    def admit(self, ctx: QuotaContext) -> None:
        candidates = set(self._new)
        for tenant in self._to_try:
            candidates.update(self._waiting.get(tenant, ()))
        self._new, self._to_try = [], set()
        for job in sorted(candidates):
            if ctx.is_pending(job) and self.fits(job):
                ctx.admit(job)
        for tenant in {self.jobs.tenant[job] for job in candidates}:
            still = [job for job in self._waiting.get(tenant, ()) if ctx.is_pending(job)]
            if still:
                self._waiting[tenant] = still
            else:
                self._waiting.pop(tenant, None)
