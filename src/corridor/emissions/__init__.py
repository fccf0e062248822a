"""Greenhouse-gas emissions of freight legs per ISO 14083 and the GLEC Framework (well-to-wheel).

A transport chain is split into elements, one per leg in one vehicle; each element's emissions are
its intensity (from ``emission_factors.csv``) times its transport work, and the chain's total is
the sum of its elements. Hub (transshipment) emissions are not yet counted.
"""

from corridor.emissions.intensity import DEFAULT_TONNES_PER_TEU, co2e_per_unit, leg_co2e_kg

__all__ = ["DEFAULT_TONNES_PER_TEU", "co2e_per_unit", "leg_co2e_kg"]
