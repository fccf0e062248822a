"""Dwell-time distributions fitted to the three published figures each crossing has.

``crossings.csv`` gives a typical dwell (an average, as the ADB CAREC CPMM reports it) and a range
(min, max). A shifted lognormal reproduces all three: it starts at the minimum, its mean is the
typical figure, and the maximum is its 99th percentile. Lognormal because dwell at borders is
right-skewed (most trains pass in about a day, a few wait for days: CPMM 2020 reports 120 h at Farap),
and the shift because nothing clears faster than the fastest published case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z99 = 2.3263478740408408  # standard normal 99th percentile
MAX_SIGMA = 1.5  # caps the fit when the published maximum is extreme relative to the mean


@dataclass(frozen=True)
class Dwell:
    """A shifted lognormal: ``shift + exp(N(mu, sigma))`` hours; a constant when ``sigma == 0``."""

    shift_h: float
    mu: float
    sigma: float
    mean_h: float

    def sample(self, rng: np.random.Generator, factor: float = 1.0) -> float:
        """One dwell in hours; ``factor`` scales it (a scenario's dwell reduction)."""
        if self.sigma == 0.0:
            return self.mean_h * factor
        return (self.shift_h + math.exp(self.mu + self.sigma * rng.standard_normal())) * factor

    def quantile(self, p: float) -> float:
        if self.sigma == 0.0:
            return self.mean_h
        z = float(_norm_ppf(p))
        return self.shift_h + math.exp(self.mu + self.sigma * z)


def fit(mean_h: float, min_h: float, max_h: float) -> Dwell:
    """Fit ``Dwell`` so that its minimum, mean and 99th percentile are the published figures.

    With ``a = mean - min`` and ``b = max - min`` the lognormal needs ``exp(mu + s^2/2) = a`` and
    ``exp(mu + z99 s) = b``; subtracting the logs gives ``s^2/2 - z99 s + ln(b/a) = 0``, whose smaller
    root is the spread. Degenerate figures (no range) give a constant.
    """
    if not min_h <= mean_h <= max_h:
        raise ValueError("dwell figures must satisfy min <= mean <= max")
    a, b = mean_h - min_h, max_h - min_h
    if a <= 0 or b <= a:
        return Dwell(mean_h, 0.0, 0.0, mean_h)
    c = math.log(b / a)
    disc = Z99 * Z99 - 2 * c
    sigma = MAX_SIGMA if disc <= 0 else min(Z99 - math.sqrt(disc), MAX_SIGMA)
    mu = math.log(a) - sigma * sigma / 2
    return Dwell(min_h, mu, sigma, mean_h)


def _norm_ppf(p: float) -> float:
    """Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = (-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690,
         -30.66479806614716, 2.506628277459239)  # fmt: skip
    b = (-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
         -13.28068155288572)  # fmt: skip
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838, -2.549732539343734,
         4.374664141464968, 2.938163982698783)  # fmt: skip
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996, 3.754408661907416)
    lo = 0.02425
    if p < lo:
        q = math.sqrt(-2 * math.log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    if p > 1 - lo:
        return -_norm_ppf(1 - p)
    q = p - 0.5
    r = q * q
    return (
        (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
        * q
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    )
