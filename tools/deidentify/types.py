"""The result of de-identifying a file: what was written and what was hidden."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

AudioOutcome = Literal["anonymized", "original", "none"]


@dataclass(frozen=True)
class DeidentifyReport:
    """What ``deidentify_video`` / ``deidentify_image`` did.

    ``faces_hidden`` counts every region hidden over all frames: ``faces_detected`` (found by the detector) plus
    ``boxes_interpolated`` and ``boxes_held`` (filled in by tracking where the detector missed) plus
    ``residual_faces`` (found by searching the hidden output again). ``frames_flagged`` is the number of frames in
    which that search still found something after ``verify_rounds`` rounds (0: the output is clean for our
    detector). ``audio`` says whether the output's audio is the anonymized voice, the original (``voice=False``),
    or absent (no audio in the source). ``duration_s`` is the clip's length; ``elapsed_s`` the processing time.
    """

    input_path: str
    output_path: str
    kind: Literal["image", "video"]
    mode: str
    frames_written: int
    frames_with_faces: int
    faces_hidden: int
    faces_detected: int
    boxes_interpolated: int
    boxes_held: int
    residual_faces: int
    frames_flagged: int
    verify_rounds: int
    tracks: int
    audio: AudioOutcome
    fps: float
    duration_s: float
    elapsed_s: float

    @property
    def audio_anonymized(self) -> bool:
        return self.audio == "anonymized"

    @property
    def frames_per_s(self) -> float:
        return self.frames_written / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["audio_anonymized"] = self.audio_anonymized
        out["fps"] = round(self.fps, 3)
        out["duration_s"] = round(self.duration_s, 3)
        out["elapsed_s"] = round(self.elapsed_s, 3)
        out["frames_per_s"] = round(self.frames_per_s, 2)
        return out
