"""GPU limits as quota policies take them: a number for all GPU types together, or a number
per GPU type; and usage counted the same two ways."""

from __future__ import annotations

import math
from collections.abc import Mapping

ALL_TYPES = "*"  # the key of a limit on all GPU types together


def check_limit(name: str, value: object) -> dict[str, float]:
    """A limit as ``{gpu_type or '*': GPUs}``; ValueError naming ``name`` if malformed."""
    if isinstance(value, Mapping):
        return {str(key): check_gpus(f"{name}.{key}", item) for key, item in value.items()}
    return {ALL_TYPES: check_gpus(name, value)}


def check_gpus(name: str, value: object) -> float:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not (value == math.inf or (value >= 0 and value == int(value))):
        raise ValueError(f"'{name}' must be a whole number of GPUs >= 0 (got {value!r})")
    return float(value)


class Usage:
    """GPUs held per account, per GPU type and over all types."""

    def __init__(self) -> None:
        self._held: dict[str, dict[str, float]] = {}

    def of(self, account: str, gpu_type: str) -> float:
        return self._held.get(account, {}).get(gpu_type, 0.0)

    def add(self, account: str, gpu_type: str, gpus: float) -> None:
        held = self._held.setdefault(account, {})
        held[gpu_type] = held.get(gpu_type, 0.0) + gpus
        held[ALL_TYPES] = held.get(ALL_TYPES, 0.0) + gpus

    def room(self, account: str, limit: Mapping[str, float], gpu_type: str) -> float:
        """GPUs of ``gpu_type`` the account may still take under ``limit``."""
        room = math.inf
        for key in (gpu_type, ALL_TYPES):
            if key in limit:
                room = min(room, limit[key] - self.of(account, key))
        return room


def limit_for(limit: Mapping[str, float], gpu_type: str) -> float:
    """The tightest bound ``limit`` puts on one job of ``gpu_type`` alone."""
    return min(limit.get(gpu_type, math.inf), limit.get(ALL_TYPES, math.inf))
