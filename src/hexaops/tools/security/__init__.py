"""security tools (being built)."""
