"""Mien's embedded OpenAI-compatible chat server (FastAPI), serving a local transformers model.

Split as vLLM's OpenAI entrypoints are: ``protocol`` (schemas), ``serving`` (the model service), ``api_router``
(routes); ``app`` builds the FastAPI app and ``process`` runs it as a child process (``LocalServer``), which the
agent starts on demand when no endpoint is configured (``agent.model.open_endpoint``).
"""

from servers.local.app import create_app
from servers.local.process import LocalServer

__all__ = ["LocalServer", "create_app"]
