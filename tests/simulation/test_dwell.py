import numpy as np
import pytest

from corridor.network import load_network
from corridor.simulation.dwell import fit


def test_fit_reproduces_the_three_published_figures():
    # Alashankou - Dostyk: 30.5 h typical, 4.25-78 h (crossings.csv, ADB CPMM 2022)
    d = fit(30.5, 4.25, 78.0)
    assert d.quantile(0.99) == pytest.approx(78.0, rel=1e-6)
    rng = np.random.Generator(np.random.PCG64(3))
    samples = np.array([d.sample(rng) for _ in range(50_000)])
    assert samples.min() >= 4.25
    assert samples.mean() == pytest.approx(30.5, rel=0.02)
    assert np.quantile(samples, 0.99) == pytest.approx(78.0, rel=0.05)


def test_factor_scales_the_dwell():
    d = fit(24, 12, 72)
    a = d.sample(np.random.Generator(np.random.PCG64(1)))
    b = d.sample(np.random.Generator(np.random.PCG64(1)), factor=0.5)
    assert b == pytest.approx(a / 2)


def test_degenerate_figures_give_a_constant():
    d = fit(0, 0, 0)
    assert d.sample(np.random.Generator(np.random.PCG64(1))) == 0
    with pytest.raises(ValueError, match="min <= mean <= max"):
        fit(10, 12, 20)


def test_every_shipped_crossing_can_be_fitted():
    for c in load_network().crossings.values():
        d = fit(c.dwell_h, c.dwell_min_h, c.dwell_max_h)
        assert d.shift_h == pytest.approx(c.dwell_min_h) or d.sigma == 0
