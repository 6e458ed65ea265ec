"""The unified registry: versioned entries of every kind, aliases, approvals, lineage."""
