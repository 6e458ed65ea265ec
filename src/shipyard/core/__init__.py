"""Settings, errors, ids and time, auth (keys and roles) and the audit log."""
