"""Willingness to pay: which jobs a price turns away, drawn once per workload.

A job matched by a ``demand`` rule (first rule whose tier and job class match) gets a
willingness multiplier ``X = U ** (-1 / elasticity)`` with ``U`` uniform in (0, 1]: then
``P(X > x) = x ** -elasticity`` for ``x >= 1`` (Pareto), so at ``s`` times the reference
price a share ``s ** -elasticity`` of the matched jobs still submits: a constant price
elasticity. The job is willing to pay ``reference_price[its GPU type] * X`` per GPU-hour.
A second uniform makes it deferrable with the rule's ``deferrable`` probability.

Both uniforms come from the named stream ``demand``, two per job in job order, so every
scheduler and every price plan of one scenario and seed sees the same willingness (common
random numbers): raising prices can only turn more jobs away. Job by job, the first k jobs
get the same draws in a workload of any length: a longer run keeps the earlier jobs'
willingness; and a workload fed window by window draws them window by window
(``WillingnessDraw``), the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.rng import stream
from sim.scenario.market import Demand
from sim.workload.jobs import JobTable


@dataclass(frozen=True, slots=True)
class Willingness:
    """Per job: the multiplier on the reference price (``inf``: no rule, always submits),
    whether it may wait for a cheaper price, and the rule that matched (-1: none)."""

    multiplier: list[float]
    deferrable: list[bool]
    rule: list[int]

    @classmethod
    def concat(cls, parts: Sequence[Willingness]) -> Willingness:
        """The willingness of consecutive slices of the jobs, one after another."""
        return cls(*([value for part in parts for value in getattr(part, name)] for name in cls.__slots__))


def draw_willingness(demand: Demand, jobs: JobTable, seed: int) -> Willingness:
    """Each job's willingness (module docstring)."""
    return WillingnessDraw(demand, seed)(jobs)


class WillingnessDraw:
    """Draws the willingness of a workload's jobs slice by slice, in job order: called with
    consecutive slices (a run's windows), it gives what ``draw_willingness`` gives the whole
    table, slice by slice. The ``demand`` stream's doubles are drawn one after another
    whatever the chunks (PCG64 has no leftover bits between calls), so the pairs of k jobs
    are the same drawn at once or in pieces."""

    def __init__(self, demand: Demand, seed: int) -> None:
        self.demand = demand
        self._rng = stream(seed, "demand")

    def __call__(self, jobs: JobTable) -> Willingness:
        """The willingness of ``jobs``, the slice of the workload after the ones drawn so far."""
        n = len(jobs)
        # Row i is job i's pair: a prefix of the jobs gets a prefix of the draws.
        draws = self._rng.random((n, 2))
        uniform = 1.0 - draws[:, 0]  # (0, 1]: X is finite
        defer_draw = draws[:, 1]
        rules = self.demand.rules
        matched = np.full(n, -1, dtype=np.int64)
        tiers, classes = np.asarray(jobs.tier, dtype=object), np.asarray(jobs.job_class, dtype=object)
        for index in range(len(rules) - 1, -1, -1):  # last to first: the first matching rule wins
            rule = rules[index]
            hit = np.ones(n, dtype=bool)
            if rule.tier is not None:
                hit &= tiers == rule.tier
            if rule.job_class is not None:
                hit &= classes == rule.job_class
            matched[hit] = index
        multiplier = np.full(n, math.inf)
        deferrable = np.zeros(n, dtype=bool)
        for index, rule in enumerate(rules):
            hit = matched == index
            multiplier[hit] = uniform[hit] ** (-1.0 / rule.elasticity)
            deferrable[hit] = defer_draw[hit] < rule.deferrable
        return Willingness(multiplier.tolist(), deferrable.tolist(), matched.tolist())
