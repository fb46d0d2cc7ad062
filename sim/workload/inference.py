"""Inference service groups -> demand curves -> autoscaler -> replica jobs (docs/workload.md).

Per group: each service draws a mean request rate (lognormal across services), a replica
size (the model-size mix), and a tenant. Its rate in autoscaler interval k is
``base * profile(midpoint of k) * noise_k`` (``sim.workload.services``), with the noise
from the service's own random stream, so a service's curve does not depend on how many
services are generated with it or on chunking. The autoscaler sees the previous interval's
rate; each replica it adds becomes a job submitted then and due to end (``end_by``) when
the autoscaler removes it. The plan (``ServicePlan``) keeps what the SLO metrics need to
regenerate the demand after the run, chunk by chunk, without keeping the matrix.

The replicas are kept as numbers (``Replicas``: 24 bytes each) and made into jobs a slice
at a time, as a run's windows ask for them: a year of munich.yaml has 2.6 million replicas,
which as a table of Python objects took about 320 bytes each. A replica's job id names its
service, so the metrics find a job's service from its id (``replica_owners``).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence, Sized
from dataclasses import dataclass

import numpy as np

from sim.rng import stream as random_stream
from sim.scenario.workload import ServiceGroup, TenantGroup
from sim.workload import services
from sim.workload.calendar import Calendar
from sim.workload.jobs import JobTable, floats
from sim.workload.synthetic import profile_array
from sim.workload.tenants import draw_tenants

# Services per demand matrix, at most, and at most CHUNK_ELEMENTS floats a matrix (2 ** 20:
# 8 MB; a year of 5-minute intervals takes 9 services at a time). Each service's replicas
# do not depend on it.
CHUNK = 32
CHUNK_ELEMENTS = 1 << 20


@dataclass(frozen=True)
class ServicePlan:
    """One service group as generated: per-service laws and the interval grid.

    ``level`` is the profile multiplier of each interval; ``replica_counts`` is how many
    replicas each service has (``replicas_of`` fills it in). Replicas cover ``n_intervals``
    (the last may end past the window); the SLO judges the ``judged_intervals`` that lie
    wholly inside it.
    """

    spec: ServiceGroup
    seed: int
    dt: float
    n_intervals: int
    judged_intervals: int
    level: np.ndarray
    base: np.ndarray
    gpus: np.ndarray
    names: list[str]
    tenant: list[str]
    tier: list[str]
    noise: tuple[float, float]
    replica_counts: np.ndarray

    def __len__(self) -> int:
        return len(self.names)

    def rates(self, lo: int, hi: int) -> np.ndarray:
        """Request rates (requests/s) of services ``lo..hi-1`` in every interval."""
        sigma, phi = self.noise
        noise = np.zeros((hi - lo, self.n_intervals))
        for row, s in enumerate(range(lo, hi)):
            noise[row] = services.ar1_lognormal(self._noise_stream(s), self.n_intervals, sigma, phi)
        return services.demand_rates(self.base[lo:hi], self.level[None, :], noise)

    def _noise_stream(self, service: int) -> np.random.Generator:
        return random_stream(self.seed, "workload", "inference", self.spec.name, str(service))


def noise_of(spec: ServiceGroup) -> tuple[float, float]:
    """The group's (sigma, phi): given, else calibrated for its profile (chat's otherwise)."""
    if spec.noise is not None:
        return spec.noise.sigma, spec.noise.phi
    name = spec.profile if isinstance(spec.profile, str) else "chat"
    return services.NOISE.get(name, services.NOISE["chat"])


def plan_services(
    spec: ServiceGroup, seed: int, window: float, clock: Calendar, groups: Sequence[TenantGroup]
) -> ServicePlan:
    """Draw a group's services (everything but the noise, which ``ServicePlan.rates`` draws)."""
    rng = random_stream(seed, "workload", "inference", spec.name)
    count = spec.services
    base = np.exp(rng.normal(math.log(spec.rate.median), spec.rate.sigma, count))
    sizes = np.array(list(spec.replica_gpus), dtype=np.int64)
    weights = np.array(list(spec.replica_gpus.values()), dtype=float)
    gpus = rng.choice(sizes, size=count, p=weights / weights.sum())
    tenant, tier = draw_tenants(rng, count, spec.tenants, groups, spec.name)
    dt = spec.autoscaler.interval
    n_intervals = max(1, math.ceil(window / dt - 1e-9))
    judged = math.floor(window / dt + 1e-9)
    midpoints = (np.arange(n_intervals) + 0.5) * dt
    level = profile_array(spec.profile)[clock.hour_of_week(midpoints)]
    width = max(2, len(str(count)))
    names = [f"{spec.name}-{s:0{width}d}" for s in range(count)]
    noise = noise_of(spec)
    counts = np.zeros(count, dtype=np.int64)
    return ServicePlan(
        spec, seed, dt, n_intervals, judged, level, base, gpus, names, tenant, tier, noise, counts
    )


