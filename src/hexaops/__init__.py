"""hexaops: AI-ops assistant for a multi-tenant Kubernetes platform."""
