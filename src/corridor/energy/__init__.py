"""The energy corridor: gas and power flows from Central Asia over the Caspian to Europe.

Data loading, scenarios and assets are plain Python; the model (``corridor.energy.model``) and
everything that solves it import PyPSA lazily, so importing this package stays fast.
"""

from corridor.energy.data import EnergyData, load_energy_data
from corridor.energy.errors import EnergyDataError, EnergyError
from corridor.energy.scenario import Scenario, load_scenario, shipped_scenarios

__all__ = [
    "EnergyData",
    "EnergyDataError",
    "EnergyError",
    "Scenario",
    "load_energy_data",
    "load_scenario",
    "shipped_scenarios",
]
