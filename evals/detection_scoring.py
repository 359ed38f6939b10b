"""Scoring detections against the hand labels of ``evals.detection_set``: matches, recall by flag, precision.

Detectors draw boxes to different conventions (BlazeFace tight on brows to chin, MTCNN taller, Haar square and
larger), so a detection matches a label when IoU >= ``MATCH_IOU`` or when each box holds the other's centre.
Each label matches at most one detection (greedy, best-scoring detection first). A detection that matches no label
is a false alarm unless its centre lies in one of the photo's ``ignore`` regions (a head whose face is not visible).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from evals.detection_set import FLAGS, LabelledPhoto
from tools.faces.types import Box, Face

MATCH_IOU = 0.3


def _inside(point: tuple[float, float], box: Box) -> bool:
    return box.x0 <= point[0] <= box.x1 and box.y0 <= point[1] <= box.y1


def matches(detected: Box, label: Box) -> bool:
    """Whether a detected box stands for the labelled face (see the module docstring)."""
    if detected.iou(label) >= MATCH_IOU:
        return True
    return _inside(detected.center, label) and _inside(label.center, detected)


@dataclass
class PhotoScore:
    """What one detector did on one photo: which labels it found (by index) and how many false alarms."""

    photo_id: str
    found: list[bool]
    flags: list[tuple[str, ...]]
    false_alarms: int
    detections: int
    missed_boxes: list[Box] = field(default_factory=list)


def score_photo(photo: LabelledPhoto, faces: Sequence[Face]) -> PhotoScore:
    """Match ``faces`` (one detector's output on ``photo``) to its labels."""
    found = [False] * len(photo.faces)
    false_alarms = 0
    for face in sorted(faces, key=lambda f: f.score, reverse=True):
        hit = next((i for i, lab in enumerate(photo.faces) if not found[i] and matches(face.box, lab.box)), None)
        if hit is not None:
            found[hit] = True
        elif any(matches(face.box, lab.box) for lab in photo.faces):
            continue  # a second box on a face already found: a duplicate, not a face that is not there
        elif not any(_inside(face.box.center, region) for region in photo.ignore):
            false_alarms += 1
    missed = [lab.box for lab, ok in zip(photo.faces, found, strict=True) if not ok]
    return PhotoScore(photo.photo_id, found, [lab.flags for lab in photo.faces], false_alarms, len(faces), missed)


@dataclass(frozen=True)
class Summary:
    """Recall overall and per flag (found, total), precision, and false alarms over a set of photos."""

    found: int
    faces: int
    false_alarms: int
    by_flag: dict[str, tuple[int, int]]

    @property
    def recall(self) -> float:
        return self.found / self.faces if self.faces else 1.0

    @property
    def precision(self) -> float:
        return self.found / (self.found + self.false_alarms) if self.found + self.false_alarms else 1.0


def summarize(scores: Iterable[PhotoScore]) -> Summary:
    """Totals over photos."""
    found = faces = false_alarms = 0
    by_flag = {flag: [0, 0] for flag in FLAGS}
    for score in scores:
        found += sum(score.found)
        faces += len(score.found)
        false_alarms += score.false_alarms
        for ok, flags in zip(score.found, score.flags, strict=True):
            for flag in flags:
                by_flag[flag][0] += int(ok)
                by_flag[flag][1] += 1
    return Summary(found, faces, false_alarms, {k: (v[0], v[1]) for k, v in by_flag.items()})
