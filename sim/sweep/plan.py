"""From a sweep file to the list of runs: cells, replications, seeds and directory keys.

A *cell* is one point of the sweep: the base scenario with ``set`` and the cell's axis
values applied (``--set`` semantics, in the order written; an axis value wins over ``set``).
A *run* is a cell and a replication. Replication 0 uses the cell's seed, replication r > 0
``sim.compare.runner.replication_seed(seed, r)``, exactly as ``gpusim compare``, so every
cell of one replication sees the same workload unless an axis changes the workload itself.

A run's key (its directory ``cells/<key>/``) is ``sim.compare.labels.run_key``: the first 16
hex digits of the SHA-256 of the canonical JSON (sorted keys, no spaces) of ``{"scenario":
<the resolved scenario with its seed>, "warmup_s": <warm-up>}``: whatever changes the
results changes the key, and two spellings of the same scenario share one. Trace paths are
resolved to absolute paths (a Dask worker may start in another directory), so a
trace-driven sweep's keys also depend on where the trace is.

``make_plan`` validates every cell's scenario before anything runs; a value the scenario
rejects is reported on the sweep file's line that wrote it. Two cells whose labels (their
axis values, as sweep.csv shows them) differ but whose runs have one key are refused: a
label would name a setting that made no difference (``horizon: [1h, 3600]``). The same
point listed twice has one label and is run once.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from sim.compare.labels import SAME_SCENARIO, first_repeat, quoted, run_key
from sim.compare.runner import replication_seed
from sim.errors import UserError, located
from sim.scenario import Scenario, given_data, load_scenario, scenario_from_data
from sim.scenario.loader import OVERRIDE_SOURCE
from sim.scenario.no_effect import SAME_REPLICATIONS, draws_random_numbers
from sim.sweep.spec import Loc, SweepSource

Loader = Callable[[list[str]], Scenario]


@dataclass(frozen=True, slots=True)
class Setting:
    """One override of the base: dotted path, value, and where the sweep file wrote it."""

    path: str
    value: Any
    loc: Loc

    @property
    def text(self) -> str:
        """As a ``--set`` override; the value in YAML flow style, so it reads back the same."""
        return f"{self.path}={flow(self.value)}"


@dataclass(frozen=True, slots=True)
class Run:
    """One cell and replication: what a worker needs to run it, and where it goes."""

    cell: int
    replication: int
    seed: int
    key: str
    scenario: dict[str, Any]  # the resolved scenario as JSON data (``given_data``), seed included


@dataclass(frozen=True)
class Plan:
    """Every cell's axis values (one column per axis path), and the runs in output order."""

    name: str
    axes: list[str]
    values: list[dict[str, Any]]  # per cell: axis path -> value (a cells list may leave some out)
    replications: int
    warmup: float
    scenario_name: str
    runs: list[Run]
    warnings: tuple[str, ...] = ()  # located lines for settings that cannot act (replications)


def flow(value: Any) -> str:
    """``value`` as one line of YAML flow style (``0.6``, ``'0.6'``, ``{name: easy}``)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=math.inf, sort_keys=False)
    return text.removesuffix("\n...\n").strip()


def make_plan(sweep: SweepSource) -> Plan:
    """Expand the sweep into runs, validating every cell's scenario first (module docstring)."""
    spec = sweep.spec
    common = [Setting(path, value, ("set", path)) for path, value in spec.overrides.items()]
    points = _points(sweep)
    axes = list(dict.fromkeys(s.path for point in points for s in point))
    load = _base_loader(sweep)
    scenarios = [_resolve(sweep, load, [*common, *point]) for point in points]
    for scenario, point in zip(scenarios, points, strict=True):
        end = scenario.horizon or scenario.arrival_window()
        if end is not None and spec.warmup >= end:
            cell = label(point) or "every cell"
            raise sweep.error(
                ("warmup",),
                f"warmup must be shorter than the horizon, or no job is measured "
                f"(got {spec.warmup:g} s for {cell}, whose horizon is {end:g} s)",
            )
    runs: list[Run] = []
    for index, scenario in enumerate(scenarios):
        # The key hashes every value, defaults included; a worker validates what was given.
        data, given = scenario.model_dump(mode="json"), given_data(scenario)
        for r in range(spec.replications):
            seed = replication_seed(scenario.seed, r)
            key = run_key({**data, "seed": seed}, spec.warmup)
            runs.append(Run(index, r, seed, key, {**given, "seed": seed}))
    _check_labels(sweep, points, runs)
    warnings = ()
    if spec.replications > 1 and not any(draws_random_numbers(s) for s in scenarios):
        line = sweep.line(("replications",))
        warnings = (located(SAME_REPLICATIONS, sweep.source, line, "replications"),)
    return Plan(
        name=sweep.name,
        axes=axes,
        values=[{s.path: s.value for s in point} for point in points],
        replications=spec.replications,
        warmup=spec.warmup,
        scenario_name=scenarios[0].name,
        runs=runs,
        warnings=warnings,
    )


