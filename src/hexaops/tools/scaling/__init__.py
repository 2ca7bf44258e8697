"""scaling tools (being built)."""
