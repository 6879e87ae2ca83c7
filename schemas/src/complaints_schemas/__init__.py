"""The wire contract shared by every service: event models, topics, CloudEvents codec."""
