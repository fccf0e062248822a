"""Risk scoring by hand: points per profile, AEO bonus, past incidents, channel thresholds."""

from __future__ import annotations

from corridor.customs.declaration import DeclarationBody
from corridor.customs.examples import example_declaration
from corridor.customs.risk import AEO_BONUS, HISTORY_POINTS, Channel, Profile, assess

FURNITURE = DeclarationBody.model_validate(example_declaration(aeo=False))  # HS 940360, USD 11.1/kg


def test_no_profile_no_points():
    a = assess(FURNITURE, [], "KZ", 0)
    assert (a.channel, a.score, a.reasons) == (Channel.GREEN, 0, ("no risk profile matched",))


def test_points_add_up_per_country_and_pick_the_channel():
    profiles = [
        Profile("wood", "", "hs_prefix", "94", 35, "furniture"),
        Profile("kz-only", "KZ", "origin", "KZ;UZ", 30, "origin KZ"),
        Profile("cheap", "", "value_per_kg_below", "94:12", 10, "under 12 per kg"),
        Profile("dear", "", "value_per_kg_above", "94:12", 50, "over 12 per kg"),
    ]
    # In Georgia: 35 (HS 94) + 10 (40,000 / 3,600 kg = 11.1 per kg < 12) = 45: yellow.
    ge = assess(FURNITURE, profiles, "GE", 0)
    assert (ge.channel, ge.score) == (Channel.YELLOW, 45)
    # In Kazakhstan the origin profile adds 30: 75, red.
    kz = assess(FURNITURE, profiles, "KZ", 0)
    assert (kz.channel, kz.score) == (Channel.RED, 75)
    assert kz.reasons == ("furniture (+35)", "origin KZ (+30)", "under 12 per kg (+10)")


def test_history_and_aeo_status_move_the_score():
    profiles = [Profile("wood", "", "hs_prefix", "94", 35, "furniture")]
    one_incident = assess(FURNITURE, profiles, "GE", 1)
    assert one_incident.score == 35 + HISTORY_POINTS
    aeo = DeclarationBody.model_validate(example_declaration(aeo=True))
    assert assess(aeo, profiles, "GE", 0).score == 35 + AEO_BONUS == 10
    assert assess(aeo, profiles, "GE", 0).channel is Channel.GREEN
