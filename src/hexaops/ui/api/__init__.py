"""The hexaops HTTP API (FastAPI): REST, SSE chat, WebSocket notifications, metrics."""

from hexaops.ui.api.app import create_app

__all__ = ["create_app"]
