"""``gpusim compare``: variants x replications, common random numbers, t-intervals.

A variant is a set of overrides of the base scenario: a scheduler (``--schedulers``) and/or
values of dotted paths (``--vary``), all combinations, the first being the baseline. A
replication is a seed: replication 0 uses the scenario's seed, replication r > 0 the seed
drawn from ``SeedSequence(seed, spawn_key=(r,))``, so replications are independent while
every variant of one replication sees the identical workload (the workload depends only on
the scenario's workload part and the seed). Each (variant, replication) cell is one full
run, written under ``runs/<variant>/rep-<r>/`` like ``gpusim run`` writes, and summarised
by ``sim.compare.metrics.comparison_metrics`` after the warm-up. Cells run in a process
pool; the results do not depend on the number of workers or on which finishes first.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.compare.labels import (
    SAME_SCENARIO,
    first_repeat,
    inside,
    overlap_text,
    overlapping,
    quoted,
    run_key,
)
from sim.compare.metrics import comparison_metrics
from sim.compare.stats import Interval, paired_difference, t_interval
from sim.errors import UserError
from sim.scenario import Scenario, given_data, scenario_from_data
from sim.scenario.base import OVERRIDE_SOURCE
from sim.scenario.loader import path_parts
from sim.workers import interruptible_pool

VARIANTS = "--schedulers/--vary"
"""Where a mistake in a variant's settings is located."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One arm of a comparison: its label and the ``path=value`` overrides that make it."""

    label: str
    settings: tuple[str, ...]

    @property
    def slug(self) -> str:
        """The label as a directory name."""
        return re.sub(r"[^A-Za-z0-9_.=-]+", "_", self.label).strip("_") or "base"


@dataclass(frozen=True, slots=True)
class Cell:
    """One run: variant index, replication, seed, and its comparison metrics."""

    variant: int
    replication: int
    seed: int
    metrics: dict[str, float]


@dataclass(frozen=True, slots=True)
class Comparison:
    """Every cell, and per variant and metric the interval and the paired difference to the baseline."""

    scenario: Scenario
    variants: list[Variant]
    cells: list[Cell]
    warmup: float
    intervals: dict[str, dict[str, Interval]]  # variant label -> metric -> interval
    differences: dict[str, dict[str, Interval]]  # variant label -> metric -> (variant - baseline)

    @property
    def metrics(self) -> list[str]:
        names: dict[str, None] = {}
        for cell in self.cells:
            names.update(dict.fromkeys(cell.metrics))
        return list(names)

    @property
    def replications(self) -> int:
        return 1 + max((c.replication for c in self.cells), default=-1)


def make_variants(schedulers: Sequence[str], vary: Sequence[tuple[str, Sequence[str]]]) -> list[Variant]:
    """All combinations of the schedulers and the varied values, in the order given.

    A varied path that another setting overrides is refused (UserError), since the labels would
    name values that never ran: ``seed`` (each replication sets it), ``scheduler`` or a path in
    it with ``schedulers``, and a path given twice or lying inside another.
    """
    _check_paths(bool(schedulers), [path for path, _ in vary])
    axes: list[list[tuple[str, str]]] = []
    if schedulers:
        axes.append([("scheduler", name) for name in schedulers])
    axes += [[(path, value) for value in values] for path, values in vary]
    if not axes:
        return [Variant("base", ())]
    variants: list[Variant] = []
    for combination in itertools.product(*axes):
        label = ", ".join(value if path == "scheduler" else f"{path}={value}" for path, value in combination)
        taken = sum(v.label == label or v.label.startswith(f"{label} #") for v in variants)
        if taken:  # the same arm twice (a CRN check): keep both, apart
            label = f"{label} #{taken + 1}"
        variants.append(Variant(label, tuple(f"{path}={value}" for path, value in combination)))
    return variants


def _check_paths(schedulers: bool, paths: Sequence[str]) -> None:
    overriding = "or one overrides the other"
    for path in paths:
        if path_parts(path) == ("seed",):
            raise UserError(
                f"--vary must not change seed: each replication sets it (got {path!r})", field="--vary"
            )
        if schedulers and inside(path, "scheduler"):
            raise UserError(
                f"--vary must not change scheduler when --schedulers is given, {overriding} (got {path!r})",
                field="--vary",
            )
    pair = overlapping(paths)
    if pair is not None:
        rule = f"--vary must give each path once and none inside another, {overriding}"
        raise UserError(f"{rule} (got {overlap_text(pair)})", field="--vary")


