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
    """Tenant and tier of ``n`` arrivals: a group by ``shares``, then a tenant by its activity
    (``TenantDraw.draw``)."""
    return TenantDraw(shares, groups, anonymous_prefix).draw(rng, n)


class TenantDraw:
    """Who submits the arrivals of one stream or service group: its shares with the groups'
    names and cumulative activities prepared once, for a stream that draws week by week."""

    def __init__(
        self, shares: int | Mapping[str, float], groups: Sequence[TenantGroup], anonymous_prefix: str
    ) -> None:
        self._anonymous = shares if isinstance(shares, int) else None
        if isinstance(shares, int):
            self._names = [anonymous_names(anonymous_prefix, shares)]
            return
        by_name = {group.name: group for group in groups}
        chosen = [by_name[name] for name in shares]
        weights = np.array(list(shares.values()), dtype=float)
        self._weights = weights / weights.sum()
        self._names = [tenant_names(group) for group in chosen]
        self._tiers = [group.tier for group in chosen]
        self._cumulative = [np.cumsum(activity(group)) for group in chosen]

    def draw(self, rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
        """Tenant and tier of ``n`` arrivals. Draws: anonymous tenants one integer each;
        otherwise one group index per arrival (skipped when there is one group), then one
        uniform per arrival mapped through the group's cumulative activity (inverse CDF).
        """
        if self._anonymous is not None:
            names = self._names[0]
            return [names[k] for k in rng.integers(0, self._anonymous, n).tolist()], [DEFAULT_TIER] * n
        which = np.zeros(n, dtype=np.int64)
        if len(self._names) > 1:
            which = rng.choice(len(self._names), size=n, p=self._weights)
        uniform = rng.random(n)
        tenants: list[str] = [""] * n
        tiers: list[str] = [""] * n
        for index, (names, cumulative) in enumerate(zip(self._names, self._cumulative, strict=True)):
            rows = np.flatnonzero(which == index)
            ranks = np.minimum(np.searchsorted(cumulative, uniform[rows], side="right"), len(names) - 1)
            tier = self._tiers[index]
            for row, rank in zip(rows.tolist(), ranks.tolist(), strict=True):
                tenants[row] = names[rank]
                tiers[row] = tier
        return tenants, tiers
