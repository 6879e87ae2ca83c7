"""The complaints.escalated.v1 consumer: poll, deliver concurrently, commit in order."""
