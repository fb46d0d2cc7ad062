"""Azure LLM inference traces (AzurePublicDataset): ``TIMESTAMP,ContextTokens,GeneratedTokens``.

One row a request: its arrival as a date and time (read as UTC; 7-digit fractions are
truncated to microseconds), its prompt (context) tokens and its generated tokens. These are
not batch jobs: the reader returns no jobs but a request-rate series in
``notes["series"]``, the input of the inference-service model (a later issue).

The series counts requests and sums tokens in bins of ``bin`` seconds (default 60) from
the first request: bin ``k`` covers ``[k * bin, (k + 1) * bin)``, every bin up to the last
request is present (empty ones as zeros), at most ``MAX_BINS`` of them: a request further
from the first is an error. Nothing is dropped: a malformed row is an error.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import show
from sim.workload.jobs import JobTable
from sim.workload.readers.common import TraceResult, csv_rows, fail, integer, iso, timestamp

COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
SERIES_COLUMNS = ("time", "requests", "context_tokens", "generated_tokens")
DEFAULT_BIN = 60.0
MAX_BINS = 1_000_000
"""Most bins a series may have (a week in 1 s bins is 604,800): a request further on is an error."""


@dataclass(frozen=True, slots=True)
class RateSeries:
    """Requests and tokens per bin; ``time`` is each bin's start in seconds from ``start``."""

    bin: float
    start: str
    time: tuple[float, ...]
    requests: tuple[int, ...]
    context_tokens: tuple[int, ...]
    generated_tokens: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.time)


def read_azure_llm(path: str | Path, bin: float = DEFAULT_BIN) -> TraceResult:
    """No jobs; the request-rate series (``notes["series"]``) and its totals."""
    source = str(path)
    arrivals: list[tuple[float, int, int]] = []
    lines: list[tuple[int, str]] = []
    for line, row in csv_rows(path, COLUMNS, source):
        arrival = timestamp(row["TIMESTAMP"], "TIMESTAMP", source, line)
        context = integer(row["ContextTokens"], "ContextTokens", source, line, "an integer >= 0", _natural)
        generated = integer(
            row["GeneratedTokens"], "GeneratedTokens", source, line, "an integer >= 0", _natural
        )
        arrivals.append((arrival, context, generated))
        lines.append((line, row["TIMESTAMP"]))
    first = min((a for a, _, _ in arrivals), default=0.0)
    for (arrival, _, _), (line, text) in zip(arrivals, lines, strict=True):
        if (arrival - first) // bin >= MAX_BINS:  # a float: 1e-300 s bins make it inf, not an int
            raise fail(
                f"TIMESTAMP must fall within {MAX_BINS:,} bins of {bin:g} s after the first request "
                f"({iso(first)}) (got {show(text)})",
                source,
                line,
                "TIMESTAMP",
            )
    bins = int((max((a for a, _, _ in arrivals), default=0.0) - first) // bin) + 1 if arrivals else 0
    requests, contexts, generated_ = [0] * bins, [0] * bins, [0] * bins
    for arrival, context, generated in arrivals:
        k = int((arrival - first) // bin)
        requests[k] += 1
        contexts[k] += context
        generated_[k] += generated
    series = RateSeries(
        bin=float(bin),
        start=iso(first) if arrivals else "",
        time=tuple(k * float(bin) for k in range(bins)),
        requests=tuple(requests),
        context_tokens=tuple(contexts),
        generated_tokens=tuple(generated_),
    )
    notes: dict[str, Any] = {
        "series": series,
        "requests": len(arrivals),
        "context_tokens": sum(contexts),
        "generated_tokens": sum(generated_),
        "bin": float(bin),
        "start": series.start or None,
        "time_offset": first,
        "span": (max(a for a, _, _ in arrivals) - first) if arrivals else 0.0,
    }
    return TraceResult(JobTable(), {}, notes)


def _natural(value: int) -> bool:
    return value >= 0


def write_rate_series(series: RateSeries, path: str | Path) -> None:
    """Write ``series`` as CSV ``time,requests,context_tokens,generated_tokens`` (whole times as ints)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SERIES_COLUMNS)
        for i in range(len(series)):
            time = series.time[i]
            writer.writerow(
                (
                    int(time) if time.is_integer() else repr(time),
                    series.requests[i],
                    series.context_tokens[i],
                    series.generated_tokens[i],
                )
            )
