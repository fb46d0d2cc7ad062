"""Check a validated scenario's policies: known names, accepted parameters, and the GPU types,
tenants and job classes their parameters name (a price or limit for something the scenario
lacks is a typo that would silently do nothing).

Errors are located at the scenario's key (``scheduler``, ``placement``, ``pricing``,
``quota``) and its params path; ``locate`` turns that path into the file and line, or
``--set`` when an override caused it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from sim.errors import PolicyError, show
from sim.scenario.base import OVERRIDE_SOURCE
from sim.scenario.schema import MAX_SAMPLES, PolicyRef, Scenario

if TYPE_CHECKING:
    from sim.policies.base import Reference
    from sim.policies.registry import Registry

POLICY_KEYS = ("scheduler", "placement", "pricing", "quota")
_SHOWN = 6  # tenant groups listed in an error


def registry_of(key: str) -> Registry[Any]:
    """The registry of the policies a scenario names at ``key`` (scheduler, placement, ...)."""
    from sim.policies import PLACEMENTS, PRICINGS, QUOTAS, SCHEDULERS

    return {"scheduler": SCHEDULERS, "placement": PLACEMENTS, "pricing": PRICINGS, "quota": QUOTAS}[key]


def accepted_as_written(original: Mapping[str, Any], key: str) -> bool:
    """Whether the policy the file itself gives at ``key`` (before ``--set``) is accepted."""
    try:
        ref = PolicyRef.model_validate(original.get(key, Scenario.model_fields[key].default))
        registry_of(key).check(ref.name, ref.params)
    except (ValidationError, PolicyError):
        return False
    return True


def check_policies(
    scenario: Scenario,
    lines: Mapping[str, int],
    locate: Callable[[str], tuple[str, int | None]],
    blamed_on_set: Callable[[str], bool],
) -> None:
    """Raise PolicyError, located at the scenario's key, for an unknown policy or a parameter it
    refuses (at ``--set`` if ``blamed_on_set(key)``: the file's own policy there is fine), or
    for a GPU type the cluster lacks, a tenant or job class no job can have (a pattern: that
    matches none); a trace is read for its tenants and classes only when a policy names some."""
    # Made on first use: tenant groups may name millions of tenants, and a trace is read.
    sources = {
        "gpu_type": scenario.cluster.gpu_types,
        "tenant": lambda: _with_trace(scenario, "tenant", scenario.workload.possible_tenants()),
        "job_class": lambda: _with_trace(scenario, "job_class", scenario.workload.possible_job_classes()),
    }
    names: dict[str, list[str]] = {}
    for key in POLICY_KEYS:
        ref: PolicyRef = getattr(scenario, key)
        try:
            policy = registry_of(key).create(ref.name, ref.params)
        except PolicyError as error:
            # The registry names its own kind; the user wrote the scenario's key.
            rest = (error.field or "").partition(".")[2]
            field = f"{key}.{rest}" if rest else key
            if not rest and f"{key}.name" in lines:
                field = f"{key}.name"
            where, line = (OVERRIDE_SOURCE, None) if blamed_on_set(key) else locate(field)
            raise PolicyError(error.message, source=where, line=line, field=field) from None
        interval = getattr(policy, "interval", None)
        if interval and scenario.horizon and scenario.horizon / interval > MAX_SAMPLES:
            field = f"{key}.params.interval"
            where, line = locate(field)
            raise PolicyError(
                f"interval must be at least horizon / {MAX_SAMPLES:,} = {scenario.horizon / MAX_SAMPLES:g} s "
                f"(got {interval:g} s for a horizon of {scenario.horizon:g} s)",
                source=where,
                line=line,
                field=field,
            )
        for named in getattr(policy, "references", list)():
            if named.kind == "tier":  # any tier is valid; one no job has is a warning (no_effect)
                continue
            if named.kind not in names:
                names[named.kind] = sources[named.kind]()
            known = names[named.kind]
            if _matches(named, known):
                continue
            field = f"{key}.params.{named.path}"
            where, line = locate(field)
            raise PolicyError(_unknown(named, known), source=where, line=line, field=field)


def _with_trace(scenario: Scenario, column: str, names: list[str]) -> list[str]:
    """``names`` after the trace's values of ``column`` (``tenant``, ``job_class``), if it has one."""
    if scenario.workload.trace is None:
        return names
    from sim.workload.windows import read_scenario_trace

    jobs = read_scenario_trace(scenario.workload.trace).jobs
    return list(dict.fromkeys([*getattr(jobs, column), *names]))


def _matches(ref: Reference, known: list[str]) -> bool:
    if not ref.pattern:
        return ref.name in known
    return any(fnmatch.fnmatchcase(name, ref.name) for name in known)


def _unknown(ref: Reference, known: list[str]) -> str:
    """'<name> must be a <kind> of the cluster/workload (<which>) (got <name>)'."""
    what = {"gpu_type": "a GPU type of the cluster", "tenant": "a tenant", "job_class": "a job class"}
    where = "" if ref.kind == "gpu_type" else " of the workload"
    subject = f"pattern {ref.name} must match" if ref.pattern else f"{ref.name} must be"
    which = _tenant_ranges(known) if ref.kind == "tenant" else ", ".join(known)
    return f"{subject} {what[ref.kind]}{where} ({which}) (got {show(ref.name)})"


def _tenant_ranges(names: list[str]) -> str:
    """Tenants as ranges of their groups, ``sme-0001 .. sme-3000``: thousands, in a line."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name.rpartition("-")[0], []).append(name)
    ranges = [g[0] if len(g) == 1 else f"{g[0]} .. {g[-1]}" for g in groups.values()]
    more = len(ranges) - _SHOWN
    return ", ".join(ranges[:_SHOWN]) + (f" and {more} more" if more > 0 else "")
