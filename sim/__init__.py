"""gpusim: a discrete-event simulator of job scheduling on GPU clusters ("AI factories").

Public API: ``run`` (simulate a scenario, summarise, optionally write results),
``Result``, ``load_scenario``, ``Scenario``, and the error tree under ``SimError``.
"""

from sim.api import Result, __version__, run
from sim.errors import PolicyError, ScenarioError, SimError, TraceError, UserError
from sim.scenario import Scenario, load_scenario

__all__ = [
    "PolicyError",
    "Result",
    "Scenario",
    "ScenarioError",
    "SimError",
    "TraceError",
    "UserError",
    "__version__",
    "load_scenario",
    "run",
]
