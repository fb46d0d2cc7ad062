"""Durations with units: ``90s``, ``15m``, ``2h``, ``7d``, ``1w`` or a number of seconds."""

from __future__ import annotations

import math
import re

_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([smhdw]?)\s*$")


def parse_duration(value: object) -> float:
    """Seconds in ``value``: a non-negative number, or a string like ``90s``, ``1.5h``, ``7d``.

    Raises ValueError with the rule when the value is not a duration.
    """
    if isinstance(value, bool):
        raise ValueError("duration must be a number of seconds or a string like '90s', '15m', '2h', '7d'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    else:
        raise ValueError("duration must be a number of seconds or a string like '90s', '15m', '2h', '7d'")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("duration must be a finite number of seconds >= 0")
    return seconds


def format_duration(seconds: float) -> str:
    """A short human form of ``seconds`` for tables: ``45s``, ``12.5m``, ``3.2h``, ``4.1d``."""
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if abs(seconds) >= size:
            return f"{seconds / size:.3g}{unit}"
    return f"{seconds:.3g}s"