def label(point: Sequence[Setting]) -> str:
    """A cell as its axis values say: ``scheduler=easy, horizon=1h``."""
    return ", ".join(s.text for s in point)


def _check_labels(sweep: SweepSource, points: Sequence[Sequence[Setting]], runs: Sequence[Run]) -> None:
    """Refuse two runs of one key from cells labelled apart (module docstring). Every run is
    compared, not only replication 0's: a replication's seed must not meet another cell's."""
    labels = [label(point) for point in points]
    repeat = first_repeat([run.key for run in runs], [labels[run.cell] for run in runs])
    if repeat is None:
        return
    one, other = (points[runs[i].cell] for i in repeat)
    if sweep.spec.axes is not None:  # the first axis the two cells differ on
        loc: tuple[str, ...] = (
            "axes",
            next(a.path for a, b in zip(one, other, strict=True) if a.text != b.text),
        )
    else:
        loc = ("cells", str(runs[repeat[1]].cell))
    raise sweep.error(
        loc, f"cells {SAME_SCENARIO} (got {quoted(label(one))} and {quoted(label(other))}, one scenario)"
    )


def _points(sweep: SweepSource) -> list[list[Setting]]:
    """The settings of every cell: the grid's combinations in order, or the cells as listed."""
    spec = sweep.spec
    if spec.axes is not None:
        choices = [
            [Setting(path, value, ("axes", path, str(i))) for i, value in enumerate(values)]
            for path, values in spec.axes.items()
        ]
        return [list(combination) for combination in itertools.product(*choices)]
    return [
        [Setting(path, value, ("cells", str(i), path)) for path, value in cell.items()]
        for i, cell in enumerate(spec.cells or [])
    ]


def _base_loader(sweep: SweepSource) -> Loader:
    """A function from override texts to the validated Scenario of the sweep's base."""
    base = sweep.spec.base
    folder = sweep.path.resolve().parent
    if isinstance(base, dict):
        return lambda overrides: scenario_from_data(base, sweep.source, folder, overrides)
    path = folder / base
    try:
        found = path.is_file()
    except (OSError, ValueError) as error:  # e.g. a folder on the way without search permission
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise sweep.error(
            ("base",), f"base scenario file must be reachable ({reason}) (got {base!r})"
        ) from None
    if not found:
        raise sweep.error(("base",), f"base scenario file must exist (got {base!r})")
    return lambda overrides: load_scenario(path, overrides)


def _resolve(sweep: SweepSource, load: Loader, settings: Sequence[Setting]) -> Scenario:
    """The cell's Scenario; a mistake is moved to the sweep file's line that caused it."""
    try:
        return load([s.text for s in settings])
    except UserError as error:
        raise _relocate(sweep, error, settings) from None


def _relocate(sweep: SweepSource, error: UserError, settings: Sequence[Setting]) -> UserError:
    if error.source == OVERRIDE_SOURCE and settings:
        culprit = _culprit(error.field or "", settings)
        message = error.message
        if error.field and error.field != culprit.path:
            message = f"{error.field}: {message}"
        where = culprit.loc[:2] if culprit.loc[0] == "axes" else culprit.loc
        line = sweep.line(culprit.loc)
        return type(error)(message, source=sweep.source, line=line, field=".".join(where))
    if error.source == sweep.source:  # an inline base: its lines are the sweep file's
        loc = ("base", *error.field.split(".")) if error.field else ("base",)
        return type(error)(error.message, source=sweep.source, line=sweep.line(loc), field=".".join(loc))
    return error


def _culprit(field: str, settings: Sequence[Setting]) -> Setting:
    """The setting an error at ``field`` most likely comes from: the longest shared dotted
    prefix, the later one on a tie (it was applied last)."""
    parts = field.split(".") if field else []

    def shared(setting: Setting) -> int:
        count = 0
        for mine, theirs in zip(parts, setting.path.split("."), strict=False):
            if mine != theirs:
                break
            count += 1
        return count

    return max(reversed(settings), key=shared)
