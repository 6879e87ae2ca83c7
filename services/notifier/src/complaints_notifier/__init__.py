"""Notifier: delivers each escalation once to its receivers' channels and records the outcome."""
