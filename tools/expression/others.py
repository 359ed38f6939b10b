"""Other people's emotions, per person: SoVTP's third stage (how the people around someone feel, in the same
frames) as evidence, not as a guess from the picture.

For each person (track), every other person seen in at least one of the same frames, with the label of their
mean expression probabilities over the shared frames only: the emotion the person was *with*, not the other's
emotion over the whole file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.types import EmotionAnalysis, EmotionEstimate


@dataclass(frozen=True)
class OtherPersonEmotion:
    """Another person's expression over the frames they share with someone: their track, the label of their mean
    probabilities over those frames, its probability, how many scored frames were shared, and when."""

    track_id: int
    label: str
    probability: float
    shared_frames: int
    start_s: float | None
    end_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "person": self.track_id,
            "label": self.label,
            "probability": round(self.probability, 3),
            "shared_frames": self.shared_frames,
            "start_s": None if self.start_s is None else round(self.start_s, 3),
            "end_s": None if self.end_s is None else round(self.end_s, 3),
        }

    def describe(self) -> str:
        """``#2 Happiness 0.91 (12 shared frames, 0.0-3.2 s)`` in a video; ``#2 Happiness 0.91`` in an image."""
        head = f"#{self.track_id} {self.label} {self.probability:.2f}"
        if self.start_s is None or self.end_s is None:
            return head
        frames = f"{self.shared_frames} shared frame{'s' if self.shared_frames != 1 else ''}"
        return f"{head} ({frames}, {self.start_s:g}-{self.end_s:g} s)"


def _frame_key(estimate: EmotionEstimate) -> int:
    return int(estimate.frame_index or 0)


def others_emotions(analysis: EmotionAnalysis) -> dict[int, list[OtherPersonEmotion]]:
    """``{track_id: [the others' emotions in the frames shared with that person]}``, the others ordered by how
    many frames they share (most first). Only frames where both faces were scored count; in a single image every
    face shares the one frame. A person alone on screen gets an empty list."""
    scored: dict[int, dict[int, EmotionEstimate]] = {
        timeline.track_id: {_frame_key(e): e for e in timeline.estimates if e.probabilities is not None}
        for timeline in analysis.timelines
    }
    out: dict[int, list[OtherPersonEmotion]] = {}
    for person, frames in scored.items():
        others = []
        for other, other_frames in scored.items():
            shared = sorted(set(frames) & set(other_frames)) if other != person else []
            if not shared:
                continue
            rows = np.stack([np.asarray(other_frames[k].probabilities) for k in shared])
            mean = rows.mean(axis=0)
            top = int(np.argmax(mean))
            times = [float(t) for k in shared if (t := other_frames[k].time_s) is not None]
            video = analysis.kind == "video" and bool(times)
            others.append(
                OtherPersonEmotion(
                    other,
                    BASIC_EMOTIONS[top],
                    float(mean[top]),
                    len(shared),
                    min(times) if video else None,
                    max(times) if video else None,
                )
            )
        out[person] = sorted(others, key=lambda o: (-o.shared_frames, o.track_id))
    return out
