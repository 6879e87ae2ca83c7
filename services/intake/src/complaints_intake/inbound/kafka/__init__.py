"""Complaints that channels publish to Kafka (complaints.submitted.v1)."""
