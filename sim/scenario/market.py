"""Scenario models for the market side: demand response and energy.

Pricing and quota policies are ``PolicyRef``s (name + params) like schedulers; their
parameters are checked by the policies themselves (``gpusim policies`` lists them).
"""

from __future__ import annotations

import math

from pydantic import Field, field_validator, model_validator

from sim.scenario.base import Duration, Model, Name
from sim.scenario.workload import Tier

# On-demand list prices, EUR per GPU-hour: the middle of the public ranges (B200 5-8,
# RTX PRO 6000 2-3). Types not listed cost ``OTHER_PRICE``.
LIST_PRICES: dict[str, float] = {"B200": 6.5, "RTXPRO6000": 2.5}
OTHER_PRICE = 2.0


class DemandRule(Model):
    """How jobs of one tier and/or class respond to price.

    Each matching job gets a willingness to pay ``reference_price[type] * X`` with
    ``P(X > x) = x ** -elasticity`` for x >= 1 (a Pareto law): at a price ``s`` times the
    reference a share ``s ** -elasticity`` of the demand still submits, a constant price
    elasticity. A job quoted above its willingness balks, unless it is deferrable (a
    share ``deferrable`` of the matching jobs), in which case it waits, up to
    ``demand.max_defer``, for a moment its price is within its willingness.
    """

    tier: Tier | None = Field(default=None, description="tier the rule applies to (default any)")
    job_class: str | None = Field(default=None, description="job class the rule applies to (default any)")
    elasticity: float = Field(gt=0, le=100, description="price elasticity of demand (>0)")
    deferrable: float = Field(
        default=0.0, ge=0, le=1, description="share of jobs that wait for a cheaper price"
    )


class Demand(Model):
    """Demand response: willingness to pay and price elasticity per tier and class.

    Rules are tried in order; the first matching a job's tier and class applies. Jobs no
    rule matches always submit.
    """

    reference_price: dict[Name, float] = Field(
        default_factory=dict,
        description="EUR per GPU-hour at or below which all demand submits, per GPU type "
        "(default: the flat list prices, B200 6.5, RTXPRO6000 2.5, others 2.0)",
    )
    rules: list[DemandRule] = Field(default_factory=list, validate_default=True)
    max_defer: Duration = Field(
        default=86400.0, description="longest a deferrable job waits for a cheaper price"
    )

    @field_validator("rules")
    @classmethod
    def _some_rule(cls, rules: list[DemandRule]) -> list[DemandRule]:
        # Jobs no rule matches always submit: without rules the section does nothing.
        if not rules:
            raise ValueError(
                "rules must list at least one rule, or every job submits at any price; for no demand "
                "response leave demand out (got [])"
            )
        return rules

    @model_validator(mode="after")
    def _positive_prices(self) -> Demand:
        for gpu_type, price in self.reference_price.items():
            if not (math.isfinite(price) and price > 0):
                raise ValueError(f"reference_price.{gpu_type} must be a number > 0 (got {price})")
        return self

    def reference(self, gpu_type: str) -> float:
        """The reference price of a GPU type, EUR per GPU-hour."""
        return self.reference_price.get(gpu_type, LIST_PRICES.get(gpu_type, OTHER_PRICE))


class GpuPower(Model):
    """Power of one GPU type's servers, watts. Unset fields take the defaults below."""

    busy_w: float | None = Field(default=None, ge=0, description="one GPU running a job")
    idle_w: float | None = Field(
        default=None, ge=0, description="one idle GPU; default 15% of busy_w (at most busy_w)"
    )
    node_w: float | None = Field(
        default=None,
        ge=0,
        description="the rest of a node (CPUs, memory, NICs, fans), always on; default: the node "
        "type's power_w minus its GPUs at busy_w, or 0",
    )


# B200 and RTX PRO 6000 at full load are the public board powers; idle at 15% of that is
# an assumption (docs/pricing.md), also for a busy_w given without idle_w. Other types'
# defaults are rounded (700 W busy, 100 W idle), kept as they were.
DEFAULT_POWER: dict[str, tuple[float, float]] = {"B200": (1000.0, 150.0), "RTXPRO6000": (600.0, 90.0)}
OTHER_POWER = (700.0, 100.0)
IDLE_SHARE = 0.15
"""Idle power as a share of busy power, for a busy_w given without idle_w."""


class Energy(Model):
    """Energy accounting: power per GPU type, PUE, electricity price and grid CO2 intensity."""

    power: dict[Name, GpuPower] = Field(default_factory=dict, description="per GPU type; see GpuPower")
    pue: float = Field(default=1.2, ge=1, le=5, description="facility power / IT power")
    price_eur_per_kwh: float = Field(default=0.1875, ge=0, description="electricity price")
    co2_g_per_kwh: float = Field(default=363.0, ge=0, description="grid carbon intensity")

    @model_validator(mode="after")
    def _idle_below_busy(self) -> Energy:
        for gpu_type, given in self.power.items():
            busy, idle = self.gpu_power(gpu_type)
            if idle > busy:
                source = "" if given.busy_w is not None else ", its default"
                raise ValueError(
                    f"power.{gpu_type}.idle_w must be at most busy_w ({busy:g} W{source}) (got {idle:g})"
                )
        return self

    def gpu_power(self, gpu_type: str) -> tuple[float, float]:
        """(busy, idle) watts of one GPU of ``gpu_type``: the given ones, an unset idle_w 15%
        of a given busy_w, else the type's defaults."""
        busy, idle = DEFAULT_POWER.get(gpu_type, OTHER_POWER)
        given = self.power.get(gpu_type)
        if given is not None and given.busy_w is not None:
            busy, idle = given.busy_w, IDLE_SHARE * given.busy_w
        if given is not None and given.idle_w is not None:
            idle = given.idle_w
        return busy, idle

    def node_power(self, gpu_type: str, gpus_per_node: int, node_type_power: float | None) -> float:
        """Watts of one node of ``gpu_type`` beyond its GPUs."""
        given = self.power.get(gpu_type)
        if given is not None and given.node_w is not None:
            return given.node_w
        if node_type_power is None:
            return 0.0
        return max(node_type_power - gpus_per_node * self.gpu_power(gpu_type)[0], 0.0)


class Billing(Model):
    """Contract terms beyond prices: credits for inference services that miss their SLO.

    ``sla_credits`` lists ``[shortfall, share]`` pairs: a service whose SLO attainment is
    below its target by more than ``shortfall`` gets ``share`` of its charges back (the
    largest share that applies). Default: any miss 10%, by more than 5 points 25%, by more
    than 10 points 50% (an assumption shaped like public cloud SLAs).
    """

    sla_credits: list[tuple[float, float]] = Field(
        default_factory=lambda: [(0.0, 0.10), (0.05, 0.25), (0.10, 0.50)]
    )

    @model_validator(mode="after")
    def _shares(self) -> Billing:
        for index, (shortfall, share) in enumerate(self.sla_credits):
            if not (0 <= shortfall < 1 and 0 <= share <= 1):
                raise ValueError(
                    f"sla_credits.{index} must be [shortfall in [0, 1), share in [0, 1]] "
                    f"(got [{shortfall}, {share}])"
                )
        return self

    def credit_share(self, attainment: float, target: float) -> float:
        """Share of a service's charges credited back at this attainment (0 if it met its target)."""
        if attainment >= target:
            return 0.0
        shortfall = target - attainment
        return max((share for above, share in self.sla_credits if shortfall > above), default=0.0)
