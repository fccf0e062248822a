"""Digital customs transit: one declaration for the whole corridor, risk-based checkpoints, and a
signed, tamper-evident shared record (see docs/customs.md)."""

from corridor.customs.declaration import (
    Container,
    DeclarationBody,
    GoodsItem,
    Guarantee,
    Holder,
    Party,
)
from corridor.customs.lifecycle import Action, State, TransitionError
from corridor.customs.risk import Channel, assess, load_profiles

__all__ = [
    "Action",
    "Channel",
    "Container",
    "DeclarationBody",
    "GoodsItem",
    "Guarantee",
    "Holder",
    "Party",
    "State",
    "TransitionError",
    "assess",
    "load_profiles",
]
