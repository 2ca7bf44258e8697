"""analytics tools (being built)."""
