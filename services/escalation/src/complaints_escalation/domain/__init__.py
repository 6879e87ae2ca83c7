"""Pure escalation logic: state, policy and transitions (no I/O, time passed in)."""
