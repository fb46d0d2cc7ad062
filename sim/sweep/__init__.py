"""Parameter sweeps: a grid (or list) of scenario settings x replications, local or on Dask.

``read_sweep`` reads and checks a sweep file (``sim.sweep.spec``), ``make_plan`` expands it
into runs and validates every cell's scenario (``sim.sweep.plan``), ``run_sweep`` runs what
is not finished yet and writes sweep.csv / sweep.json (``sim.sweep.runner``). Each run is
one atomically published directory (``sim.sweep.cell``), which is what makes a sweep
resumable and safe against a worker that dies or a run attempted twice.
"""

from sim.sweep.plan import Plan, Run, make_plan
from sim.sweep.runner import SweepResult, run_sweep
from sim.sweep.spec import SweepFile, read_sweep

__all__ = ["Plan", "Run", "SweepFile", "SweepResult", "make_plan", "read_sweep", "run_sweep"]