def check_variants(base: Scenario, variants: Sequence[Variant], warmup: float = 0.0) -> list[Scenario]:
    """Validate every variant's scenario (a mistake is a UserError before any run), and refuse
    two variants of different settings that run one scenario (``1h`` and ``3600``): their
    labels would claim a difference that is not there.

    The scenarios compared are replication 0's (the base seed): the variants of every other
    replication differ from these by the seed alone, the same for all, so they coincide
    exactly when these do. The same settings twice (``easy`` and ``easy #2``) is the
    deliberate CRN check and stays allowed. Returns those scenarios, in variant order.
    """
    data = given_data(base)
    keys, scenarios = [], []
    for variant in variants:
        overrides = (*variant.settings, f"seed={base.seed}")
        try:
            scenario = scenario_from_data(data, source=VARIANTS, overrides=overrides)
        except UserError as error:
            if error.source != OVERRIDE_SOURCE:
                raise
            # The settings are overrides to the loader, but the user gave them as these options.
            raise type(error)(error.message, source=VARIANTS, field=error.field) from None
        keys.append(run_key(scenario.model_dump(mode="json"), warmup))
        scenarios.append(scenario)
    repeat = first_repeat(keys, [v.settings for v in variants])
    if repeat is not None:
        one, other = (variants[i] for i in repeat)
        differing = {text.partition("=")[0] for text in set(one.settings) ^ set(other.settings)}
        # A scheduler's setting may come from --schedulers or from --vary scheduler=...
        field = "--vary" if differing - {"scheduler"} else "--schedulers/--vary"
        raise UserError(
            f"variants {SAME_SCENARIO} (got {quoted(one.label)} and {quoted(other.label)}, one scenario)",
            field=field,
        )
    return scenarios


def replication_seed(seed: int, replication: int) -> int:
    """Replication 0: ``seed``; others: an independent seed spawned from it."""
    if replication == 0:
        return seed
    state = np.random.SeedSequence(seed, spawn_key=(replication,)).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) % (2**63)


def _run_cell(task: tuple[dict[str, Any], tuple[str, ...], int, int, int, float, str | None]) -> Cell:
    import sim

    data, settings, variant, replication, seed, warmup, out = task
    scenario = scenario_from_data(data, overrides=(*settings, f"seed={seed}"))
    result = sim.run(scenario, out=out, plots=False)
    return Cell(variant, replication, seed, comparison_metrics(result.records, warmup))


def compare(
    base: Scenario,
    variants: Sequence[Variant],
    replications: int,
    *,
    warmup: float = 0.0,
    out: Path | None = None,
    workers: int | None = None,
    on_cell: Callable[[Cell], None] | None = None,
) -> Comparison:
    """Run every (variant, replication) cell and summarise (module docstring).

    Every variant is checked first (``check_variants``: an error there stops before any run).
    ``workers`` defaults to the CPU count (capped at the number of cells); 1 runs in-process.
    """
    if replications < 1:
        raise ValueError(f"replications must be >= 1 (got {replications})")
    check_variants(base, variants, warmup)
    data = given_data(base)
    tasks = [
        (
            data,
            variant.settings,
            index,
            r,
            replication_seed(base.seed, r),
            warmup,
            str(out / "runs" / variant.slug / f"rep-{r}") if out is not None else None,
        )
        for r in range(replications)
        for index, variant in enumerate(variants)
    ]
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    cells: list[Cell] = []
    if workers == 1:
        for task in tasks:
            cells.append(_run_cell(task))
            if on_cell is not None:
                on_cell(cells[-1])
    else:
        with interruptible_pool(workers) as pool:  # a signal stops the runs at once
            for cell in pool.imap(_run_cell, tasks):
                cells.append(cell)
                if on_cell is not None:
                    on_cell(cell)
    intervals, differences = summarise(cells, variants, replications)
    return Comparison(base, list(variants), cells, warmup, intervals, differences)


def summarise(
    cells: Sequence[Cell], variants: Sequence[Variant], replications: int
) -> tuple[dict[str, dict[str, Interval]], dict[str, dict[str, Interval]]]:
    """Per variant and metric: the t-interval over replications and the paired difference
    against variant 0 (a metric a replication lacks counts as NaN there)."""
    table: dict[int, dict[str, list[float]]] = {i: {} for i in range(len(variants))}
    names: dict[str, None] = {}
    for cell in cells:
        names.update(dict.fromkeys(cell.metrics))
    for cell in cells:
        for name in names:
            table[cell.variant].setdefault(name, [math.nan] * replications)[cell.replication] = (
                cell.metrics.get(name, math.nan)
            )
    intervals: dict[str, dict[str, Interval]] = {}
    differences: dict[str, dict[str, Interval]] = {}
    for index, variant in enumerate(variants):
        values: Mapping[str, list[float]] = table[index]
        intervals[variant.label] = {name: t_interval(values[name]) for name in names}
        differences[variant.label] = {name: paired_difference(values[name], table[0][name]) for name in names}
    return intervals, differences
