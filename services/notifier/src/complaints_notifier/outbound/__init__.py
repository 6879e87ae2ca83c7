"""Channels that deliver notifications, the outcome publisher and the dedup log."""
