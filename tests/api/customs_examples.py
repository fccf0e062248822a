"""A consignment and its route shared by the customs API tests (laptops, Dostyk to Tbilisi by the
Caspian ferry from Aktau): one copy, so that the tests agree on what they lodge."""

from __future__ import annotations

import copy
from typing import Any

ROUTE: dict[str, Any] = {
    "origin": "dostyk",
    "destination": "tbilisi",
    "ready": "2026-03-03T08:00:00Z",
    "containers": 2,
    "via": ["aktau_port"],
    "best": "time",
}

_DECLARATION: dict[str, Any] = {
    "holder": {"name": "Silk Way Forwarding", "country": "KZ", "identifier": "KZ123", "aeo": False},
    "consignor": {"name": "Almaty Electronics", "country": "KZ"},
    "consignee": {"name": "Tbilisi Trade", "country": "GE"},
    "goods": [
        {
            "hs_code": "847130",
            "description": "Laptops",
            "packages": 400,
            "gross_kg": 9000,
            "net_kg": 8000,
            "value": 2_400_000,
            "currency": "USD",
            "origin_country": "CN",
        }
    ],
    "containers": [
        {"number": "CSQU3054383", "seals": ["KZ-0001"]},
        {"number": "MSKU9070323", "seals": ["KZ-0002"]},
    ],
    "transport_means": "KTZ train 4021",
    "guarantee": {"reference": "GRN-77", "amount": 500_000, "currency": "USD"},
}


def declaration(lrn: str) -> dict[str, Any]:
    """A fresh copy of the transit declaration of ROUTE's two containers, as ``lrn``."""
    return {"lrn": lrn, **copy.deepcopy(_DECLARATION)}
