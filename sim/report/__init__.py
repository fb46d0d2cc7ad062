"""Report: results files, PNG plots and text tables of a run.

Only this package and ``sim.cli`` write files. ``write_results`` writes a whole results
directory atomically; the plot functions write single PNGs; ``summary_table`` returns text.
"""

from sim.report.plots import plot_all, queue_delay_cdf, utilisation_heatmap, wait_by_class
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
