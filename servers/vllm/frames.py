"""Client-side frame sampling for a vision-language model: images and video frames as OpenAI image parts.

Frames are sampled and resized here with qwen-vl-utils (the same ``smart_resize`` rule Qwen2.5-VL's processor
applies: sides multiples of 28, area within the pixel budget), then sent as base64 JPEG ``image_url`` parts. Sending
images rather than a video keeps the request portable across servers and lets each frame carry its timestamp in
text. Only local files and in-memory images are read: qwen-vl-utils would fetch http URLs, which Mien never does.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from servers.local.protocol import ImagePart, ImageUrl, TextPart
from servers.vllm.config import PixelBudget
from tools.errors import MediaError
from tools.media import probe_media

JPEG_QUALITY = 90


@dataclass(frozen=True)
class SampledFrame:
    """One frame sent to the model: ``image`` is RGB uint8 (H, W, 3), resized to the pixel budget."""

    time_s: float
    image: np.ndarray

    def data_url(self) -> str:
        return image_data_url(self.image)

    def to_dict(self) -> dict[str, Any]:
        height, width = self.image.shape[:2]
        return {"time_s": self.time_s, "width": width, "height": height}


def image_data_url(image: np.ndarray, quality: int = JPEG_QUALITY) -> str:
    """``data:image/jpeg;base64,...`` for an RGB uint8 image (H, W, 3)."""
    from PIL import Image

    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise MediaError(f"expected an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}")
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def fit_image(image: np.ndarray | Path | str, budget: PixelBudget | None = None) -> np.ndarray:
    """Resize an RGB uint8 array (H, W, 3) or a local image file with qwen-vl-utils' ``fetch_image``; returns RGB
    uint8 (H', W', 3) with H', W' multiples of 28 and H'·W' within ``budget``."""
    from PIL import Image
    from qwen_vl_utils import fetch_image

    budget = budget or PixelBudget()
    if isinstance(image, np.ndarray):
        source: Any = Image.fromarray(_as_rgb_uint8(image))
    else:
        source = str(probe_media(image).path)
    resized = fetch_image({"image": source, "min_pixels": budget.min_pixels, "max_pixels": budget.max_pixels})
    return np.asarray(resized.convert("RGB"), dtype=np.uint8)


def sample_video_frames(
    path: Path | str, *, fps: float = 1.0, max_frames: int = 8, budget: PixelBudget | None = None
) -> list[SampledFrame]:
    """Sample ``path`` at ``fps`` (at most ``max_frames``, evenly spread, at least 2) with qwen-vl-utils'
    ``fetch_video``, each frame resized to ``budget``; timestamps come from the sampled frame indices."""
    from qwen_vl_utils import fetch_video

    info = probe_media(path)
    if info.kind != "video":
        raise MediaError(f"{info.path}: is {info.kind}, not a video")
    if max_frames < 2:
        raise MediaError("max_frames must be at least 2 (qwen-vl-utils samples frames in pairs)")
    budget = budget or PixelBudget()
    element = {
        "video": str(info.path),
        "fps": fps,
        "max_frames": max_frames,
        "min_frames": 2,
        "min_pixels": budget.min_pixels,
        "max_pixels": budget.max_pixels,
    }
    try:
        video, metadata = fetch_video(element, return_video_metadata=True)
    except (RuntimeError, ValueError, OSError) as error:
        raise MediaError(f"{info.path}: cannot sample frames ({error})") from error
    # (T, C, H, W) float in [0, 255] -> T × (H, W, C) uint8
    frames = video.clamp(0, 255).round().to(dtype=_uint8()).permute(0, 2, 3, 1).numpy()
    source_fps = float(metadata.get("fps") or info.fps or 1.0)
    indices = list(metadata.get("frames_indices", range(len(frames))))
    return [
        SampledFrame(time_s=float(index) / source_fps, image=np.ascontiguousarray(frame))
        for index, frame in zip(indices, frames, strict=True)
    ]


def image_part(image: np.ndarray | Path | str, budget: PixelBudget | None = None) -> ImagePart:
    """One image, fitted to the budget, as an OpenAI ``image_url`` content part."""
    return ImagePart(image_url=ImageUrl(url=image_data_url(fit_image(image, budget))))


def frame_parts(frames: list[SampledFrame]) -> list[TextPart | ImagePart]:
    """Each frame as a text part giving its time, then its image part (``Frame at 1.50 s:``, image, ...)."""
    parts: list[TextPart | ImagePart] = []
    for frame in frames:
        parts.append(TextPart(text=f"Frame at {frame.time_s:.2f} s:"))
        parts.append(ImagePart(image_url=ImageUrl(url=frame.data_url())))
    return parts


def as_message_content(parts: list[TextPart | ImagePart]) -> list[dict[str, Any]]:
    """Content parts as plain dicts, the form ``openai`` and ``langchain`` messages take."""
    return [part.model_dump(exclude_none=True) for part in parts]


def _as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        raise MediaError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        return np.stack([image] * 3, axis=-1)
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return np.ascontiguousarray(image[:, :, :3])
    raise MediaError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")


def _uint8() -> Any:
    import torch

    return torch.uint8
