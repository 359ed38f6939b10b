"""Serving a vision-language model (Qwen2.5-VL or any VLM) with vLLM on a GPU machine.

``config`` holds the typed serve settings, ``command`` turns them into vLLM's command line, ``launcher`` runs it,
and ``frames`` samples images and video frames client-side with qwen-vl-utils into OpenAI image content parts.
"""

from servers.vllm.command import build_command
from servers.vllm.config import VllmServeConfig

__all__ = ["VllmServeConfig", "build_command"]
