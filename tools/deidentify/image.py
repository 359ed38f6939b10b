"""De-identifying still images: a file (``deidentify_image``) or an array in memory (``hide_faces``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.deidentify.hiding import FaceHider, grown_for_round
from tools.deidentify.output import IMAGE_OUTPUT_SUFFIXES, checked_output
from tools.deidentify.types import DeidentifyReport
from tools.deidentify.verify import MAX_FIX_ROUNDS
from tools.errors import MediaError
from tools.faces.types import Box
from tools.media import load_image, probe_media, save_image
from tools.settings import Settings, get_settings
from tools.storage import atomic_path


@dataclass(frozen=True)
class DeidentifiedImage:
    """``image`` RGB uint8 (H, W, 3) with faces hidden; ``boxes`` the detector boxes hidden (image pixels);
    ``residual_faces`` the face-like regions the checks after hiding found and hid too, ``residual_boxes`` those
    regions as hidden (``checked_faces`` of them found by the independent checkers)."""

    image: np.ndarray
    boxes: list[Box]
    residual_faces: int
    residual_boxes: tuple[Box, ...] = ()
    checked_faces: int = 0


def hide_faces(
    image_rgb: np.ndarray,
    *,
    mode: str = "blur",
    verify: bool = True,
    hider: FaceHider | None = None,
    settings: Settings | None = None,
) -> DeidentifiedImage:
    """Find and hide every face in ``image_rgb`` (RGB uint8, (H, W, 3)); the input is not modified.

    Used for whatever image leaves the machine in the agent's ``deidentified`` privacy mode.
    """
    hider = hider or FaceHider.from_settings(mode, verify=verify, settings=settings or get_settings())
    image = np.asarray(image_rgb)
    if image.ndim != 3 or image.shape[2] < 3 or image.dtype != np.uint8:
        raise MediaError(f"expected an RGB uint8 image of shape (H, W, 3), got {image.dtype} {image.shape}")
    boxes = hider.find(image)
    hidden = hider.hide(image, boxes)
    return DeidentifiedImage(
        hidden.image, boxes, hidden.residual_faces, tuple(hidden.residual_boxes), hidden.checked_faces
    )


def deidentify_image(
    in_path: str | Path,
    out_path: str | Path,
    *,
    mode: str = "blur",
    verify: bool = True,
    hider: FaceHider | None = None,
    settings: Settings | None = None,
) -> DeidentifyReport:
    """Write ``in_path`` to ``out_path`` (format from its suffix) with every face hidden. Atomic.

    Raises ``MediaError`` for an unreadable image, ``ConfigError`` for a bad output path or mode.
    """
    started = time.perf_counter()
    settings = settings or get_settings()
    info = probe_media(in_path, settings)
    if info.kind != "image":
        raise MediaError(f"{info.path}: is a {info.kind} file, not an image; use deidentify_video for videos")
    target = checked_output(info.path, out_path, IMAGE_OUTPUT_SUFFIXES, "image")
    hider = hider or FaceHider.from_settings(mode, verify=verify, settings=settings)
    result = hide_faces(load_image(info.path, settings), hider=hider)
    image, residual_faces, flagged, rounds = result.image, result.residual_faces, 0, 0
    with atomic_path(target) as written:
        save_image(written, image)
        # JPEG/WebP change the pixels a little; check what was saved, as for video (tools.deidentify.verify).
        for rounds in range(MAX_FIX_ROUNDS + 1):
            left = hider.find_residual(load_image(written, settings))
            flagged = 1 if left else 0
            if not left or rounds == MAX_FIX_ROUNDS:
                break
            residual_faces += len(left)
            image = hider.hide_residual(image, grown_for_round(left, rounds))
            save_image(written, image)
    hidden = len(result.boxes) + residual_faces
    return DeidentifyReport(
        input_path=str(info.path),
        output_path=str(target),
        kind="image",
        mode=hider.style.mode,
        frames_written=1,
        frames_with_faces=1 if hidden else 0,
        faces_hidden=hidden,
        faces_detected=len(result.boxes),
        boxes_interpolated=0,
        boxes_held=0,
        residual_faces=residual_faces,
        frames_flagged=flagged,
        verify_rounds=rounds,
        tracks=len(result.boxes),
        audio="none",
        fps=0.0,
        duration_s=0.0,
        elapsed_s=time.perf_counter() - started,
    )
