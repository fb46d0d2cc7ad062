"""The pricing interface: a rate in EUR per GPU-hour for a GPU type and tier at an instant.

A pricing policy overrides ``rate`` (its one decision). Rates are piecewise constant in
time: ``next_change(t)`` gives the first instant after ``t`` at which any rate may change
(``inf`` for fixed prices), and ``charge`` bills per second by integrating the rate over a
run segment piece by piece. A policy with ``interval`` set (``dynamic``) is told the
cluster's state every ``interval`` seconds through ``observe`` (the engine calls it at
0, interval, 2 interval, ...) and sets the rates of the next interval from it; it keeps
the history so segments are billed at the rates in effect while they ran.

Every policy takes ``prices`` (on-demand list price per GPU type, EUR per GPU-hour;
default B200 6.5, RTXPRO6000 2.5, other types ``other_price`` 2.0) and ``discounts``
(share off the list price per tier, e.g. ``{reserved: 0.4, spot: 0.65}``).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from sim.policies.base import Reference
from sim.scenario.market import LIST_PRICES, OTHER_PRICE
from sim.workload.calendar import Calendar
from sim.workload.jobs import TIERS


def _check_prices(prices: Mapping[str, float], what: str) -> dict[str, float]:
    if not isinstance(prices, Mapping):
        raise ValueError(f"'{what}' must be a mapping of GPU type to EUR per GPU-hour (got {prices!r})")
    return {str(gpu_type): _check_price(f"{what}.{gpu_type}", price) for gpu_type, price in prices.items()}


def _check_price(what: str, price: object) -> float:
    if isinstance(price, bool) or not isinstance(price, int | float) or not math.isfinite(price) or price < 0:
        raise ValueError(f"'{what}' must be a number >= 0 (got {price!r})")
    return float(price)


def _check_discounts(discounts: Mapping[str, float]) -> dict[str, float]:
    if not isinstance(discounts, Mapping):
        raise ValueError(f"'discounts' must be a mapping of tier to a share in [0, 1) (got {discounts!r})")
    checked: dict[str, float] = {}
    for tier, share in discounts.items():
        if tier not in TIERS:
            raise ValueError(f"'discounts' keys must be tiers ({', '.join(TIERS)}) (got {tier!r})")
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share < 1:
            raise ValueError(f"'discounts.{tier}' must be a share in [0, 1) (got {share!r})")
        checked[tier] = float(share)
    return checked


class Pricing(ABC):
    """Prices GPU time. Override ``rate``; optionally ``next_change``, ``observe``, ``bind``."""

    name: str = ""
    interval: float | None = None  # set by policies that follow the cluster's state

    def __init__(
        self,
        *,
        prices: Mapping[str, float] | None = None,
        discounts: Mapping[str, float] | None = None,
        other_price: float = OTHER_PRICE,
    ) -> None:
        given = _check_prices(prices or {}, "prices")
        self.prices = {**LIST_PRICES, **given}
        self._given_types = tuple(given)
        self.other_price = _check_price("other_price", other_price)
        self.discounts = _check_discounts(discounts or {})

    def references(self) -> list[Reference]:
        """The GPU types the given prices name (a price for a type the cluster lacks is never
        used), and the tiers the discounts name."""
        named = [Reference("gpu_type", f"prices.{gpu_type}", gpu_type) for gpu_type in self._given_types]
        return named + [Reference("tier", f"discounts.{tier}", tier) for tier in self.discounts]

    def bind(self, calendar: Calendar, gpu_types: Sequence[str]) -> None:
        """Called once before a run with the scenario's calendar and the cluster's GPU types."""
        return None

    def list_price(self, gpu_type: str) -> float:
        """On-demand price of one GPU-hour of ``gpu_type`` before any time or tier factor."""
        return self.prices.get(gpu_type, self.other_price)

    def tier_factor(self, tier: str) -> float:
        """What a tier pays per EUR of list price (1 - its discount)."""
        return 1.0 - self.discounts.get(tier, 0.0)

    @abstractmethod
    def rate(self, gpu_type: str, tier: str, t: float) -> float:
        """EUR per GPU-hour a job of ``tier`` on ``gpu_type`` pays at instant ``t``."""

    def next_change(self, t: float) -> float:
        """The first instant after ``t`` at which a rate may change (``inf``: never)."""
        return math.inf

    def observe(self, t: float, utilisation: Mapping[str, float], queued: Mapping[str, float]) -> None:
        """Dynamic policies: the state at ``t`` (busy share and queued GPUs per GPU of capacity, per type)."""
        return None

    def charge(self, gpu_type: str, tier: str, gpus: int, start: float, end: float) -> float:
        """EUR for ``gpus`` GPUs held over [start, end), billed per second at the rates in effect."""
        total, t = 0.0, start
        while t < end:
            step = min(self.next_change(t), end)
            total += self.rate(gpu_type, tier, t) * (step - t)
            t = step
        return total * gpus / 3600.0
