"""A Kueue ClusterQueue: its settings per GPU type, live usage and pending backlog, and how
one is read from a scenario's ``cluster_queues`` entry (``kueue`` uses them)."""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.policies.quota.backlog import Backlog
from sim.policies.quota.limits import check_gpus
from sim.workload.jobs import TIERS

RECLAIM = ("never", "lower_priority", "any")
_KEYS = {
    "name", "match", "cohort", "nominal_quota", "borrowing_limit", "lending_limit",
    "reclaim_within_cohort", "weight",
}  # fmt: skip


@dataclass
class ClusterQueue:
    """One ClusterQueue's settings (per GPU type) and live usage."""

    name: str
    tiers: tuple[str, ...] | None
    job_classes: tuple[str, ...] | None
    tenants: tuple[str, ...] | None
    cohort: str | None
    nominal: dict[str, float]
    borrowing_limit: dict[str, float]  # absent: unlimited
    lending_limit: dict[str, float]  # absent: all of nominal
    reclaim: str
    weight: float
    used: dict[str, float] = field(default_factory=dict)
    backlog: Backlog = field(default_factory=Backlog)  # pending jobs by shape

    def matches(self, tier: str, job_class: str, tenant: str) -> bool:
        return (
            (self.tiers is None or tier in self.tiers)
            and (self.job_classes is None or job_class in self.job_classes)
            and (self.tenants is None or any(fnmatch.fnmatchcase(tenant, p) for p in self.tenants))
        )

    def guaranteed(self, gpu_type: str) -> float:
        """Nominal quota not lent out: nominal minus the lending limit."""
        nominal = self.nominal.get(gpu_type, 0.0)
        return nominal - min(self.lending_limit.get(gpu_type, nominal), nominal)

    def drawn(self, gpu_type: str, used: float | None = None) -> float:
        """What usage ``used`` (default: now) takes from the cohort's pool: usage above guaranteed."""
        used = self.used.get(gpu_type, 0.0) if used is None else used
        return max(0.0, used - self.guaranteed(gpu_type))

    def borrowing(self, gpu_type: str) -> float:
        return max(0.0, self.used.get(gpu_type, 0.0) - self.nominal.get(gpu_type, 0.0))


def _names(where: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"'{where}' must be a name or a list of names (got {value!r})")
    return tuple(value)


def _per_type(where: str, value: Any) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"'{where}' must map GPU types to GPUs (got {value!r})")
    return {str(t): check_gpus(f"{where}.{t}", v) for t, v in value.items()}


def parse_queue(index: int, spec: Any) -> ClusterQueue:
    """A ClusterQueue from its parameter mapping; ValueError naming the bad key."""
    where = f"cluster_queues.{index}"
    if not isinstance(spec, Mapping):
        raise ValueError(f"'{where}' must be a mapping with name, match, nominal_quota, ... (got {spec!r})")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise ValueError(f"'{where}' has keys {', '.join(sorted(_KEYS))} (got {unknown[0]!r})")
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"'{where}.name' must be a non-empty name (got {name!r})")
    match = spec.get("match") or {}
    if not isinstance(match, Mapping) or set(match) - {"tiers", "job_classes", "tenants"}:
        raise ValueError(f"'{where}.match' must be a mapping of tiers, job_classes, tenants (got {match!r})")
    reclaim = spec.get("reclaim_within_cohort", "never")
    if reclaim not in RECLAIM:
        raise ValueError(
            f"'{where}.reclaim_within_cohort' must be one of {', '.join(RECLAIM)} (got {reclaim!r})"
        )
    weight = spec.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight < math.inf:
        raise ValueError(f"'{where}.weight' must be a number >= 0 (got {weight!r})")
    cohort = spec.get("cohort")
    if cohort is not None and not isinstance(cohort, str):
        raise ValueError(f"'{where}.cohort' must be a name (got {cohort!r})")
    tiers = _names(f"{where}.match.tiers", match.get("tiers"))
    for tier in tiers or ():
        if tier not in TIERS:  # no job could ever match it
            raise ValueError(f"'{where}.match.tiers' must be tiers ({', '.join(TIERS)}) (got {tier!r})")
    return ClusterQueue(
        name=name,
        tiers=tiers,
        job_classes=_names(f"{where}.match.job_classes", match.get("job_classes")),
        tenants=_names(f"{where}.match.tenants", match.get("tenants")),
        cohort=cohort,
        nominal=_per_type(f"{where}.nominal_quota", spec.get("nominal_quota")),
        borrowing_limit=_per_type(f"{where}.borrowing_limit", spec.get("borrowing_limit")),
        lending_limit=_per_type(f"{where}.lending_limit", spec.get("lending_limit")),
        reclaim=reclaim,
        weight=float(weight),
    )
