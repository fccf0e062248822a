"""A complete, valid example declaration: for the API docs, the demo, tests and benchmarks.

Furniture from Kazakhstan to Georgia in one container, declared by an AEO holder: every profile
of the shipped risk configuration leaves it green.
"""

from __future__ import annotations

from typing import Any


def example_declaration(lrn: str = "LRN-0001", aeo: bool = True) -> dict[str, Any]:
    return {
        "lrn": lrn,
        "holder": {
            "name": "Silk Way Forwarding",
            "country": "KZ",
            "identifier": "KZ123456789",
            "aeo": aeo,
        },
        "consignor": {"name": "Almaty Furniture Works", "country": "KZ"},
        "consignee": {"name": "Tbilisi Interiors", "country": "GE"},
        "goods": [
            {
                "hs_code": "940360",
                "description": "Wooden furniture",
                "packages": 20,
                "gross_kg": 4000,
                "net_kg": 3600,
                "value": 40000,
                "currency": "USD",
                "origin_country": "KZ",
            },
        ],
        "containers": [{"number": "CSQU3054383", "seals": ["KZ-0001"]}],
        "transport_means": "KTZ train 4021",
        "guarantee": {"reference": "GRN-0001", "amount": 10000, "currency": "USD"},
    }
