"""Synthetic hourly profiles: demand, wind, solar and hydro for a year of 8,760 hours.

Measured hourly series for these countries cannot be had offline, so each profile is a documented
shape (daily and seasonal cycles, local solar time from longitude) plus seeded noise, scaled to the
published annual total or capacity factor of ``countries.csv``. They are estimates (source
``est-en-profiles``): right in their annual sums and broad shapes, not in any particular hour.
The same country and year always give the same profile (the seed is derived from the names).
"""

from __future__ import annotations

import zlib

import numpy as np
import numpy.typing as npt

HOURS = 8760
Array = npt.NDArray[np.float64]


def _rng(*names: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(names).encode()))


def _clock(lon_deg: float) -> tuple[Array, Array]:
    """Day of year (0-364) and local solar hour (0-24) of each hour of the year (UTC index)."""
    t = np.arange(HOURS, dtype=np.float64)
    local = t + lon_deg / 15.0
    return np.floor(local / 24.0) % 365, local % 24.0


def scale_to_mean(shape: Array, mean: float, cap: float = 1.0) -> Array:
    """``shape`` scaled so that, once clipped to [0, cap], its mean is ``mean``."""
    if mean <= 0 or shape.max() <= 0:
        return np.zeros_like(shape)
    k = mean / float(shape.mean())
    out: Array = np.clip(shape * k, 0.0, cap)
    for _ in range(50):
        got = out.mean()
        if abs(got - mean) < 1e-6 * mean:
            break
        k *= mean / got
        out = np.clip(shape * k, 0.0, cap)
    return out


def electricity_demand(country: str, lon_deg: float, annual_twh: float) -> Array:
    """Hourly load (MW): evening and midday peaks, winter and summer highs, summing to the year."""
    day, hour = _clock(lon_deg)
    daily = 1.0 + 0.12 * np.sin(np.pi * (hour - 7.0) / 12.0) * (hour >= 7) * (hour <= 19)
    daily += 0.10 * np.exp(-(((hour - 19.5) / 2.0) ** 2)) - 0.12 * np.exp(
        -(((hour - 4.0) / 3.0) ** 2)
    )
    seasonal = (
        1.0
        + 0.10 * np.cos(2 * np.pi * (day - 15) / 365)
        + 0.05 * np.cos(4 * np.pi * (day - 15) / 365)
    )
    noise = 1.0 + 0.02 * _rng(country, "el").standard_normal(HOURS)
    shape: Array = daily * seasonal * noise
    out: Array = shape / shape.mean() * annual_twh * 1e6 / HOURS
    return out


def gas_demand(country: str, annual_mwh: float, amplitude: float) -> Array:
    """Hourly non-power gas demand (MW): a heating season peaking in mid-January."""
    day = np.arange(HOURS) // 24
    seasonal = np.maximum(1.0 + amplitude * np.cos(2 * np.pi * (day - 15) / 365), 0.1)
    noise = 1.0 + 0.03 * _rng(country, "gas").standard_normal(HOURS)
    shape: Array = seasonal * noise
    out: Array = shape / shape.mean() * annual_mwh / HOURS
    return out


def solar(country: str, lat_deg: float, lon_deg: float, capacity_factor: float) -> Array:
    """Per-unit solar availability: sun above the horizon, longer summer days, cloudy days."""
    day, hour = _clock(lon_deg)
    decl = np.radians(23.44) * np.sin(2 * np.pi * (day - 81) / 365)
    lat = np.radians(lat_deg)
    hour_angle = np.radians(15.0 * (hour - 12.0))
    elevation = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    clouds = np.repeat(0.55 + 0.45 * _rng(country, "solar").beta(4.0, 1.5, 366), 24)
    shape = np.maximum(elevation, 0.0) * clouds[np.asarray(day, dtype=int) % 366]
    return scale_to_mean(shape, capacity_factor)


def wind(country: str, capacity_factor: float, offshore: bool = False) -> Array:
    """Per-unit wind availability: persistent weather (AR(1), about two-day memory), windier winters."""
    rng = _rng(country, "wind-offshore" if offshore else "wind")
    eps = rng.standard_normal(HOURS)
    x = np.empty(HOURS)
    x[0] = eps[0]
    phi = 0.98
    for i in range(1, HOURS):
        x[i] = phi * x[i - 1] + np.sqrt(1 - phi * phi) * eps[i]
    day = np.arange(HOURS) // 24
    seasonal = 1.0 + 0.2 * np.cos(2 * np.pi * (day - 15) / 365)
    speed = np.maximum(1.0 + 0.45 * x, 0.05) * seasonal
    return scale_to_mean(speed**3, capacity_factor)


def hydro(country: str, capacity_factor: float) -> Array:
    """Per-unit hydro availability: snow-melt high in May, low in late summer and winter."""
    day = np.arange(HOURS) // 24
    shape = 1.0 + 0.45 * np.cos(2 * np.pi * (day - 130) / 365)
    noise = 1.0 + 0.03 * _rng(country, "hydro").standard_normal(HOURS)
    return scale_to_mean(shape * noise, capacity_factor)


def production_swing(swing: float) -> Array:
    """Per-unit output of a gas producer with a winter-high swing; mean 1 over the year.

    Multiplied by the annual-average rate it keeps the annual production while following winter
    demand, as storage withdrawal and field swing do.
    """
    day = np.arange(HOURS) // 24
    shape: Array = 1.0 + swing * np.cos(2 * np.pi * (day - 15) / 365)
    out: Array = shape / shape.mean()
    return out
