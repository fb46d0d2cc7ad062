"""Policies by kind, each kind a registry filled by its modules' decorators.

Adding a policy is one new module plus one import line below.
"""

from sim.policies.base import Placer, Scheduler, SchedulingContext
from sim.policies.pricing.base import Pricing
from sim.policies.quota.base import Quota
from sim.policies.registry import Registry

SCHEDULERS: Registry[Scheduler] = Registry("scheduler")
PLACEMENTS: Registry[Placer] = Registry("placement")
PRICINGS: Registry[Pricing] = Registry("pricing")
QUOTAS: Registry[Quota] = Registry("quota")

# Imported for their registration side effect; keep one line per policy module.
from sim.policies.placement import frag_aware, pack, pod_local, spread  # noqa: E402,F401
from sim.policies.pricing import dynamic, flat, tiered, time_of_day  # noqa: E402,F401
from sim.policies.quota import caps, kueue, none, reserved_share  # noqa: E402,F401
from sim.policies.scheduling import (  # noqa: E402,F401
    conservative,
    easy,
    fairshare,
    fifo,
    priority,
    sjf,
    srtf,
    tiresias,
)

__all__ = [
    "PLACEMENTS",
    "PRICINGS",
    "QUOTAS",
    "SCHEDULERS",
    "Placer",
    "Pricing",
    "Quota",
    "Registry",
    "Scheduler",
    "SchedulingContext",
]
