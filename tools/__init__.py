"""Mien's perception and privacy capabilities: plain Python APIs with typed results.

Nothing in here imports the agent; LangChain adapters live in each capability's ``langchain`` module.
"""
