"""The HTTP API: complaints, batches, lifecycle events, and the ops endpoints."""
