"""Channel shares come from the customs risk configuration: hand-worked against its profiles."""

import pytest

from corridor.customs.risk import load_profiles
from corridor.network import load_network
from corridor.simulation.channels import channel_shares
from corridor.simulation.parameters import MixItem, load_parameters


def _profiles():
    return load_profiles(load_network().directory / "customs_risk_profiles.csv")


def test_shipped_mix_by_hand():
    # cheap electronics (4 USD/kg < 5) score 40: yellow, unless AEO (-25); tobacco 35: yellow
    # unless AEO; AEO shares 0.1 and 0.2: yellow = 0.05 * 0.9 + 0.02 * 0.8 = 0.061 in Kazakhstan,
    # plus spirits (AZ excise profile, 30) 0.01 * 0.8 at Azerbaijani offices.
    mix = load_parameters().mix
    kz = channel_shares("KZ", mix, _profiles())
    az = channel_shares("AZ", mix, _profiles())
    assert kz.yellow == pytest.approx(0.061)
    assert az.yellow == pytest.approx(0.069)
    assert kz.red == 0
    assert kz.green + kz.yellow + kz.red == pytest.approx(1.0)


def test_arms_go_red():
    mix = (MixItem("arms", "930120", "CN", 50, 0.0, 1.0),)
    assert channel_shares("GE", mix, _profiles()).red == pytest.approx(1.0)
