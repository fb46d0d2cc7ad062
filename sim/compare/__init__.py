"""Comparisons with statistics: variants x replications on common random numbers.

``runner.compare`` runs the cells (``labels`` refuses variants whose labels would name a
setting that did not run), ``metrics.comparison_metrics`` summarises one run after
a warm-up, ``stats`` gives t-intervals and paired differences, ``output`` writes
comparison.csv / comparison.json / runs.csv and the stdout table. Plots and report.html
are drawn by ``sim.report.compare_plots`` and ``sim.report.html`` from the written files.
"""

from sim.compare.runner import Comparison, Variant, compare, make_variants

__all__ = ["Comparison", "Variant", "compare", "make_variants"]
