"""The seed files the fuzzer mutates: one small, real file per format Mien reads.

Videos are real encodes (``evals.codec_clips``) of the astronaut photo with the espeak-ng sentence as sound:
MPEG-4 Part 2 + AC-3 in AVI, H.264 + AAC in MP4, VP9 + Opus in WebM. The WAV is espeak-ng speech; the JPEG and PNG
are the astronaut photo (skimage). They are kept tiny (96x72, one second) so that thousands of mutants decode in
minutes on one core: what a mutant breaks is the container and codec structure, not the pixel count.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from evals.codec_clips import AVI_MPEG4_AC3, MP4_H264_AAC, WEBM_VP9_OPUS, ClipSpec, make_clip
from evals.samples import astronaut
from tools.media import save_image
from tools.speech.espeak import synthesize_speech

FORMATS: tuple[str, ...] = ("mp4", "avi", "webm", "wav", "jpg", "png")
_SMALL = {"size": (96, 72), "seconds": 1.0, "fps": 5}
_CLIPS: dict[str, ClipSpec] = {
    "mp4": dataclasses.replace(MP4_H264_AAC, **_SMALL),  # type: ignore[arg-type]
    "avi": dataclasses.replace(AVI_MPEG4_AC3, **_SMALL),  # type: ignore[arg-type]
    "webm": dataclasses.replace(WEBM_VP9_OPUS, **_SMALL),  # type: ignore[arg-type]
}


def make_seed(kind: str, folder: Path) -> Path:
    """Write the seed file of format ``kind`` (one of ``FORMATS``) into ``folder`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"seed.{kind}"
    if kind in _CLIPS:
        return make_clip(path, _CLIPS[kind])
    if kind == "wav":
        return synthesize_speech("Hello, I am happy to meet you.", path)
    if kind in ("jpg", "png"):
        image = astronaut()[::4, ::4]  # 128x128: small, still a real face
        return save_image(path, image)
    raise ValueError(f"unknown seed format {kind!r}; one of {', '.join(FORMATS)}")


def make_seeds(folder: Path, kinds: tuple[str, ...] = FORMATS) -> dict[str, bytes]:
    """The bytes of every seed format in ``kinds``."""
    return {kind: make_seed(kind, folder).read_bytes() for kind in kinds}
