"""Labels that name only what ran: run keys, and the checks shared by compare and sweep.

A comparison's variant and a sweep's cell are labelled by the settings that make them. A
label can name a setting that did not run: a path given twice (the later value wins), a
path inside another (``pricing`` replaces all of ``pricing.params.x``, or the other way
round), or two spellings of one value (``1h`` and ``3600``). The first two are refused by
``overlapping`` as written; ``first_repeat`` is the safety net on what runs: two labels
whose resolved scenarios have one run key.

A run's key is the first 16 hex digits of the SHA-256 of the canonical JSON (sorted keys,
no spaces) of ``{"scenario": <the resolved scenario with its seed>, "warmup_s": <warm-up>}``:
whatever changes the results changes the key, and two spellings of the same scenario
share one. A sweep names each run's directory by it (``sim.sweep.plan``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sim.scenario.loader import path_parts

KEY_DIGITS = 16
_SHOWN = 200
"""Most characters of a label quoted in a message: enough to tell two cells of many axes apart."""


def run_key(scenario: dict[str, Any], warmup: float) -> str:
    """The key of a run of ``scenario`` (JSON data, seed included) after ``warmup`` s (module docstring)."""
    canonical = json.dumps(
        {"scenario": scenario, "warmup_s": warmup}, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:KEY_DIGITS]


def inside(one: str, other: str) -> bool:
    """Whether one of the paths is the other or lies inside it: setting both, one overrides the other."""
    a, b = path_parts(one), path_parts(other)
    return a[: len(b)] == b or b[: len(a)] == a


def overlapping(paths: Sequence[str]) -> tuple[str, str] | None:
    """The first pair (earlier, later) of ``paths`` where one is the other or lies inside it."""
    for later, path in enumerate(paths):
        for earlier in paths[:later]:
            if inside(earlier, path):
                return earlier, path
    return None


def overlap_text(pair: tuple[str, str]) -> str:
    """A pair from ``overlapping`` as a message's value: ``'horizon' twice`` or ``'a' and 'a.b'``."""
    earlier, later = pair
    if path_parts(earlier) == path_parts(later):
        return f"{earlier!r} twice"
    return f"{earlier!r} and {later!r}"


def first_repeat(keys: Sequence[str], names: Sequence[object]) -> tuple[int, int] | None:
    """The first (earlier, later) indices whose run keys are equal but whose names differ.

    ``names`` are what the labels say was set: the same settings twice is the same label (a
    deliberate repeat, such as compare's CRN check), not a mislabel.
    """
    seen: dict[str, int] = {}
    for index, key in enumerate(keys):
        earlier = seen.setdefault(key, index)
        if names[earlier] != names[index]:
            return earlier, index
    return None


def quoted(label: str) -> str:
    """``label`` quoted for a message, cut at ``_SHOWN`` characters."""
    return repr(label if len(label) <= _SHOWN else label[: _SHOWN - 3] + "...")


SAME_SCENARIO = "must run different scenarios, or a label names a setting that did not run"
