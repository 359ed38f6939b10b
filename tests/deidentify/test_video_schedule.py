"""Video de-identification with the ensemble: cheap members on every frame, the others every few frames, and a face
only the expensive members see still hidden on every frame in between (tracked and interpolated, held at the end)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.deidentify import FaceMaskStyle, deidentify_video
from tools.deidentify.hiding import FaceHider
from tools.faces.detect_ensemble import EnsembleDetector
from tools.faces.types import Box, Face
from tools.media import iter_frames
from tools.settings import Settings


class Counting:
    """A member that reports one fixed box and counts its calls."""

    def __init__(self, name: str, box: Box | None) -> None:
        self.name = name
        self.box = box
        self.calls = 0

    def detect(self, image_rgb: np.ndarray) -> list[Face]:
        self.calls += 1
        return [] if self.box is None else [Face(box=self.box, score=0.9, detector=self.name)]


def test_a_face_only_the_full_scan_sees_is_hidden_on_every_frame(pan_clip: Path, tmp_path: Path) -> None:
    cheap = Counting("mediapipe", None)
    only_costly = Box(20, 20, 100, 100)  # the top-left corner: sky in the pan clip, away from the astronaut
    costly = Counting("mtcnn", only_costly)
    hider = FaceHider(FaceMaskStyle(mode="mask"), EnsembleDetector([cheap, costly]), residual=None)
    settings = Settings(deidentify_full_scan_frames=5)
    report = deidentify_video(pan_clip, tmp_path / "out.mp4", hider=hider, progress=False, settings=settings)
    assert report.frames_written == 40
    assert (cheap.calls, costly.calls) == (40, 8)  # frames 0, 5, ..., 35
    # An unconfirmed region (one family) is hidden as head and hair: a black mask over its centre on every frame.
    for frame in iter_frames(tmp_path / "out.mp4"):
        centre = frame.image[50:70, 50:70].astype(int)
        assert centre.mean() < 20, frame.index
    assert report.boxes_interpolated == 28 and report.boxes_held == 4
