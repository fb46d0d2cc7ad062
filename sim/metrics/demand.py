"""Demand response: what the prices turned away, and the price elasticity that shows.

For the jobs a ``demand`` rule matches (same first-match rule as ``sim.workload.demand``):

    potential GPU-hours  P = sum of gpus x duration over the matched jobs
    submitted GPU-hours  S = the same over those that did not balk (deferred ones count
                             once submitted)
    price ratio          r = exp( sum_j w_j ln max(price_j / reference_j, 1) / sum_j w_j ),
                             w_j = gpus_j x duration_j, price_j the rate quoted at
                             submission, reference_j the rule's reference for its GPU type
    measured elasticity  e = -ln(S / P) / ln(r)       (None when r = 1: no price above
                             the reference, nothing to measure)

With willingness Pareto-distributed above the reference (``P(X > x) = x^-e``) and one
price ratio s for all jobs, ``S / P -> s^-e``, so e measures the configured elasticity;
it is exact in expectation for job counts and close for GPU-hours.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.metrics.columns import Columns
from sim.records import RunRecords
from sim.scenario.market import Demand


def demand_summary(records: RunRecords, demand: Demand | None) -> dict[str, Any] | None:
    """Submitted, balked and deferred demand, overall and per rule (module docstring)."""
    if demand is None:
        return None
    jobs = records.jobs
    columns = Columns.of_records(records)
    hours = columns.job_int("gpus") * columns.job("duration") / 3600.0
    balked = columns.status_is("balked") if jobs else np.zeros(0, dtype=bool)
    tiers, tier_labels = columns.job_codes("tier")
    classes, class_labels = columns.job_codes("job_class")
    price = columns.job("price")
    priced = ~np.isnan(price)
    types, type_labels = columns.job_codes("gpu_type")
    wanted = np.unique(types[priced]).tolist()
    reference = np.ones(len(type_labels))
    reference[wanted] = [demand.reference(type_labels[k]) for k in wanted]
    ratio = np.ones(len(jobs))
    ratio[priced] = np.maximum(price[priced] / reference[types[priced]], 1.0)
    taken = np.zeros(len(jobs), dtype=bool)
    rules = []
    for rule in demand.rules:
        hit = ~taken
        if rule.tier is not None:
            hit &= _equals(tiers, tier_labels, rule.tier)
        if rule.job_class is not None:
            hit &= _equals(classes, class_labels, rule.job_class)
        taken |= hit
        rules.append({"tier": rule.tier, "job_class": rule.job_class, **_block(hit, hours, balked, ratio)})
        rules[-1]["elasticity"] = rule.elasticity
    summary = _block(taken, hours, balked, ratio)
    summary["balked_jobs"] = int(balked.sum())
    summary["deferred_jobs"] = int(records.extra.get("deferred_jobs", 0))
    summary["by_rule"] = rules
    return summary


def _equals(codes: np.ndarray, labels: list[str], value: str) -> np.ndarray:
    """Bool per job: its label is ``value``."""
    return codes == labels.index(value) if value in labels else np.zeros(codes.shape, dtype=bool)


def _block(hit: np.ndarray, hours: np.ndarray, balked: np.ndarray, ratio: np.ndarray) -> dict[str, Any]:
    potential = float(hours[hit].sum())
    submitted = float(hours[hit & ~balked].sum())
    weights = hours[hit]
    mean_ratio = float(np.exp(np.average(np.log(ratio[hit]), weights=weights))) if weights.sum() > 0 else 1.0
    measured = None
    if mean_ratio > 1.0 and submitted > 0:
        measured = -math.log(submitted / potential) / math.log(mean_ratio)
    return {
        "potential_gpu_hours": potential,
        "submitted_gpu_hours": submitted,
        "balked_gpu_hours": potential - submitted,
        "price_ratio": mean_ratio,
        "measured_elasticity": measured,
    }
