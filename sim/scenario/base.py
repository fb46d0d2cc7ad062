"""Building blocks of the scenario schema: the frozen base model, names and durations."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from sim.units import parse_duration

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*[0-9.]+([eE][-+]?[0-9]+)?\s*[smhdw]?\s*$"},
            ],
            "description": "seconds, or a number with a unit: 90s, 15m, 2h, 7d, 1w",
        }
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]


class Model(BaseModel):
    """Base of every scenario model: frozen, and unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)
