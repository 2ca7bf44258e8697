"""Typed tools over the platform core and its telemetry: what the agents call, and what a person
can run the same way with `hexaops tool run`. See `contract.py`."""
