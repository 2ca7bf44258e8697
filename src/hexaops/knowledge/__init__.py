"""The knowledge engine: runbooks and docs (hybrid vector + full-text search) and incident
memory, scoped by organization."""
