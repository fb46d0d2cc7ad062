"""Report: results files, PNG plots and text tables of a run.

Only this package and ``sim.cli`` write files. ``write_results`` writes a whole results
directory atomically; the plot functions write single PNGs; ``summary_table`` returns text.
"""

from typing import Any

from sim.report.table import summary_table
from sim.report.writer import check_target, format_value, jobs_csv, json_text, timeseries_csv, write_results

__all__ = [
    "check_target",
    "format_value",
    "jobs_csv",
    "json_text",
    "plot_all",
    "queue_delay_cdf",
    "summary_table",
    "timeseries_csv",
    "utilisation_heatmap",
    "wait_by_class",
    "write_results",
]


_PLOTS = ("plot_all", "queue_delay_cdf", "utilisation_heatmap", "wait_by_class")


def __getattr__(name: str) -> Any:
    """The plot functions, imported on first use: matplotlib costs ~0.5 s and ~40 MB."""
    if name in _PLOTS:
        from sim.report import plots

        return getattr(plots, name)
    raise AttributeError(f"module 'sim.report' has no attribute {name!r}")
