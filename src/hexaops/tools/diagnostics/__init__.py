"""diagnostics tools (being built)."""
