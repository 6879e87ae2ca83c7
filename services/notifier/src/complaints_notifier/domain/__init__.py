"""Pure notification logic: signatures, ids, routing, retry decisions, outcomes, payloads."""
