"""Mien's tools over the Model Context Protocol: ``mien serve mcp`` (stdio or streamable HTTP)."""
