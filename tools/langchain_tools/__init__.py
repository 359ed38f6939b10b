"""LangChain tool adapters: one module per capability, each wrapping that capability's plain Python API.

Adapters never reach into a tool's internals; they call its public functions and turn results into a compact
``Finding``. ``build_tools`` gives the agent every capability's tool.
"""

from __future__ import annotations

import importlib

from langchain_core.tools import BaseTool

from tools.settings import Settings, get_settings

# Capability modules, each with ``build(settings) -> BaseTool``, in the order tools are offered to a model.
CAPABILITIES: tuple[str, ...] = (
    "faces",
    "recognition",
    "emotions",
    "speech",
    "deidentify",
    "cloak",
    "encrypted_identity",
    "body",
    "spotting",
    "attack",
    "personalize",
    "augment_pose",
)


def build_tools(settings: Settings | None = None, names: tuple[str, ...] = CAPABILITIES) -> list[BaseTool]:
    """The LangChain tools of the capabilities ``names`` (default: all of them)."""
    settings = settings or get_settings()
    return [importlib.import_module(f"{__name__}.{name}").build(settings) for name in names]
