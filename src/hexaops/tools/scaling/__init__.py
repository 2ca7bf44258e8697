"""Scaling tools: right-sizing, HPA and function concurrency tuning, what-if replays, and
requesting the change. Importing the package registers the tools."""

from hexaops.tools.scaling import tools as tools

__all__ = ["tools"]
