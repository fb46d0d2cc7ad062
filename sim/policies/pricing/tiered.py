"""``tiered``: flat prices per GPU type with the public discounts of reserved and spot capacity."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sim.policies import PRICINGS
from sim.policies.pricing.base import Pricing
from sim.scenario.market import OTHER_PRICE

# The middle of the public ranges: reserved (committed-use) capacity 30-45% off the
# on-demand price, spot capacity 60-70% off (docs/pricing.md). Read-only, so the default
# shown by ``gpusim policies`` cannot be changed by accident.
TIERED_DISCOUNTS: Mapping[str, float] = MappingProxyType({"reserved": 0.40, "spot": 0.65})


@PRICINGS.register("tiered")
class Tiered(Pricing):
    """Flat prices per GPU type with tier discounts: reserved 40% off, spot 65% off by default.

    Algorithm: ``rate = prices[type] * (1 - discounts[tier])``; no time dependence. Tiers
    missing from a given ``discounts`` keep their default (on-demand pays the list price
    unless given a discount). Spot jobs pay least because they are preemptible: a spot
    job may be stopped for higher tiers after the scenario's ``preemption.spot_notice``.
    Complexity: O(1) per rate, one piece per charged segment.
    """

    def __init__(
        self,
        *,
        prices: Mapping[str, float] | None = None,
        discounts: Mapping[str, float] = TIERED_DISCOUNTS,
        other_price: float = OTHER_PRICE,
    ) -> None:
        if not isinstance(discounts, Mapping):
            raise ValueError(
                f"'discounts' must be a mapping of tier to a share in [0, 1) (got {discounts!r})"
            )
        super().__init__(prices=prices, discounts={**TIERED_DISCOUNTS, **discounts}, other_price=other_price)

    def rate(self, gpu_type: str, tier: str, t: float) -> float:
        return self.list_price(gpu_type) * self.tier_factor(tier)
