"""Scenarios: the schema of a what-if, and loading it from YAML with located errors."""

from sim.scenario.loader import given_data, load_scenario, parse_override, scenario_from_data
from sim.scenario.schema import Scenario

__all__ = ["Scenario", "given_data", "load_scenario", "parse_override", "scenario_from_data"]
