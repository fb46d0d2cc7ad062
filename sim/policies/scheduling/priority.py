"""``priority``: Slurm-style multifactor priority, with EASY backfilling and a bounded scan."""

from __future__ import annotations

from bisect import bisect_right

from sim.policies import SCHEDULERS
from sim.policies.base import Renumbering, Scheduler, SchedulingContext
from sim.policies.scheduling.backfill import (
    check_duration,
    check_scan_bound,
    check_weight,
    start_then_backfill,
)
from sim.policies.scheduling.fairshare import WEEK, UsageTracker
from sim.workload.jobs import JobTable


@SCHEDULERS.register("priority")
class MultifactorPriority(Scheduler):
    """Multifactor priority (age, fair share, job size, QOS tier) in Slurm's style, with EASY backfilling.

    Algorithm: on every pass each queued job gets

        priority = priority_weight_age       * min(age / priority_max_age, 1)
                 + priority_weight_fairshare * 2^(-U / S)
                 + priority_weight_job_size  * size_factor
                 + priority_weight_qos       * qos_factor

    * age = ``now - submit_time``.
    * Fair share, Slurm's classic formula: U is the tenant's decayed usage share (the
      ``fairshare`` module's ``UsageTracker``, half-life ``priority_decay_half_life``): the
      largest, over GPU types, of the tenant's fraction of all tenants' decayed
      GPU-seconds on that type (0 before any usage). S = 1 / (tenants seen so far): every
      tenant of a job submitted up to now has an equal share.
    * size_factor = gpus / (GPUs of the job's type in the cluster); ``1 -`` that if
      ``favor_small`` (Slurm's PriorityFavorSmall).
    * qos_factor = the job's ``priority`` column scaled to [0, 1] by the lowest and highest
      values among the jobs submitted up to now, ``(p - lo) / (hi - lo)`` (0 while all
      are equal). It plays the part of Slurm's QOS priority / the highest QOS priority.

    Jobs are taken by priority, highest first: started while they fit, then the first
    that does not fit gets an EASY reservation and the rest are backfilled against it as
    in ``easy`` (``sjf``'s procedure). ``bf_max_job_test`` bounds the backfill scan: at
    most that many jobs after the blocked one are examined per pass (None: all), like
    Slurm's parameter of that name; it caps the cost under overload but changes results.

    Tie-breaking: equal priorities keep queue order (submit time, then input order, i.e.
    job index); the sort is stable.

    Complexity per pass: O(Q log Q) for computing and sorting Q priorities, plus as
    ``fairshare`` for the usage and as ``easy`` for the backfill, with the scan at most
    ``bf_max_job_test`` placement attempts.
    """

    def __init__(
        self,
        *,
        priority_weight_age: float = 1000.0,
        priority_weight_fairshare: float = 1000.0,
        priority_weight_job_size: float = 1000.0,
        priority_weight_qos: float = 1000.0,
        priority_max_age: float | str = WEEK,
        priority_decay_half_life: float | str = WEEK,
        favor_small: bool = True,
        bf_max_job_test: int | None = None,
    ) -> None:
        self.weight_age = check_weight("priority_weight_age", priority_weight_age)
        self.weight_fairshare = check_weight("priority_weight_fairshare", priority_weight_fairshare)
        self.weight_job_size = check_weight("priority_weight_job_size", priority_weight_job_size)
        self.weight_qos = check_weight("priority_weight_qos", priority_weight_qos)
        self.max_age = check_duration("priority_max_age", priority_max_age)
        half_life = check_duration("priority_decay_half_life", priority_decay_half_life)
        if not isinstance(favor_small, bool):
            raise ValueError(f"'favor_small' must be true or false (got {favor_small!r})")
        self.favor_small = favor_small
        self.bf_max_job_test = check_scan_bound("bf_max_job_test", bf_max_job_test)
        self.usage = UsageTracker(half_life)
        self._submitted = 0  # jobs 0 .. _submitted - 1 have been submitted (the table is in submit order)
        self._tenants: set[str] = set()
        self._qos_low = self._qos_high = 0

    def select(self, ctx: SchedulingContext) -> None:
        jobs, now = ctx.jobs, ctx.now
        self._see_submissions(ctx)
        tracker = self.usage
        tracker.observe(ctx)
        capacity = ctx.cluster.layout.capacity_by_type
        submit, gpus, gpu_type, tenant, tier = (
            jobs.submit,
            jobs.gpus,
            jobs.gpu_type,
            jobs.tenant,
            jobs.priority,
        )
        w_age, w_fair, w_size, w_qos = (
            self.weight_age,
            self.weight_fairshare,
            self.weight_job_size,
            self.weight_qos,
        )
        max_age, favor_small = self.max_age, self.favor_small
        low, spread = self._qos_low, self._qos_high - self._qos_low
        tenants_seen = len(self._tenants)
        fair: dict[str, float] = {}
        queued = list(ctx.queue)
        keys: list[float] = []
        for job in queued:
            value = w_age * min((now - submit[job]) / max_age, 1.0)
            if w_fair:
                owner = tenant[job]
                factor = fair.get(owner)
                if factor is None:
                    factor = fair[owner] = 2.0 ** (-tracker.usage_share(owner, now) * tenants_seen)
                value += w_fair * factor
            size = gpus[job] / capacity[gpu_type[job]]
            value += w_size * (1.0 - size if favor_small else size)
            if spread:
                value += w_qos * (tier[job] - low) / spread
            keys.append(-value)
        ranks = sorted(range(len(queued)), key=keys.__getitem__)  # stable: ties keep queue order
        order = [queued[rank] for rank in ranks]
        started = start_then_backfill(ctx, order, self.bf_max_job_test)
        tracker.after_pass(ctx, started)

    def jobs_dropped(self, renumber: Renumbering, jobs: JobTable) -> None:
        # Dropped jobs not yet seen (they came and went while no pass ran): seen now, as the
        # next pass would have seen them (the tenants and priority range are order-free).
        self._see(jobs, max(renumber.last_dropped + 1, self._submitted))
        self._submitted = renumber.floor(self._submitted - 1) + 1
        self.usage.jobs_dropped(renumber)

    def _see_submissions(self, ctx: SchedulingContext) -> None:
        """Take in the tenants and priority values of jobs submitted since the previous pass."""
        jobs = ctx.jobs  # (in submit order: those submitted by now are a prefix)
        self._see(jobs, bisect_right(jobs.submit, ctx.now, self._submitted))

    def _see(self, jobs: JobTable, stop: int) -> None:
        """Take in the tenants and priority values of jobs ``_submitted .. stop - 1``."""
        i = self._submitted
        if not self._tenants and i < stop:  # the first job seen
            self._qos_low = self._qos_high = jobs.priority[i]
        while i < stop:
            self._tenants.add(jobs.tenant[i])
            tier = jobs.priority[i]
            if tier < self._qos_low:
                self._qos_low = tier
            elif tier > self._qos_high:
                self._qos_high = tier
            i += 1
        self._submitted = i
