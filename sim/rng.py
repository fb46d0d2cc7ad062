"""Named random streams: every random draw comes from ``stream(seed, *names)``.

A stream depends only on the scenario seed and its names, so adding a stream, or changing
the scheduler, never shifts the numbers another stream draws (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, *names: str) -> np.random.Generator:
    """A generator for the stream ``names`` under ``seed``; same inputs, same numbers."""
    key = tuple(zlib.crc32(name.encode()) for name in names)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))
