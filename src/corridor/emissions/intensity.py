"""Emissions of one leg from its emission factor, distance and cargo."""

from __future__ import annotations

from corridor.network.model import EmissionFactor, EmissionUnit

#: Cargo mass of a loaded TEU when the shipper gives none (source id ``est-teu-mass``).
DEFAULT_TONNES_PER_TEU = 10.0


def leg_co2e_kg(factor: EmissionFactor, distance_km: float, tonnes: float, teu: float) -> float:
    """Well-to-wheel CO2e in kg of carrying ``tonnes`` (or ``teu``) over ``distance_km``.

    The network distance is multiplied by the factor's distance adjustment, because default
    intensities are stated for the distance actually run (GLEC / ISO 14083).
    """
    if distance_km < 0 or tonnes < 0 or teu < 0:
        raise ValueError("distance, tonnes and TEU must not be negative")
    distance = distance_km * factor.distance_factor
    activity = tonnes if factor.per is EmissionUnit.TONNE_KM else teu
    return factor.g_co2e * activity * distance / 1000.0
