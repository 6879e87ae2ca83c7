"""Run-time pieces shared by the services; nothing here connects at import."""
