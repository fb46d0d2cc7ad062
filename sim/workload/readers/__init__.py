"""Trace readers: one per input format, each converting to the canonical job table.

    read_trace(path, format, **options) -> TraceResult(jobs, drops, notes)

``FORMATS`` maps a format name to its ``Format``: the reader function, the options it takes
(each with a check that normalises the value) and whether it yields jobs. ``csv`` is the
canonical trace CSV, read as it is; every other reader sorts its jobs by submit time and
shifts them so the first is at 0 (``notes["time_offset"]`` is the shift), and counts every
job it drops by reason in ``drops``. ``azure-llm`` yields no jobs but a request-rate series
(``notes["series"]``). See docs/traces.md for each format's mapping and drop rules.

Adding a format: a module with a ``read_<format>(path, **options) -> TraceResult`` function,
one ``Format`` entry below, and the name in ``TraceSpec.format`` (sim/scenario/schema.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import TraceError, show
from sim.workload.readers.azure_llm import RateSeries, read_azure_llm, write_rate_series
from sim.workload.readers.common import TraceResult
from sim.workload.readers.openb import read_openb
from sim.workload.readers.philly import read_philly
from sim.workload.readers.swf import read_swf
from sim.workload.trace_csv import read_trace_csv

__all__ = [
    "FORMATS",
    "Format",
    "RateSeries",
    "TraceResult",
    "check_options",
    "read_trace",
    "write_rate_series",
]


def _read_csv(path: str | Path) -> TraceResult:
    return TraceResult(read_trace_csv(path))


def _name(value: Any) -> str:
    # YAML reads an all-digit hash such as 103959 as an int: it is still a name.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError("must be a virtual cluster name or a non-empty list of names")


def _names(value: Any) -> str | tuple[str, ...]:
    if isinstance(value, list | tuple):
        if not value:
            raise ValueError("must be a virtual cluster name or a non-empty list of names")
        return tuple(_name(v) for v in value)
    return _name(value)


def _path(value: Any) -> str:
    if isinstance(value, str | Path) and str(value):
        return str(value)
    raise ValueError("must be a file path")


def _seconds(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return float(value)
    raise ValueError("must be a number of seconds > 0")


@dataclass(frozen=True, slots=True)
class Format:
    """A trace format: its reader, its options (name -> check returning the normalised value)."""

    name: str
    read: Callable[..., TraceResult]
    summary: str
    options: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    path_options: tuple[str, ...] = ()
    gives_jobs: bool = True


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("csv", _read_csv, "the canonical trace CSV"),
        Format("swf", read_swf, "Standard Workload Format (Parallel Workloads Archive)"),
        Format("philly", read_philly, "Philly-style job list", {"cluster": _names}),
        Format("openb", read_openb, "Alibaba openb pod list", {"nodes": _path}, path_options=("nodes",)),
        Format(
            "azure-llm",
            read_azure_llm,
            "Azure LLM inference requests (a rate series, no jobs)",
            {"bin": _seconds},
            gives_jobs=False,
        ),
    )
}


def check_options(format: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` normalised for ``format``; ValueError ``options.<key> must <rule> (got <value>)``."""
    spec = FORMATS[format]
    checked: dict[str, Any] = {}
    for key, value in options.items():
        check = spec.options.get(key)
        if check is None:
            valid = ", ".join(spec.options) or "none"
            raise ValueError(
                f"options.{key}: option must be one of {valid} for format {format!r} (got {show(key)})"
            )
        try:
            checked[key] = check(value)
        except ValueError as error:
            raise ValueError(f"options.{key} {error} (got {show(value)})") from None
    return checked


def read_trace(path: str | Path, format: str = "csv", **options: Any) -> TraceResult:
    """Read the trace at ``path`` in ``format`` with reader ``options``; TraceError on bad input."""
    if format not in FORMATS:
        raise TraceError(
            f"format must be one of {', '.join(FORMATS)} (got {show(format)})",
            source=str(path),
            field="format",
        )
    try:
        checked = check_options(format, options)
    except ValueError as error:
        raise TraceError(str(error), source=str(path)) from None
    return FORMATS[format].read(path, **checked)
