"""Emissions of one leg from its emission factor, distance and cargo: the project's only CO2e
formula (the planner precomputes it per unit of cargo through :func:`co2e_per_unit`)."""

from __future__ import annotations

from corridor.network.model import EmissionFactor, EmissionUnit

#: Cargo mass of a loaded TEU when the shipper gives none (source id ``est-teu-mass``).
DEFAULT_TONNES_PER_TEU = 10.0


def co2e_per_unit(factor: EmissionFactor, distance_km: float) -> tuple[float, float]:
    """(kg CO2e per tonne, kg CO2e per TEU) of carrying cargo over ``distance_km``.

    Exactly one of the two is non-zero, depending on whether the factor is stated per tonne-km or
    per TEU-km. The network distance is multiplied by the factor's distance adjustment, because
    default intensities are stated for the distance actually run (GLEC / ISO 14083).
    """
    if distance_km < 0:
        raise ValueError("distance must not be negative")
    kg = factor.g_co2e * distance_km * factor.distance_factor / 1000.0
    return (kg, 0.0) if factor.per is EmissionUnit.TONNE_KM else (0.0, kg)


def leg_co2e_kg(factor: EmissionFactor, distance_km: float, tonnes: float, teu: float) -> float:
    """Well-to-wheel CO2e in kg of carrying ``tonnes`` (or ``teu``) over ``distance_km``."""
    if distance_km < 0 or tonnes < 0 or teu < 0:
        raise ValueError("distance, tonnes and TEU must not be negative")
    per_tonne, per_teu = co2e_per_unit(factor, distance_km)
    return per_tonne * tonnes + per_teu * teu
