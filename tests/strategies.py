"""Hypothesis strategies: small random job traces for a flat pool (one GPU per node)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st


@dataclass(frozen=True)
class FlatTrace:
    """Jobs in row order (not sorted by submit time) and the pool's GPU count."""

    capacity: int
    submit: list[float]
    gpus: list[int]
    duration: list[float]
    requested: list[float]


@st.composite
def flat_traces(draw: st.DrawFn, max_capacity: int = 12, max_jobs: int = 25) -> FlatTrace:
    """A pool of 1..max_capacity GPUs and up to ``max_jobs`` jobs.

    Integer times from small ranges, so submissions, completions and estimated ends often
    coincide; GPU counts up to capacity + 2, so some jobs are rejected; requested times
    drawn apart from durations, so estimates are both too short and too long (or, for
    some jobs, exact).
    """
    capacity = draw(st.integers(1, max_capacity))
    job = st.tuples(
        st.integers(0, 40),  # submit
        st.integers(1, capacity + 2),  # gpus
        st.integers(1, 30),  # duration
        st.none() | st.integers(1, 60),  # requested; None: a perfect estimate
    )
    jobs = draw(st.lists(job, min_size=1, max_size=max_jobs))
    return FlatTrace(
        capacity=capacity,
        submit=[float(j[0]) for j in jobs],
        gpus=[j[1] for j in jobs],
        duration=[float(j[2]) for j in jobs],
        requested=[float(j[2] if j[3] is None else j[3]) for j in jobs],
    )
