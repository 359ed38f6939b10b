"""vLLM's command line for a ``VllmServeConfig``.

Built as an argument list (never a shell string) for ``python -m vllm.entrypoints.openai.api_server``, the entry
point that works across vLLM releases. Multimodal limits and processor settings are passed as JSON, the form
current vLLM releases require.
"""

from __future__ import annotations

import json
import shlex
import sys

from servers.vllm.config import VllmServeConfig

VLLM_ENTRYPOINT = "vllm.entrypoints.openai.api_server"


def limit_mm_per_prompt(config: VllmServeConfig) -> str:
    """``--limit-mm-per-prompt``: how many images and videos one request may carry."""
    return json.dumps({"image": config.max_images_per_prompt, "video": config.max_videos_per_prompt})


def mm_processor_kwargs(config: VllmServeConfig) -> str:
    """``--mm-processor-kwargs``: the HF processor's pixel budget per image / frame, and the video sampling rate."""
    return json.dumps(
        {"min_pixels": config.pixels.min_pixels, "max_pixels": config.pixels.max_pixels, "fps": config.video_fps}
    )


def build_command(config: VllmServeConfig, python: str | None = None) -> list[str]:
    """The argument list that serves ``config.model_path`` with tool calling and multimodal limits; ``python`` is
    the interpreter that has vLLM installed (default: ``config.python``, else this one). The CPU build gets no GPU
    flags, a text-only model no multimodal ones."""
    interpreter = python or (str(config.python) if config.python is not None else sys.executable)
    command = [
        interpreter, "-m", VLLM_ENTRYPOINT,
        "--model", str(config.model_path),
        "--served-model-name", config.resolved_served_name,
        "--host", config.host,
        "--port", str(config.port),
        "--dtype", config.dtype,
        "--max-model-len", str(config.max_model_len),
    ]  # fmt: skip
    if config.device == "gpu":
        command += [
            "--gpu-memory-utilization", f"{config.gpu_memory_utilization:g}",
            "--tensor-parallel-size", str(config.tensor_parallel_size),
        ]  # fmt: skip
    if config.multimodal:
        command += ["--limit-mm-per-prompt", limit_mm_per_prompt(config)]
        command += ["--mm-processor-kwargs", mm_processor_kwargs(config)]
    if config.enable_auto_tool_choice:
        # vLLM refuses requests that carry tools unless both flags are given.
        command += ["--enable-auto-tool-choice", "--tool-call-parser", config.tool_call_parser]
    if config.max_num_seqs is not None:
        command += ["--max-num-seqs", str(config.max_num_seqs)]
    if config.trust_remote_code:
        command.append("--trust-remote-code")
    if config.enforce_eager:
        command.append("--enforce-eager")
    if config.api_key:
        command += ["--api-key", config.api_key]
    command += list(config.extra_args)
    return command


def format_command(command: list[str]) -> str:
    """The command as one shell-quoted line (for ``--dry-run`` and logs); an API key is masked."""
    shown = list(command)
    for index, argument in enumerate(shown[:-1]):
        if argument == "--api-key":
            shown[index + 1] = "***"
    return shlex.join(shown)
