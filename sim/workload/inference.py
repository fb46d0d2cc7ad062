"""Inference service groups -> demand curves -> autoscaler -> replica jobs (docs/workload.md).

Per group: each service draws a mean request rate (lognormal across services), a replica
size (the model-size mix), and a tenant. Its rate in autoscaler interval k is
``base * profile(midpoint of k) * noise_k`` (``sim.workload.services``), with the noise
from the service's own random stream, so a service's curve does not depend on how many
services are generated with it or on chunking. The autoscaler sees the previous interval's
rate; each replica it adds becomes a job submitted then and due to end (``end_by``) when
the autoscaler removes it. The plan (``ServicePlan``) keeps what the SLO metrics need to
regenerate the demand after the run, chunk by chunk, without keeping the matrix.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.rng import stream as random_stream
from sim.scenario.workload import ServiceGroup, TenantGroup
from sim.workload import services
from sim.workload.calendar import Calendar
from sim.workload.jobs import JobTable, floats
from sim.workload.synthetic import profile_array
from sim.workload.tenants import draw_tenants

# Services per demand matrix: bounds memory to CHUNK x intervals floats (each service's
# replicas do not depend on it).
CHUNK = 32


@dataclass(frozen=True)
class ServicePlan:
    """One service group as generated: per-service laws and the interval grid.

    ``level`` is the profile multiplier of each interval; ``replica_service`` maps each
    replica job id to its service's index. Replicas cover ``n_intervals`` (the last may end
    past the window); the SLO judges the ``judged_intervals`` that lie wholly inside it.
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
    replica_service: dict[str, int]

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
    return ServicePlan(spec, seed, dt, n_intervals, judged, level, base, gpus, names, tenant, tier, noise, {})


def replica_jobs(plan: ServicePlan, gpu_type: str) -> JobTable:
    """The replicas the autoscaler asks for, as jobs in submit order; fills ``replica_service``.

    Replica ``r`` of a service is job ``<service>-r<r>`` (numbered in submit order). It is
    submitted at its first interval's start, ``end_by`` its end interval's start, and its
    duration and estimate are that lifetime.
    """
    spec, dt = plan.spec, plan.dt
    scaler = spec.autoscaler
    window = max(1, math.ceil(scaler.scale_down_window / dt - 1e-9))
    parts = []
    for lo in range(0, len(plan), CHUNK):
        rate = plan.rates(lo, min(lo + CHUNK, len(plan)))
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
        parts.append((service + lo, first, end))
    service = np.concatenate([p[0] for p in parts])
    first = np.concatenate([p[1] for p in parts])
    end = np.concatenate([p[2] for p in parts])
    order = np.lexsort((service, first))  # submit order; a service's replicas stay in slot order
    service, first, end = service[order], first[order], end[order]
    n = len(service)
    service_list = service.tolist()
    seen = [0] * len(plan)
    job_id = []
    for s in service_list:
        job_id.append(f"{plan.names[s]}-r{seen[s]}")
        seen[s] += 1
    submit = first * dt
    end_by = end * dt
    lifetime = floats(end_by - submit)
    plan.replica_service.update(zip(job_id, service_list, strict=True))
    return JobTable(
        job_id=job_id,
        submit=floats(submit),
        gpus=plan.gpus[service].tolist(),
        duration=lifetime,
        requested=array("d", lifetime),
        gpu_type=[gpu_type] * n,
        tenant=[plan.tenant[s] for s in service_list],
        job_class=["inference"] * n,
        priority=[spec.priority] * n,
        tier=[plan.tier[s] for s in service_list],
        outcome=["completed"] * n,
        end_by=floats(end_by),
    )
