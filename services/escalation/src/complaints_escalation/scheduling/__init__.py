"""Exact-time timers: a due-time index per partition and the task that sleeps until it."""
