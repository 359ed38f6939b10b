"""Mien's agent: the LangGraph graph, its state, the chat model client and the CLI."""
