"""Building blocks of the scenario schema: the frozen base model, names and durations.

A duration is at most ``MAX_SECONDS`` (100 years), the limit of a trace job's times: a run
samples the cluster until its last job ends or its horizon, so a longer one would not end.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from sim.units import parse_duration
from sim.workload.trace_csv import LIMITS, MAX_SECONDS

OVERRIDE_SOURCE = "--set"
"""Where an error an override caused is located, instead of a file and line."""


def _at_most_limit(seconds: float) -> float:
    if seconds > MAX_SECONDS:
        raise ValueError(f"duration must be at most {LIMITS['seconds'][1]}")
    return seconds


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    AfterValidator(_at_most_limit),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": MAX_SECONDS},
                {"type": "string", "pattern": r"^\s*[0-9.]+([eE][-+]?[0-9]+)?\s*[smhdw]?\s*$"},
            ],
            "description": "seconds, or a number with a unit: 90s, 15m, 2h, 7d, 1w; at most 100 years",
        }
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]


class Model(BaseModel):
    """Base of every scenario model: frozen, and unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoEffect(NamedTuple):
    """A setting that cannot act on the run (``sim.scenario.no_effect``): its dotted path (in a
    policy's ``settings_without_effect``, relative to its params) and why."""

    path: str
    why: str
