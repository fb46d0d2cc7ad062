"""Settings a valid scenario gives that cannot act on its run: each becomes one warning line.

Warnings, not errors: a sweep may hold such a setting fixed while it varies what makes it
act (``span_slowdown`` over ``strict: true`` and ``false``), and a scenario file may keep
settings for later. But a setting that silently does nothing is usually a mistake (a
spot notice under a scheduler that never stops spot jobs), so ``gpusim run``, ``validate``
and ``compare`` (its base scenario) name each on stderr, and a run's manifest lists them.

Policies take part through an optional ``settings_without_effect()`` returning ``NoEffect``
entries whose ``path`` is relative to their params (as ``references()`` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sim.scenario.base import NoEffect
from sim.scenario.policy_checks import POLICY_KEYS, registry_of
from sim.scenario.schema import PolicyRef, Scenario

if TYPE_CHECKING:
    from sim.policies.base import Scheduler


def settings_without_effect(scenario: Scenario) -> list[NoEffect]:
    """Every setting of ``scenario`` that cannot change its run, with why (``path`` is dotted
    from the scenario's root), in the order of the scenario's sections."""
    refs: dict[str, PolicyRef] = {key: getattr(scenario, key) for key in POLICY_KEYS}
    policies = {key: registry_of(key).create(ref.name, ref.params) for key, ref in refs.items()}
    found = _tenant_groups(scenario) + _speed(scenario) + _spot_notice(scenario, policies["scheduler"])
    found += _shadowed_demand_rules(scenario)
    for key, policy in policies.items():
        for inert in getattr(policy, "settings_without_effect", list)():
            found.append(NoEffect(f"{key}.params.{inert.path}", inert.why))
    return found + _absent_tiers(scenario, policies)


def _absent_tiers(scenario: Scenario, policies: Mapping[str, object]) -> list[NoEffect]:
    """A tier that a policy's parameters or a demand rule name but no job can have (a discount,
    a limit, a reserved share or a rule for nobody). Not checked with a trace (its rows give
    their own tiers, and it is not read here)."""
    workload = scenario.workload
    if workload.trace is not None:
        return []
    tiers = workload.possible_tiers()
    named = [
        (f"{key}.params.{ref.path}", ref.name)
        for key, policy in policies.items()
        for ref in getattr(policy, "references", list)()
        if ref.kind == "tier"
    ]
    if scenario.demand is not None:
        named += [(f"demand.rules.{i}.tier", r.tier) for i, r in enumerate(scenario.demand.rules) if r.tier]
    having = ", ".join(tiers) or "none"
    return [
        NoEffect(path, f"no job has tier {tier!r} (the workload's jobs have tiers: {having})")
        for path, tier in named
        if tier not in tiers
    ]


def _tenant_groups(scenario: Scenario) -> list[NoEffect]:
    """Tenant groups the scenario gives (not the defaults) that no stream or service draws from."""
    workload = scenario.workload
    if "tenants" not in workload.model_fields_set:
        return []
    users = workload.streams_and_services()
    drawn = {group for user in users if isinstance(user.tenants, dict) for group in user.tenants}
    trace = " (a trace's jobs keep the tenants it names)" if workload.trace is not None else ""
    return [
        NoEffect(
            f"workload.tenants.{index}",
            f"no job stream or inference service draws tenants from group {group.name!r}{trace}",
        )
        for index, group in enumerate(workload.tenants)
        if group.name not in drawn
    ]


def _speed(scenario: Scenario) -> list[NoEffect]:
    """``cluster.speed`` scales only jobs that accept several GPU types: without any, it is idle.

    A trace may hold such jobs (``A|B`` or ``*``); it is not read here, so a scenario with one
    is never warned about."""
    workload = scenario.workload
    if not scenario.cluster.speed or workload.trace is not None:
        return []
    users = workload.streams_and_services()
    if any(isinstance(user.gpu_type, list) and len(user.gpu_type) > 1 for user in users):
        return []
    return [
        NoEffect(
            "cluster.speed",
            "it scales only jobs that accept several GPU types; no stream or service gives a list of them",
        )
    ]


def _spot_notice(scenario: Scenario, scheduler: Scheduler) -> list[NoEffect]:
    """A spot notice is given only by a scheduler that stops spot jobs for others."""
    if scenario.preemption.spot_notice <= 0 or scheduler.reclaims:
        return []
    ref = scenario.scheduler
    return [
        NoEffect(
            "preemption.spot_notice",
            f"scheduler {ref.name!r} never stops spot jobs for others (easy with preempt_spot: true does)",
        )
    ]


def _shadowed_demand_rules(scenario: Scenario) -> list[NoEffect]:
    """Demand rules apply first match first: a rule an earlier one covers (its tier and class
    are the same or unset there) is never applied."""
    if scenario.demand is None:
        return []
    rules = scenario.demand.rules
    found = []
    for index, rule in enumerate(rules):
        cover = next(
            (
                earlier
                for earlier, prior in enumerate(rules[:index])
                if prior.tier in (None, rule.tier) and prior.job_class in (None, rule.job_class)
            ),
            None,
        )
        if cover is not None:
            why = f"demand.rules.{cover} comes first and matches every job it would"
            found.append(NoEffect(f"demand.rules.{index}", why))
    return found


SAME_REPLICATIONS = (
    "has no effect: no scenario run draws a random number (a trace alone: no synthetic streams, "
    "inference services or demand), so every replication repeats the first and the intervals are 0 wide"
)
"""The warning for replications > 1 when ``draws_random_numbers`` is false for every scenario run."""


def draws_random_numbers(scenario: Scenario) -> bool:
    """Whether the seed changes the run: synthetic streams, inference services and ``demand``
    (willingness to pay) draw from it; a trace and every policy are deterministic."""
    workload = scenario.workload
    return bool(workload.streams_and_services()) or scenario.demand is not None
