"""Tenants: groups of named tenants with a tier and heavy-tailed activity.

A group of ``count`` tenants names them ``<group>-<rank>`` (``sme-0001`` is the most
active). Within a group the tenant of rank k draws a share of the group's jobs
proportional to k^-skew (Zipf-like): with 3,000 SMEs and skew 1 the top 30 bring
H(30)/H(3000) = 46.5% of the group's jobs, where H(n) is the n-th harmonic number.
A stream names the share of its arrivals from each group; or, as a plain number, that
many anonymous equally active tenants ``<stream>-tNN`` of the default tier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sim.scenario.workload import TenantGroup
from sim.workload.jobs import DEFAULT_TIER


def tenant_names(group: TenantGroup) -> list[str]:
    """``<group>-<rank>``, ranks from 1, zero-padded to the width of the count (at least 2)."""
    width = max(2, len(str(group.count)))
    return [f"{group.name}-{rank:0{width}d}" for rank in range(1, group.count + 1)]


def anonymous_names(prefix: str, count: int) -> list[str]:
    """The ``count`` anonymous tenants of a stream or service group: ``<prefix>-tNN``, from 0."""
    width = len(str(count))
    return [f"{prefix}-t{k:0{width}d}" for k in range(count)]


def activity(group: TenantGroup) -> np.ndarray:
    """Each tenant's probability of being the submitter of one of the group's jobs: k^-skew, normalised."""
    weights = np.arange(1, group.count + 1, dtype=float) ** -group.skew
    return weights / weights.sum()


def draw_tenants(
    rng: np.random.Generator,
    n: int,
    shares: int | Mapping[str, float],
    groups: Sequence[TenantGroup],
    anonymous_prefix: str,
) -> tuple[list[str], list[str]]:
    """Tenant and tier of ``n`` arrivals: a group by ``shares``, then a tenant by its activity.

    Draws: one group index per arrival (skipped when there is one group), then one uniform
    per arrival mapped through the group's cumulative activity (inverse CDF).
    """
    if isinstance(shares, int):
        names = anonymous_names(anonymous_prefix, shares)
        picks = rng.integers(0, shares, n).tolist()
        return [names[k] for k in picks], [DEFAULT_TIER] * n
    by_name = {group.name: group for group in groups}
    chosen = [by_name[name] for name in shares]
    weights = np.array(list(shares.values()), dtype=float)
    which = np.zeros(n, dtype=np.int64)
    if len(chosen) > 1:
        which = rng.choice(len(chosen), size=n, p=weights / weights.sum())
    uniform = rng.random(n)
    tenants: list[str] = [""] * n
    tiers: list[str] = [""] * n
    for index, group in enumerate(chosen):
        rows = np.flatnonzero(which == index)
        cumulative = np.cumsum(activity(group))
        ranks = np.minimum(np.searchsorted(cumulative, uniform[rows], side="right"), group.count - 1)
        names = tenant_names(group)
        for row, rank in zip(rows.tolist(), ranks.tolist(), strict=True):
            tenants[row] = names[rank]
            tiers[row] = group.tier
    return tenants, tiers
