"""metrics tools (being built)."""
