"""Policies by kind, each kind a registry filled by its modules' decorators.

Adding a policy is one new module plus one import line below.
"""

from sim.policies.base import Placer, Scheduler, SchedulingContext
from sim.policies.registry import Registry

SCHEDULERS: Registry[Scheduler] = Registry("scheduler")
PLACEMENTS: Registry[Placer] = Registry("placement")

# Imported for their registration side effect; keep one line per policy module.
from sim.policies.placement import frag_aware, pack, pod_local, spread  # noqa: E402,F401
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

__all__ = ["PLACEMENTS", "SCHEDULERS", "Placer", "Registry", "Scheduler", "SchedulingContext"]
