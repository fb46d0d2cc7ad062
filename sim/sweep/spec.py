"""The sweep file: its schema, and reading it from YAML with ``file:line`` errors.

    name: munich-load            # optional; default: the file's stem
    base: munich.yaml            # a scenario file, relative to this file, or an inline mapping
    set: {horizon: 3d}           # optional overrides of the base, dotted path -> value
    axes:                        # a grid: every combination, the last axis varying fastest
      workload.synthetic.streams.0.load: [0.6, 0.75, 0.9]
      scheduler: [easy, fifo]
    # cells:                     # or an explicit list of points instead of axes
    #   - {scheduler: easy, workload.synthetic.streams.0.load: 0.6}
    replications: 3              # seeds per cell, as gpusim compare (default 1)
    warmup: 1d                   # jobs submitted earlier are left out of the metrics

``read_sweep`` returns the validated ``SweepFile`` and the line of every key and list item,
so that ``sim.sweep.plan`` can place a mistake found later (an axis value the scenario
rejects) on the line that wrote it. Mistakes read as the scenario loader's do:
``<file>:<line>: <dotted.path>: <what> must <rule> (got <value>)``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.compare.labels import overlap_text, overlapping
from sim.errors import ScenarioError, show
from sim.scenario.base import Duration, Name
from sim.scenario.yaml_reader import read_yaml

Loc = tuple[str, ...]
"""Where a value sits in the sweep file: its keys and list indices, as text."""

_PATH = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
MAX_RUNS = 100_000
"""Most runs (cells x replications) a sweep may have: a grid of 8 axes of 10 values is 10^8 cells."""
RESERVED = ("cell", "replication", "seed")
"""Columns of sweep.csv that an axis must not shadow (vary ``seed`` through replications)."""


def _axis_path(path: str) -> str:
    if not _PATH.match(path):
        raise ValueError(
            f"axis path must be dotted keys like workload.synthetic.streams.0.load (got {path!r})"
        )
    if path in RESERVED:
        raise ValueError(
            f"axis path must not be a column of sweep.csv; replications vary the seed (got {path!r})"
        )
    return path


def _values(values: list[Any]) -> list[Any]:
    if not values:
        raise ValueError("axis must list at least one value (got [])")
    return values


AxisPath = Annotated[str, AfterValidator(_axis_path)]


class SweepFile(BaseModel):
    """A parameter sweep over one base scenario (module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: Name | None = None
    base: Any = Field(description="scenario file relative to the sweep file, or an inline scenario")
    overrides: dict[AxisPath, Any] = Field(default_factory=dict, alias="set")
    axes: dict[AxisPath, Annotated[list[Any], AfterValidator(_values)]] | None = None
    cells: list[dict[AxisPath, Any]] | None = None
    replications: int = Field(default=1, ge=1, le=100_000)
    warmup: Duration = 0.0

    @field_validator("base")
    @classmethod
    def _base(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() and _nameable(value):
            return value
        if isinstance(value, dict):
            return value
        raise ValueError("base must be a scenario file path or an inline scenario mapping")


def _nameable(path: str) -> bool:
    """Whether the system can name ``path``: no NUL, no part over 255 bytes, 4,096 in all."""
    data = path.encode("utf-8", errors="surrogateescape")
    return b"\0" not in data and len(data) < 4096 and all(len(part) <= 255 for part in data.split(b"/"))


@dataclass(frozen=True)
class SweepSource:
    """A read sweep file: the model, its path, and the 1-based line of every key path in it."""

    spec: SweepFile
    path: Path
    lines: Mapping[Loc, int]

    @property
    def source(self) -> str:
        return str(self.path)

    @property
    def name(self) -> str:
        return self.spec.name or self.path.stem

    def line(self, loc: Sequence[str | int]) -> int | None:
        """The line of ``loc``, or of its deepest prefix in the file."""
        return _line(self.lines, loc)

    def error(self, loc: Sequence[str | int], message: str) -> ScenarioError:
        """A ScenarioError at ``loc`` of this file."""
        return _located(self.source, self.lines, loc, message)


def _line(lines: Mapping[Loc, int], loc: Sequence[str | int]) -> int | None:
    parts = tuple(str(part) for part in loc)
    for end in range(len(parts), -1, -1):
        if parts[:end] in lines:
            return lines[parts[:end]]
    return None


def _located(source: str, lines: Mapping[Loc, int], loc: Sequence[str | int], message: str) -> ScenarioError:
    field = ".".join(str(part) for part in loc) or None
    return ScenarioError(message, source=source, line=_line(lines, loc), field=field)


def read_sweep(path: str | Path) -> SweepSource:
    """Read and validate the sweep file at ``path``; raise ScenarioError at the first mistake."""
    source = str(path)
    data, node = read_yaml(path, "sweep file")
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    if not isinstance(data, dict):
        got = "an empty document" if data is None else type(data).__name__
        raise ScenarioError(f"sweep must be a mapping of keys to values (got {got})", source=source)
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as error:
        loc, message = _explain(error.errors()[0])
        raise _located(source, lines, loc, message) from None
    reader = SweepSource(spec, Path(path), lines)
    if (spec.axes is None) == (spec.cells is None):
        where = ("cells",) if spec.cells is not None else ()
        raise reader.error(where, "sweep must have either axes (a grid) or cells (a list), not both")
    if spec.cells is not None and not spec.cells:
        raise reader.error(("cells",), "cells must list at least one cell (got [])")
    _check_paths(reader)
    cells = math.prod(len(values) for values in spec.axes.values()) if spec.axes else len(spec.cells or ())
    if cells * spec.replications > MAX_RUNS:
        raise reader.error(
            ("axes",) if spec.axes else ("cells",),
            f"sweep must have at most {MAX_RUNS:,} runs, cells x replications "
            f"(got {cells:,} cells x {spec.replications:,})",
        )
    return reader


def _check_paths(reader: SweepSource) -> None:
    """Refuse an axis path (or a cell's) written twice or lying inside another: one overrides the
    other (``pricing`` replaces all of ``pricing.params.x``, or the other way round), so
    sweep.csv would show values that did not run. ``set`` may overlap them: an axis wins."""
    spec = reader.spec
    groups = [(("axes",), list(spec.axes), "axis")] if spec.axes is not None else []
    groups += [(("cells", str(i)), list(cell), "a cell's") for i, cell in enumerate(spec.cells or ())]
    for loc, paths, whose in groups:
        pair = overlapping(paths)
        if pair is not None:
            raise reader.error(
                (*loc, pair[1]),
                f"{whose} paths must be unique and none inside another, or one overrides the other "
                f"(got {overlap_text(pair)})",
            )


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[(*loc, str(key.value))] = key.start_mark.line + 1
            _walk(value, (*loc, str(key.value)), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, str(index)), lines)


def _explain(error: Mapping[str, Any]) -> tuple[Loc, str]:
    """(location, one-line message) of one pydantic error on the sweep file."""
    loc = tuple(str(part) for part in error["loc"] if part != "[key]")
    loc = tuple("set" if part == "overrides" else part for part in loc)
    subject = loc[-1] if loc else "sweep"
    if len(loc) > 1 and loc[-1].isdigit():
        subject = f"{loc[-2]}.{loc[-1]}"
    kind, msg = error["type"], error["msg"]
    if kind == "missing":
        return loc, f"{subject} is required"
    if kind == "extra_forbidden":
        keys = ", ".join(field.alias or name for name, field in SweepFile.model_fields.items())
        return loc, f"unknown key; valid keys here: {keys}"
    if kind == "value_error":
        message = msg.removeprefix("Value error, ")
    elif kind in ("dict_type", "model_type"):
        message = f"{subject} must be a mapping of keys to values"
    else:
        message = f"{subject} {re.sub(r'^(Input )?should ', 'must ', msg)}"
    if "(got" not in message:
        message += f" (got {show(error.get('input'))})"
    return loc, " ".join(message.split())
