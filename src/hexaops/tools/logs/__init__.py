"""logs tools (being built)."""
