"""Mien's agent as an OpenAI-compatible chat endpoint: ``mien serve agent``."""
