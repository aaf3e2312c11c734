"""Scenario simulation (`ips simulate`)."""

from simulate.run import SimulationSummary, run_scenario
from simulate.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["Scenario", "ScenarioError", "SimulationSummary", "load_scenario", "run_scenario"]
