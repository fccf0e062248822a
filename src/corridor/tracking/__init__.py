"""Tracking: GS1 EPCIS 2.0 events captured from railways, ports, ferry lines and customs, turned
into one shipment status, a predicted arrival, and alerts (see docs/tracking.md)."""
