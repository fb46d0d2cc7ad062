"""``flat``: one price per GPU type, all day."""

from __future__ import annotations

from sim.policies import PRICINGS
from sim.policies.pricing.base import Pricing


@PRICINGS.register("flat")
class Flat(Pricing):
    """A fixed price per GPU-hour per GPU type, times the tier's ``1 - discount``.

    Algorithm: ``rate = prices[type] * (1 - discounts[tier])``; no time dependence.
    Complexity: O(1) per rate, one piece per charged segment.
    """

    def rate(self, gpu_type: str, tier: str, t: float) -> float:
        return self.list_price(gpu_type) * self.tier_factor(tier)