@dataclass(frozen=True, eq=False)
class Replicas:
    """A group's replicas in submit order, as numbers: replica ``r`` is the ``number[r]``-th
    replica (0, 1, ... in submit order) of service ``service[r]``, submitted at ``submit[r]``
    and due to end at ``end_by[r]``. ``jobs`` makes rows of them a table."""

    plan: ServicePlan
    gpu_type: str
    service: np.ndarray  # int32
    number: np.ndarray  # int32
    submit: np.ndarray  # float64
    end_by: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.service)

    def extent(self) -> tuple[float, float] | None:
        """The first submit time and the last end (submit + duration, as ``extent`` of their
        table); None without replicas."""
        if not len(self):
            return None
        return float(self.submit[0]), float((self.submit + (self.end_by - self.submit)).max())

    def jobs(self, lo: int = 0, hi: int | None = None) -> JobTable:
        """Replicas ``lo`` to ``hi - 1`` as jobs: replica ``r`` of a service is job
        ``<service>-r<r>``; its duration and estimate are its lifetime."""
        plan, spec = self.plan, self.plan.spec
        service = self.service[lo:hi].tolist()
        names = plan.names
        job_id = [f"{names[s]}-r{k}" for s, k in zip(service, self.number[lo:hi].tolist(), strict=True)]
        submit, end_by = self.submit[lo:hi], self.end_by[lo:hi]
        lifetime = floats(end_by - submit)
        n = len(service)
        return JobTable(
            job_id=job_id,
            submit=floats(submit),
            gpus=plan.gpus[self.service[lo:hi]].tolist(),
            duration=lifetime,
            requested=array("d", lifetime),
            gpu_type=[self.gpu_type] * n,
            tenant=[plan.tenant[s] for s in service],
            job_class=["inference"] * n,
            priority=[spec.priority] * n,
            tier=[plan.tier[s] for s in service],
            outcome=["completed"] * n,
            end_by=floats(end_by),
        )


def replicas_of(plan: ServicePlan, gpu_type: str) -> Replicas:
    """The replicas the autoscaler asks for, in submit order; fills ``plan.replica_counts``.

    A replica is submitted at its first interval's start and due to end (``end_by``) at its
    end interval's start; a service's replicas are numbered in submit order.
    """
    spec, dt = plan.spec, plan.dt
    scaler = spec.autoscaler
    window = max(1, math.ceil(scaler.scale_down_window / dt - 1e-9))
    parts = []
    step = max(1, min(CHUNK, CHUNK_ELEMENTS // plan.n_intervals))
    for lo in range(0, len(plan), step):
        rate = plan.rates(lo, min(lo + step, len(plan)))
        observed = np.concatenate([rate[:, :1], rate[:, :-1]], axis=1)  # what the last interval showed
        desired = services.desired_replicas(
            observed,
            spec.replica_capacity,
            scaler.target_utilisation,
            scaler.min_replicas,
            scaler.max_replicas,
            window,
        )
        service, _, first, end = services.replica_lifetimes(desired)
        parts.append((service.astype(np.int32) + lo, first.astype(np.int32), end.astype(np.int32)))
    service = np.concatenate([p[0] for p in parts])
    first = np.concatenate([p[1] for p in parts])
    end = np.concatenate([p[2] for p in parts])
    order = np.lexsort((service, first))  # submit order; a service's replicas stay in slot order
    service, first, end = service[order], first[order], end[order]
    counts = np.bincount(service, minlength=len(plan))
    plan.replica_counts[:] = counts
    # Each replica's rank among its service's, in submit order (a stable sort by service).
    by_service = np.argsort(service, kind="stable")
    number = np.empty(len(service), dtype=np.int32)
    number[by_service] = np.arange(len(service)) - np.repeat(np.cumsum(counts) - counts, counts)
    return Replicas(plan, gpu_type, service, number, first * dt, end * dt)


def replica_owners(plans: Sequence[ServicePlan], job_ids: Iterable[str]) -> np.ndarray:
    """For each job id, ``s * len(plans) + g`` if it is the replica job of service ``s`` of group
    ``g`` (one ``replicas_of`` made), else -1. A later group's service wins a name two share."""
    groups = len(plans)
    owner = {name: (s * groups + g, int(plan.replica_counts[s])) for g, plan in enumerate(plans)
             for s, name in enumerate(plan.names)}  # fmt: skip

    def found(job_id: str) -> int:
        name, _, number = job_id.rpartition("-r")
        known = owner.get(name)
        if known is None or not (number.isascii() and number.isdigit()) or number != str(int(number)):
            return -1
        return known[0] if int(number) < known[1] else -1

    count = len(job_ids) if isinstance(job_ids, Sized) else -1  # known: no regrowing
    return np.fromiter(map(found, job_ids), np.int64, count)
